/**
 * One stream's supervisor process as the node manages it: spawn (through the injected host), watch
 * (pid every poll, the status socket less often), restart when it dies (the first death in a while
 * at once, quick deaths after it with backoff), kill it when it stops answering, stop it gracefully.
 * The set of supervisors (which streams run, adoption, orphans) is the reconciler's (supervisors.ts).
 */
import { writeFileAtomic } from '../../core/atomic-write.js';
import { Backoff } from '../../core/backoff.js';
import type { Logger } from '../../core/logger.js';
import type { ResolvedStream } from '../../config/model.js';
import { unlinkQuiet } from '../../protocol/proc.js';
import type { SupervisorStatus } from '../../protocol/supervisor-status.js';
import type { SpawnedSupervisor, SupervisorChannel, SupervisorHost } from './supervisor-host.js';

export interface NodeEvent {
  at: number;
  type: 'supervisor_start' | 'supervisor_exit' | 'supervisor_restart' | 'supervisor_adopt' | 'supervisor_unresponsive';
  reason?: string;
}

/**
 * The node's view of a supervisor process it manages (spawned, running, waiting to respawn, being stopped).
 * Not the supervisor's own state (protocol/supervisor-status.ts SupervisorState), which says how its media is.
 */
export type ProcessState = 'starting' | 'running' | 'backoff' | 'stopping';

export interface SupervisorView {
  name: string;
  pid: number | undefined;
  state: ProcessState;
  specHash: string;
  adopted: boolean;
  /** restarts of the supervisor process by the node (not ffmpeg restarts) */
  restarts: number;
  spawnedAt: number;
  status: SupervisorStatus | undefined;
  statusAt: number | undefined;
  events: NodeEvent[];
  lastExit?: { code: number | null; signal: string | null; at: number };
}

export interface SupervisorPaths {
  spec: string;
  sock: string;
  pid: string;
  log: string;
}

export const UNRESPONSIVE_MS = 15_000;
/** a healthy supervisor's status is fetched this often (its pid is checked every poll, ~1 s) */
export const STATUS_EVERY_MS = Number(process.env.FLUX_STATUS_POLL_MS) || 3000;
/** a supervisor that ran this long was healthy: its next death restarts it at once */
export const HEALTHY_AFTER_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const MAX_EVENTS = 20;
const STOP_GRACE_MS = 10_000;

export interface ManagedContext {
  host: SupervisorHost;
  logger: Logger;
  paths: SupervisorPaths;
  /** the supervisor's working directory */
  cwd: string;
  /** the spec file's document, written before each spawn */
  spec(m: ManagedSupervisor): unknown;
  /** false once the node closed, or this stream was dropped or replaced: nothing may be spawned for it then */
  current(m: ManagedSupervisor): boolean;
  now?: () => number;
}

/** Graceful stop of a supervisor pid: POST /stop (SIGTERM if the socket does not answer), SIGKILL of its group after 10 s. */
export async function stopSupervisorPid(host: SupervisorHost, logger: Logger, pid: number, sock: string, graceMs = STOP_GRACE_MS): Promise<void> {
  let asked = false;
  try {
    asked = (await host.post(sock, '/stop', 2000)).status < 300;
  } catch {
    /* fall back to a signal */
  }
  if (!asked) host.signal(pid, 'SIGTERM');
  if (!(await host.waitForExit(pid, graceMs))) {
    logger.warn({ pid }, `supervisor did not stop within ${graceMs / 1000} s: SIGKILL`);
    host.signalGroup(pid, 'SIGKILL');
    await host.waitForExit(pid, 2000);
  }
  // any child left in its process group
  host.signalGroup(pid, 'SIGKILL');
}

export class ManagedSupervisor implements SupervisorView {
  pid: number | undefined = undefined;
  state: ProcessState = 'starting';
  adopted = false;
  restarts = 0;
  spawnedAt: number;
  status: SupervisorStatus | undefined = undefined;
  statusAt: number | undefined = undefined;
  events: NodeEvent[] = [];
  lastExit?: { code: number | null; signal: string | null; at: number };
  private proc: SpawnedSupervisor | undefined;
  private lastOkAt = 0;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: MAX_BACKOFF_MS, resetAfterMs: HEALTHY_AFTER_MS, immediateFirst: true });
  private nextStartAt = 0;
  private checking = false;
  private readonly now: () => number;

  constructor(
    readonly name: string,
    public stream: ResolvedStream,
    readonly specHash: string,
    private readonly ctx: ManagedContext,
  ) {
    this.now = ctx.now ?? Date.now;
    this.spawnedAt = this.now();
  }

  /** Take over a supervisor left running by a previous node (same spec, answering on its socket). */
  adopt(pid: number, st: SupervisorStatus): void {
    this.pid = pid;
    this.adopted = true;
    this.state = 'running';
    this.status = st;
    this.statusAt = this.lastOkAt = this.now();
    this.spawnedAt = st.startedAt || this.now();
    this.event({ at: this.now(), type: 'supervisor_adopt', reason: `pid ${pid}` });
  }

  async spawn(): Promise<void> {
    const { ctx } = this;
    if (this.state === 'stopping' || !ctx.current(this)) return;
    const p = ctx.paths;
    await unlinkQuiet(p.sock);
    await unlinkQuiet(p.pid);
    await writeFileAtomic(p.spec, JSON.stringify(ctx.spec(this), null, 2) + '\n', { mode: 0o600 });
    // a node stop (or a reload that dropped the stream) may have come during the awaits above:
    // spawning now would leave a supervisor nobody stops
    if ((this.state as ProcessState) === 'stopping' || !ctx.current(this)) return;
    const proc = await ctx.host.spawn({ specFile: p.spec, logFile: p.log, cwd: ctx.cwd });
    this.proc = proc;
    this.pid = proc.pid;
    // stopped while spawning: the stop saw no pid, so this one goes now
    if ((this.state as ProcessState) === 'stopping' || !ctx.current(this)) {
      if (proc.pid) ctx.host.signalGroup(proc.pid, 'SIGKILL');
      return;
    }
    this.state = 'starting';
    this.spawnedAt = this.now();
    this.adopted = false;
    this.status = undefined;
    this.statusAt = undefined;
    this.event({ at: this.spawnedAt, type: 'supervisor_start', reason: `pid ${proc.pid}` });
    proc.onError((err) => ctx.logger.error({ stream: this.name, err: err.message }, 'supervisor spawn failed'));
    proc.onExit((code, sig) => {
      if (this.proc !== proc) return;
      this.lastExit = { code, signal: sig, at: this.now() };
      if (this.state !== 'stopping') void this.check();
    });
    ctx.logger.info({ stream: this.name, supervisorPid: proc.pid, spec: p.spec }, 'supervisor started');
  }

  /** One poll: respawn when its backoff is over, notice a death, refresh the status, kill it when it stopped answering. */
  async check(): Promise<void> {
    const { ctx } = this;
    if (this.checking || this.state === 'stopping' || !ctx.current(this)) return;
    this.checking = true;
    try {
      if (this.state === 'backoff') {
        if (this.now() >= this.nextStartAt) await this.spawn();
        return;
      }
      // a child of ours reports its exit (event); an adopted one is checked by pid (+ /proc state)
      const alive = this.proc ? this.proc.running() : await ctx.host.isAlive(this.pid);
      if (!alive) {
        await this.handleDeath(this.lastExit ? `exited (code ${this.lastExit.code}, signal ${this.lastExit.signal})` : 'process gone');
        return;
      }
      // liveness is the pid (above, every poll); the status document is refreshed less often for a
      // healthy supervisor (API reads of one stream fetch it fresh)
      if (this.state === 'running' && this.statusAt && this.now() - this.statusAt < STATUS_EVERY_MS - 100) return;
      const st = await ctx.host.status(ctx.paths.sock, 900);
      if (!ctx.current(this) || (this.state as ProcessState) === 'stopping') return;
      const now = this.now();
      if (st) {
        this.status = st;
        this.statusAt = this.lastOkAt = now;
        this.state = 'running';
        if (now - this.spawnedAt > HEALTHY_AFTER_MS) this.backoff.reset();
      } else if (now - Math.max(this.lastOkAt, this.spawnedAt) > UNRESPONSIVE_MS) {
        ctx.logger.warn({ stream: this.name, pid: this.pid }, 'supervisor does not answer: killing it');
        this.event({ at: now, type: 'supervisor_unresponsive' });
        if (this.pid) ctx.host.signalGroup(this.pid, 'SIGKILL');
        await this.handleDeath('unresponsive');
      }
    } finally {
      this.checking = false;
    }
  }

  private async handleDeath(reason: string): Promise<void> {
    const { ctx } = this;
    // a stream being stopped or replaced meanwhile: nothing to restart
    if (this.state === 'stopping' || !ctx.current(this)) return;
    const now = this.now();
    const oldPid = this.pid;
    // leftovers of the dead supervisor's group (its ffmpeg children) go with it
    if (oldPid) ctx.host.signalGroup(oldPid, 'SIGKILL');
    this.restarts++;
    const delay = this.backoff.afterRun(now - this.spawnedAt);
    this.event({ at: now, type: 'supervisor_exit', reason });
    this.event({ at: now, type: 'supervisor_restart', reason: delay ? `in ${delay} ms` : 'now' });
    ctx.logger.warn({ stream: this.name, pid: oldPid, reason, restarts: this.restarts, delayMs: delay }, 'supervisor died: restarting');
    this.proc = undefined;
    this.pid = undefined;
    this.status = undefined;
    if (delay === 0) await this.spawn();
    else {
      this.state = 'backoff';
      this.nextStartAt = now + delay;
    }
  }

  /** Stop it (graceful, then SIGKILL) and remove its run files; the spec file too when the stream is gone. */
  async stop(removeSpec: boolean): Promise<void> {
    const { ctx } = this;
    this.state = 'stopping';
    const p = ctx.paths;
    if (this.pid && (await ctx.host.isAlive(this.pid))) await stopSupervisorPid(ctx.host, ctx.logger, this.pid, p.sock);
    await unlinkQuiet(p.sock);
    await unlinkQuiet(p.pid);
    if (removeSpec) await unlinkQuiet(p.spec);
    ctx.logger.info({ stream: this.name, pid: this.pid }, 'supervisor stopped');
  }

  /** The status asked now (the last polled one when it is under 300 ms old, or when it does not answer). */
  async freshStatus(timeoutMs: number): Promise<SupervisorStatus | undefined> {
    if (this.statusAt && this.now() - this.statusAt < 300) return this.status;
    const st = await this.ctx.host.status(this.ctx.paths.sock, timeoutMs);
    if (st) {
      this.status = st;
      this.statusAt = this.lastOkAt = this.now();
    }
    return this.status;
  }

  /**
   * The IPC channel of the supervisor process this node spawned, once it takes handoffs and while
   * it is open; undefined for an adopted one (spawned by a previous node) and while none runs.
   */
  channel(): SupervisorChannel | undefined {
    const ch = this.proc?.channel;
    return ch?.ready && this.state !== 'stopping' ? ch : undefined;
  }

  /** Leave the process running and stop listening to it (node stop --keep-streams). */
  forget(): void {
    this.proc?.forget();
  }

  view(): SupervisorView {
    return {
      name: this.name,
      pid: this.pid,
      state: this.state,
      specHash: this.specHash,
      adopted: this.adopted,
      restarts: this.restarts,
      spawnedAt: this.spawnedAt,
      status: this.status,
      statusAt: this.statusAt,
      events: this.events,
      lastExit: this.lastExit,
    };
  }

  private event(e: NodeEvent): void {
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }
}
