/**
 * The reconciler of stream supervisors: one supervisor daemon per configured (enabled) stream.
 * reconcile() makes the running set match the config (start what is missing, restart what changed,
 * stop what is gone), re-adopting supervisors left running by a previous node (same pid, socket
 * answers, same specHash) and stopping orphans; each supervisor's own lifecycle (spawn, watch,
 * restart with backoff, stop) is a ManagedSupervisor (managed-supervisor.ts). Processes and sockets
 * go through an injected SupervisorHost (supervisor-host.ts), so both are unit-tested with a fake one.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { streamFileName } from '../../core/paths.js';
import type { ResolvedServer, ResolvedStream } from '../../config/model.js';
import { unlinkQuiet } from '../../protocol/proc.js';
import type { SupervisorStatus } from '../../protocol/supervisor-status.js';
import { ManagedSupervisor, stopSupervisorPid, type SupervisorPaths, type SupervisorView } from './managed-supervisor.js';
import { processHost, type SupervisorChannel, type SupervisorHost } from './supervisor-host.js';

export type { SupervisorStatus };
export type { NodeEvent, ProcessState, SupervisorPaths, SupervisorView } from './managed-supervisor.js';
export { supervisorBin } from './supervisor-host.js';

export function specHash(stream: ResolvedStream): string {
  return createHash('sha256').update(JSON.stringify(stream)).digest('hex');
}

export interface SupervisorManagerOptions {
  runDir: string;
  logDir?: string;
  server: ResolvedServer;
  ffmpeg: string;
  logger: Logger;
  pollMs?: number;
  /** processes and sockets (default: the real ones) */
  host?: SupervisorHost;
  /** clock (tests) */
  now?: () => number;
}

export interface ReconcileResult {
  started: string[];
  stopped: string[];
  restarted: string[];
  adopted: string[];
  unchanged: string[];
}

export class SupervisorManager {
  private managed = new Map<string, ManagedSupervisor>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly streamsDir: string;
  private server: ResolvedServer;
  private ffmpeg: string;
  private readonly logger: Logger;
  private readonly logDir: string | undefined;
  private readonly host: SupervisorHost;

  constructor(private readonly opts: SupervisorManagerOptions) {
    this.streamsDir = path.join(opts.runDir, 'streams');
    this.server = opts.server;
    this.ffmpeg = opts.ffmpeg;
    this.logger = opts.logger;
    this.logDir = opts.logDir;
    this.host = opts.host ?? processHost;
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
    return this.managed.get(name)?.view();
  }

  /** The IPC channel of a stream's supervisor (RTMP handoff), when it has an open one. */
  channel(name: string): SupervisorChannel | undefined {
    return this.managed.get(name)?.channel();
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
          const pid = await this.host.readPid(pidFile);
          if (pid && (await this.host.isAlive(pid)) && (await this.isSupervisor(pid, sock))) {
            this.logger.info({ file: f, pid }, 'stopping a supervisor of a stream that is no longer configured');
            await stopSupervisorPid(this.host, this.logger, pid, sock);
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
    // A supervisor still starting (or being restarted) has no socket yet: wait for it rather than
    // answer 500 ENOENT to a restart that arrives a moment too early.
    const until = Date.now() + 10_000;
    while (m.state !== 'running' && m.state !== 'stopping' && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const res = await this.host.post(this.paths(name).sock, '/restart', 5000);
    if (res.status >= 300) throw new Error(`supervisor answered ${res.status}: ${res.text.slice(0, 200)}`);
    return res.json;
  }

  /** Fresh status of one supervisor (falls back to the last polled one). */
  async freshStatus(name: string, timeoutMs = 1000): Promise<SupervisorStatus | undefined> {
    return this.managed.get(name)?.freshStatus(timeoutMs);
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
    for (const m of this.managed.values()) m.forget();
    this.managed.clear();
  }

  // ----------------------------------------------------------------------------------------------

  private newManaged(name: string, stream: ResolvedStream, hash: string): ManagedSupervisor {
    return new ManagedSupervisor(name, stream, hash, {
      host: this.host,
      logger: this.logger,
      paths: this.paths(name),
      cwd: this.opts.runDir,
      spec: (m) => ({ stream: m.stream, server: this.server, specHash: m.specHash, ffmpeg: this.ffmpeg }),
      current: (m) => !this.closed && this.managed.get(m.name) === m,
      now: this.opts.now,
    });
  }

  private async adoptOrStart(name: string, stream: ResolvedStream, hash: string): Promise<boolean> {
    const p = this.paths(name);
    const pid = await this.host.readPid(p.pid);
    if (pid && (await this.host.isAlive(pid))) {
      const st = await this.host.status(p.sock, 1500);
      if (st && st.pid === pid) {
        if (st.specHash === hash) {
          const m = this.newManaged(name, stream, hash);
          m.adopt(pid, st);
          this.managed.set(name, m);
          this.logger.info({ stream: name, pid }, 'adopted a running supervisor');
          return true;
        }
        this.logger.info({ stream: name, pid }, 'running supervisor has an outdated spec: replacing it');
        await stopSupervisorPid(this.host, this.logger, pid, p.sock);
      } else if (await this.host.looksLikeSupervisor(pid)) {
        this.logger.warn({ stream: name, pid }, 'supervisor does not answer on its socket: killing it');
        this.host.signalGroup(pid, 'SIGKILL');
        await this.host.waitForExit(pid, 2000);
      } else {
        this.logger.info({ stream: name, pid }, 'stale supervisor pid file (process is something else): cleaning');
      }
    }
    await this.startNew(name, stream, hash);
    return false;
  }

  private async startNew(name: string, stream: ResolvedStream, hash: string): Promise<void> {
    const m = this.newManaged(name, stream, hash);
    this.managed.set(name, m);
    await m.spawn();
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.managed.values()].map((m) => m.check()));
  }

  private async stopOne(m: ManagedSupervisor, removeSpec: boolean): Promise<void> {
    // seen as 'stopping' while it stops; a spawn in flight for it gives up (or kills what it started)
    await m.stop(removeSpec);
    if (this.managed.get(m.name) === m) this.managed.delete(m.name);
  }

  private async isSupervisor(pid: number, sock: string): Promise<boolean> {
    const st = await this.host.status(sock, 1000);
    if (st && st.pid === pid) return true;
    return this.host.looksLikeSupervisor(pid);
  }
}
