/**
 * The agent's side of server.http_workers: N playback worker processes
 * (src/daemons/playback-worker/main.ts) that accept on the agent's own plain-HTTP port and serve
 * the live HLS of unprotected local streams from memory, on every core.
 *
 *  - Each worker is forked with an IPC channel and, once it says it listens for messages, gets the
 *    listening net.Server as a handle; the agent keeps accepting on it too (the kernel hands each
 *    connection to one of the processes).
 *  - The routing table (which streams a worker may serve itself, every stream name, the viewers an
 *    operator killed) is sent at start, whenever it changes (checked every second and after each
 *    config apply) and at once when asked (sync()).
 *  - What a worker does not serve reaches the agent on an internal Unix socket (<run>/playback.sock,
 *    mode 0600) that runs the HTTP port's handler with the client's address
 *    (listeners.ts createInternalServer).
 *  - A worker that dies is started again with the one backoff (core/backoff.ts: at once the first
 *    time, then 0.5 s, 1 s … 30 s); stop() ends them all; a worker exits by itself when the agent's
 *    IPC channel goes, so none outlives a crashed agent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Backoff } from '../../core/backoff.js';
import type { Logger } from '../../core/logger.js';
import { unlinkQuiet } from '../../protocol/proc.js';
import type { AgentToWorker, WorkerToAgent } from '../../protocol/playback-worker.js';
import { closeServer, createInternalServer, listenSocket, type RequestHandler } from './listeners.js';

export type RoutesDoc = Omit<Extract<AgentToWorker, { type: 'routes' }>, 'type'>;
export type UsageReport = Extract<WorkerToAgent, { type: 'usage' }>;

export interface PlaybackWorkersOptions {
  /** the agent's listening plain-HTTP server (shared with the workers) */
  listener: Server;
  /** the internal socket the workers pass requests to */
  socketPath: string;
  /** the HTTP port's request handler (run for the requests workers pass on) */
  handler: RequestHandler;
  logger: Logger;
  logLevel: () => string;
  routes: () => RoutesDoc;
  onUsage: (u: UsageReport, worker: number) => void;
  /** the worker's entry (default: the bundled dist/bundle/playback-worker.js, or the .ts source under tsx) */
  script?: string;
}

interface Slot {
  index: number;
  child: ChildProcess | undefined;
  ready: boolean;
  startedAt: number;
  backoff: Backoff;
  timer: NodeJS.Timeout | undefined;
  stopping: boolean;
}

const PINO_LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** The worker's entry next to this module: source under tsx, else the bundle (else tsc's output). */
export async function playbackWorkerScript(): Promise<{ script: string; execArgv: string[] }> {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { script: fileURLToPath(new URL('../playback-worker/main.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
  const bundled = fileURLToPath(new URL('../../bundle/playback-worker.js', import.meta.url));
  try {
    await access(bundled);
    return { script: bundled, execArgv: [] };
  } catch {
    return { script: fileURLToPath(new URL('../playback-worker/main.js', import.meta.url)), execArgv: [] };
  }
}

export class PlaybackWorkers {
  private slots: Slot[] = [];
  private internal: Server | undefined;
  private entry: { script: string; execArgv: string[] } | undefined;
  private lastRoutes = '';
  private syncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** since start: requests the workers answered / passed to the agent, worker restarts */
  readonly totals = { served: 0, proxied: 0, restarts: 0 };

  constructor(private readonly opts: PlaybackWorkersOptions) {}

  async start(count: number): Promise<void> {
    this.entry = this.opts.script ? { script: this.opts.script, execArgv: /\.[mc]?ts$/.test(this.opts.script) ? ['--import', 'tsx'] : [] } : await playbackWorkerScript();
    this.internal = createInternalServer(this.opts.handler);
    await listenSocket(this.internal, this.opts.socketPath);
    this.syncTimer = setInterval(() => this.sync(), 1000);
    this.syncTimer.unref();
    this.resize(count);
  }

  get count(): number {
    return this.slots.length;
  }

  /** pids of the running workers, by index */
  pids(): (number | undefined)[] {
    return this.slots.map((s) => s.child?.pid);
  }

  readyCount(): number {
    return this.slots.filter((s) => s.ready).length;
  }

  /** Grow or shrink to `count` workers (a config reload). */
  resize(count: number): void {
    if (this.stopped) return;
    while (this.slots.length < count) {
      const slot: Slot = { index: this.slots.length, child: undefined, ready: false, startedAt: 0, backoff: new Backoff({ immediateFirst: true }), timer: undefined, stopping: false };
      this.slots.push(slot);
      this.spawn(slot);
    }
    while (this.slots.length > count) void this.stopSlot(this.slots.pop()!);
  }

  /** Send the routing table to every worker when it changed (or always with force). */
  sync(force = false): void {
    if (this.stopped || this.slots.length === 0) return;
    const doc = this.opts.routes();
    const json = JSON.stringify(doc);
    if (!force && json === this.lastRoutes) return;
    this.lastRoutes = json;
    const msg: AgentToWorker = { type: 'routes', ...doc };
    for (const s of this.slots) this.send(s, msg);
  }

  private send(slot: Slot, msg: AgentToWorker): void {
    const c = slot.child;
    if (c?.connected) c.send(msg, undefined, undefined, () => undefined);
  }

  private spawn(slot: Slot): void {
    slot.timer = undefined;
    if (this.stopped || slot.stopping) return;
    const log = this.opts.logger;
    const entry = this.entry!;
    const child = fork(entry.script, ['--index', String(slot.index), '--socket', this.opts.socketPath, '--log-level', this.opts.logLevel()], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: entry.execArgv,
      serialization: 'json',
    });
    slot.child = child;
    slot.ready = false;
    slot.startedAt = Date.now();
    child.on('message', (raw) => {
      const m = raw as WorkerToAgent;
      if (m.type === 'usage') {
        this.totals.served += m.served;
        this.totals.proxied += m.proxied;
        this.opts.onUsage(m, slot.index);
      } else if (m.type === 'started') {
        // the listening socket itself: the worker accepts on it alongside the agent
        child.send({ type: 'listen' } satisfies AgentToWorker, this.opts.listener, undefined, (err) => {
          if (err) log.error({ worker: slot.index, err: err.message }, 'could not hand the HTTP listener to a playback worker');
        });
        this.send(slot, { type: 'routes', ...this.opts.routes() });
      } else if (m.type === 'ready') {
        slot.ready = true;
        log.debug({ worker: slot.index, pid: child.pid }, 'playback worker accepting');
      } else if (m.type === 'log') this.relayLog(m.line, slot.index);
    });
    child.on('error', (err) => log.error({ worker: slot.index, err: err.message }, 'playback worker error'));
    child.once('exit', (code, signal) => {
      if (slot.child === child) {
        slot.child = undefined;
        slot.ready = false;
      }
      if (this.stopped || slot.stopping) return;
      const delay = slot.backoff.afterRun(Date.now() - slot.startedAt);
      this.totals.restarts++;
      log.warn({ worker: slot.index, pid: child.pid, code, signal, restartInMs: delay }, 'playback worker exited: restarting it');
      slot.timer = setTimeout(() => this.spawn(slot), delay);
      slot.timer.unref();
    });
  }

  private relayLog(line: string, index: number): void {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const level = PINO_LEVELS[Number(o.level)] ?? 'info';
    const msg = typeof o.msg === 'string' ? o.msg : 'playback worker';
    for (const k of ['level', 'time', 'pid', 'hostname', 'msg']) delete o[k];
    this.opts.logger[level]({ part: 'playback-worker', ...o, worker: index }, msg);
  }

  private async stopSlot(slot: Slot): Promise<void> {
    slot.stopping = true;
    if (slot.timer) clearTimeout(slot.timer);
    const c = slot.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    this.send(slot, { type: 'stop' });
    const t = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }

  /** Stop every worker (they finish what they serve, 2 s at most) and the internal socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => this.stopSlot(s)));
    if (this.internal) {
      await closeServer(this.internal);
      await unlinkQuiet(this.opts.socketPath);
    }
  }
}
