/**
 * One stream supervisor daemon per configured stream: spawn (detached, own session, stdio to a log
 * file), watch (pid + status socket every second), restart when it dies (counted, with backoff when
 * it keeps dying), re-adopt supervisors left running by a previous node (same pid, socket answers,
 * same specHash), stop gracefully.
 */
import { writeFileAtomic } from '../../core/atomic-write.js';
import { Backoff } from '../../core/backoff.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.js';
import { streamFileName } from '../../core/paths.js';
import type { ResolvedServer, ResolvedStream } from '../../config/model.js';
import { socketRequest } from '../../protocol/socket-http.js';
import { commandLine, isAlive, readPidFile, signal, signalGroup, sleep, unlinkQuiet, waitForExit } from '../../protocol/proc.js';

/** What a supervisor answers on GET /status: the supervisor's own type (type-only import, no runtime coupling). */
import type { SupervisorStatus } from '../../protocol/supervisor-status.js';
export type { SupervisorStatus };

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

interface Managed extends SupervisorView {
  stream: ResolvedStream;
  child?: ChildProcess;
  lastOkAt: number;
  /** restart delays: the first death in a while restarts at once, quick deaths after it back off */
  backoff: Backoff;
  nextStartAt: number;
  checking: boolean;
}

export interface SupervisorPaths {
  spec: string;
  sock: string;
  pid: string;
  log: string;
}

export function specHash(stream: ResolvedStream): string {
  return createHash('sha256').update(JSON.stringify(stream)).digest('hex');
}

/** dist/daemons/node/supervisors.js → <package>/bin/flux-stream.js (FLUX_STREAM_BIN overrides). */
export function supervisorBin(): string {
  if (process.env.FLUX_STREAM_BIN) return path.resolve(process.env.FLUX_STREAM_BIN);
  return fileURLToPath(new URL('../../../bin/flux-stream.js', import.meta.url));
}

const UNRESPONSIVE_MS = 15_000;
/** a healthy supervisor's status is fetched this often (its pid is checked every poll, ~1 s) */
const STATUS_EVERY_MS = Number(process.env.FLUX_STATUS_POLL_MS) || 3000;
const HEALTHY_AFTER_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const MAX_EVENTS = 20;

export interface SupervisorManagerOptions {
  runDir: string;
  logDir?: string;
  server: ResolvedServer;
  ffmpeg: string;
  logger: Logger;
  pollMs?: number;
}

export interface ReconcileResult {
  started: string[];
  stopped: string[];
  restarted: string[];
  adopted: string[];
  unchanged: string[];
}

export class SupervisorManager {
  private managed = new Map<string, Managed>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly streamsDir: string;
  private server: ResolvedServer;
  private ffmpeg: string;
  private readonly logger: Logger;
  private readonly logDir: string | undefined;

  constructor(private readonly opts: SupervisorManagerOptions) {
    this.streamsDir = path.join(opts.runDir, 'streams');
    this.server = opts.server;
    this.ffmpeg = opts.ffmpeg;
    this.logger = opts.logger;
    this.logDir = opts.logDir;
  }

  paths(name: string): SupervisorPaths {
    const f = streamFileName(name);
    return {
      spec: path.join(this.streamsDir, `${f}.json`),
      sock: path.join(this.streamsDir, `${f}.sock`),
      pid: path.join(this.streamsDir, `${f}.pid`),
      log: path.join(this.logDir ?? this.streamsDir, `${f}.log`),
    };
  }

  setServer(server: ResolvedServer, ffmpeg: string): void {
    this.server = server;
    this.ffmpeg = ffmpeg;
  }

  get(name: string): SupervisorView | undefined {
    const m = this.managed.get(name);
    return m && view(m);
  }

  names(): string[] {
    return [...this.managed.keys()];
  }

  startPolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Make the running set match `desired` (disabled streams excluded by the caller): adopt what runs
   * with the same spec, start what is missing, restart what changed, stop what is gone. On the first
   * call, supervisors left by a previous node are adopted or stopped.
   */
  async reconcile(desired: Record<string, ResolvedStream>): Promise<ReconcileResult> {
    await mkdir(this.streamsDir, { recursive: true, mode: 0o700 });
    if (this.logDir) await mkdir(this.logDir, { recursive: true });
    const r: ReconcileResult = { started: [], stopped: [], restarted: [], adopted: [], unchanged: [] };
    const jobs: Promise<void>[] = [];
    for (const [name, m] of this.managed) {
      if (!desired[name]) {
        jobs.push(this.stopOne(m, true).then(() => void r.stopped.push(name)));
      }
    }
    for (const [name, stream] of Object.entries(desired)) {
      const hash = specHash(stream);
      const m = this.managed.get(name);
      if (m && m.specHash === hash) {
        m.stream = stream;
        r.unchanged.push(name);
        continue;
      }
      if (m) {
        jobs.push(
          (async () => {
            await this.stopOne(m, false);
            await this.startNew(name, stream, hash);
            r.restarted.push(name);
          })(),
        );
      } else {
        jobs.push(
          (async () => {
            const adopted = await this.adoptOrStart(name, stream, hash);
            (adopted ? r.adopted : r.started).push(name);
          })(),
        );
      }
    }
    await Promise.all(jobs);
    for (const k of Object.keys(r) as (keyof ReconcileResult)[]) r[k].sort();
    return r;
  }

  /** Supervisors in the run dir that no configured stream owns (left by a previous config): stop them. */
  async stopOrphans(desired: Record<string, ResolvedStream>): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.streamsDir);
    } catch {
      return [];
    }
    const wanted = new Set(Object.keys(desired).map((n) => streamFileName(n)));
    const stopped: string[] = [];
    await Promise.all(
      entries
        .filter((e) => e.endsWith('.pid') || e.endsWith('.sock'))
        .map((e) => e.replace(/\.(pid|sock)$/, ''))
        .filter((f, i, a) => a.indexOf(f) === i && !wanted.has(f))
        .map(async (f) => {
          const pidFile = path.join(this.streamsDir, `${f}.pid`);
          const sock = path.join(this.streamsDir, `${f}.sock`);
          const pid = await readPidFile(pidFile);
          if (pid && (await isAlive(pid)) && (await this.isSupervisor(pid, sock))) {
            this.logger.info({ file: f, pid }, 'stopping a supervisor of a stream that is no longer configured');
            await this.stopPid(pid, sock);
            stopped.push(decodeURIComponent(f));
          }
          await unlinkQuiet(pidFile);
          await unlinkQuiet(sock);
        }),
    );
    return stopped;
  }

  /** Ask a supervisor to restart its inputs/ffmpeg children. */
  async restartStream(name: string): Promise<unknown> {
    const m = this.managed.get(name);
    if (!m) throw new Error(`stream "${name}" has no supervisor`);
    const res = await socketRequest(this.paths(name).sock, '/restart', { method: 'POST', timeoutMs: 5000 });
    if (res.status >= 300) throw new Error(`supervisor answered ${res.status}: ${res.text.slice(0, 200)}`);
    return res.json;
  }

  /** Fresh status of one supervisor (falls back to the last polled one). */
  async freshStatus(name: string, timeoutMs = 1000): Promise<SupervisorStatus | undefined> {
    const m = this.managed.get(name);
    if (!m) return undefined;
    if (m.statusAt && Date.now() - m.statusAt < 300) return m.status;
    const st = await this.fetchStatus(this.paths(name).sock, timeoutMs);
    if (st) {
      m.status = st;
      m.statusAt = Date.now();
      m.lastOkAt = m.statusAt;
    }
    return m.status;
  }

  /** Stop every supervisor gracefully (node stop). */
  async stopAll(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    await Promise.all([...this.managed.values()].map((m) => this.stopOne(m, true)));
  }

  /** Forget supervisors without stopping them (node stop --keep-streams, or a crash). */
  detachAll(): void {
    this.closed = true;
    this.stopPolling();
    for (const m of this.managed.values()) m.child?.removeAllListeners('exit');
    this.managed.clear();
  }

  // ----------------------------------------------------------------------------------------------

  private async adoptOrStart(name: string, stream: ResolvedStream, hash: string): Promise<boolean> {
    const p = this.paths(name);
    const pid = await readPidFile(p.pid);
    if (pid && (await isAlive(pid))) {
      const st = await this.fetchStatus(p.sock, 1500);
      if (st && st.pid === pid) {
        if (st.specHash === hash) {
          const m = this.newManaged(name, stream, hash);
          m.pid = pid;
          m.adopted = true;
          m.state = 'running';
          m.status = st;
          m.statusAt = m.lastOkAt = Date.now();
          m.spawnedAt = st.startedAt || Date.now();
          pushEvent(m, { at: Date.now(), type: 'supervisor_adopt', reason: `pid ${pid}` });
          this.managed.set(name, m);
          this.logger.info({ stream: name, pid }, 'adopted a running supervisor');
          return true;
        }
        this.logger.info({ stream: name, pid }, 'running supervisor has an outdated spec: replacing it');
        await this.stopPid(pid, p.sock);
      } else if ((await commandLine(pid))?.includes('flux-stream') || (await commandLine(pid))?.includes(path.basename(supervisorBin()))) {
        this.logger.warn({ stream: name, pid }, 'supervisor does not answer on its socket: killing it');
        signalGroup(pid, 'SIGKILL');
        await waitForExit(pid, 2000);
      } else {
        this.logger.info({ stream: name, pid }, 'stale supervisor pid file (process is something else): cleaning');
      }
    }
    await this.startNew(name, stream, hash);
    return false;
  }

  private newManaged(name: string, stream: ResolvedStream, hash: string): Managed {
    return {
      name,
      stream,
      specHash: hash,
      pid: undefined,
      state: 'starting',
      adopted: false,
      restarts: 0,
      spawnedAt: Date.now(),
      status: undefined,
      statusAt: undefined,
      events: [],
      lastOkAt: 0,
      backoff: new Backoff({ initialMs: 500, maxMs: MAX_BACKOFF_MS, resetAfterMs: HEALTHY_AFTER_MS, immediateFirst: true }),
      nextStartAt: 0,
      checking: false,
    };
  }

  private async startNew(name: string, stream: ResolvedStream, hash: string): Promise<void> {
    const m = this.newManaged(name, stream, hash);
    this.managed.set(name, m);
    await this.spawn(m);
  }

  private async spawn(m: Managed): Promise<void> {
    if (this.closed || m.state === 'stopping' || this.managed.get(m.name) !== m) return;
    const p = this.paths(m.name);
    await unlinkQuiet(p.sock);
    await unlinkQuiet(p.pid);
    const spec = { stream: m.stream, server: this.server, specHash: m.specHash, ffmpeg: this.ffmpeg };
    await writeFileAtomic(p.spec, JSON.stringify(spec, null, 2) + '\n', { mode: 0o600 });
    const log = await open(p.log, 'a', 0o600);
    // a node stop (or a reload that dropped the stream) may have come during the awaits above:
    // spawning now would leave a supervisor nobody stops
    if (this.closed || this.managed.get(m.name) !== m) {
      await log.close();
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [supervisorBin(), '--spec', p.spec], {
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        env: process.env,
        cwd: this.opts.runDir,
      });
      // known before the next await, so a stop arriving meanwhile can signal it
      m.child = child;
      m.pid = child.pid;
    } finally {
      await log.close();
    }
    child.unref();
    m.state = 'starting';
    m.spawnedAt = Date.now();
    m.adopted = false;
    m.status = undefined;
    m.statusAt = undefined;
    pushEvent(m, { at: m.spawnedAt, type: 'supervisor_start', reason: `pid ${child.pid}` });
    child.once('error', (err) => this.logger.error({ stream: m.name, err: err.message }, 'supervisor spawn failed'));
    child.once('exit', (code, sig) => {
      if (m.child !== child) return;
      m.lastExit = { code, signal: sig, at: Date.now() };
      if (m.state !== 'stopping') void this.check(m);
    });
    this.logger.info({ stream: m.name, supervisorPid: child.pid, spec: p.spec }, 'supervisor started');
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.managed.values()].map((m) => this.check(m)));
  }

  private async check(m: Managed): Promise<void> {
    if (m.checking || m.state === 'stopping' || this.closed) return;
    m.checking = true;
    try {
      if (m.state === 'backoff') {
        if (Date.now() >= m.nextStartAt) await this.spawn(m);
        return;
      }
      // a child of ours reports its exit (event); an adopted one is checked by pid (+ /proc state)
      const alive = m.child ? m.child.exitCode === null && m.child.signalCode === null : await isAlive(m.pid);
      if (!alive) {
        await this.handleDeath(m, m.lastExit ? `exited (code ${m.lastExit.code}, signal ${m.lastExit.signal})` : 'process gone');
        return;
      }
      // liveness is the pid (above, every poll); the status document is refreshed less often for a
      // healthy supervisor (API reads of one stream fetch it fresh)
      if (m.state === 'running' && m.statusAt && Date.now() - m.statusAt < STATUS_EVERY_MS - 100) return;
      const st = await this.fetchStatus(this.paths(m.name).sock, 900);
      if (this.managed.get(m.name) !== m || (m.state as ProcessState) === 'stopping') return;
      const now = Date.now();
      if (st) {
        m.status = st;
        m.statusAt = m.lastOkAt = now;
        m.state = 'running';
        if (now - m.spawnedAt > HEALTHY_AFTER_MS) m.backoff.reset();
      } else if (now - Math.max(m.lastOkAt, m.spawnedAt) > UNRESPONSIVE_MS) {
        this.logger.warn({ stream: m.name, pid: m.pid }, 'supervisor does not answer: killing it');
        pushEvent(m, { at: now, type: 'supervisor_unresponsive' });
        if (m.pid) signalGroup(m.pid, 'SIGKILL');
        await this.handleDeath(m, 'unresponsive');
      }
    } finally {
      m.checking = false;
    }
  }

  private async handleDeath(m: Managed, reason: string): Promise<void> {
    // a stream being stopped or replaced meanwhile: nothing to restart
    if (this.closed || m.state === 'stopping' || this.managed.get(m.name) !== m) return;
    const now = Date.now();
    const oldPid = m.pid;
    // leftovers of the dead supervisor's group (its ffmpeg children) go with it
    if (oldPid) signalGroup(oldPid, 'SIGKILL');
    m.restarts++;
    const delay = m.backoff.afterRun(now - m.spawnedAt);
    pushEvent(m, { at: now, type: 'supervisor_exit', reason });
    pushEvent(m, { at: now, type: 'supervisor_restart', reason: delay ? `in ${delay} ms` : 'now' });
    this.logger.warn({ stream: m.name, pid: oldPid, reason, restarts: m.restarts, delayMs: delay }, 'supervisor died: restarting');
    m.child = undefined;
    m.pid = undefined;
    m.status = undefined;
    if (delay === 0) await this.spawn(m);
    else {
      m.state = 'backoff';
      m.nextStartAt = now + delay;
    }
  }

  private async stopOne(m: Managed, removeSpec: boolean): Promise<void> {
    m.state = 'stopping';
    const p = this.paths(m.name);
    if (m.pid && (await isAlive(m.pid))) await this.stopPid(m.pid, p.sock);
    if (this.managed.get(m.name) === m) this.managed.delete(m.name);
    await unlinkQuiet(p.sock);
    await unlinkQuiet(p.pid);
    if (removeSpec) await unlinkQuiet(p.spec);
    this.logger.info({ stream: m.name, pid: m.pid }, 'supervisor stopped');
  }

  /** Graceful stop: POST /stop (SIGTERM if the socket does not answer), SIGKILL the group after 10 s. */
  private async stopPid(pid: number, sock: string): Promise<void> {
    let asked = false;
    try {
      const res = await socketRequest(sock, '/stop', { method: 'POST', timeoutMs: 2000 });
      asked = res.status < 300;
    } catch {
      /* fall back to a signal */
    }
    if (!asked) signal(pid, 'SIGTERM');
    if (!(await waitForExit(pid, 10_000))) {
      this.logger.warn({ pid }, 'supervisor did not stop within 10 s: SIGKILL');
      signalGroup(pid, 'SIGKILL');
      await waitForExit(pid, 2000);
    }
    // any child left in its process group
    signalGroup(pid, 'SIGKILL');
    await sleep(0);
  }

  private async isSupervisor(pid: number, sock: string): Promise<boolean> {
    const st = await this.fetchStatus(sock, 1000);
    if (st && st.pid === pid) return true;
    const cmd = await commandLine(pid);
    return !!cmd && (cmd.includes('flux-stream') || cmd.includes(path.basename(supervisorBin())));
  }

  private async fetchStatus(sock: string, timeoutMs: number): Promise<SupervisorStatus | undefined> {
    try {
      const res = await socketRequest(sock, '/status', { timeoutMs });
      if (res.status !== 200 || !res.json || typeof res.json !== 'object') return undefined;
      return res.json as SupervisorStatus;
    } catch {
      return undefined;
    }
  }
}

function pushEvent(m: Managed, e: NodeEvent): void {
  m.events.push(e);
  if (m.events.length > MAX_EVENTS) m.events.splice(0, m.events.length - MAX_EVENTS);
}

function view(m: Managed): SupervisorView {
  return {
    name: m.name,
    pid: m.pid,
    state: m.state,
    specHash: m.specHash,
    adopted: m.adopted,
    restarts: m.restarts,
    spawnedAt: m.spawnedAt,
    status: m.status,
    statusAt: m.statusAt,
    events: m.events,
    lastExit: m.lastExit,
  };
}
