/**
 * What the node needs of the operating system to run stream supervisors: spawn one (detached, its
 * own process group, stdio to a log file, an IPC channel), see whether a pid lives, signal it, and
 * talk to its status socket. The reconciler and the managed supervisor get it injected, so their logic is
 * unit-tested with a fake host (test/unit/daemons/node/); `processHost` is the real one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { socketRequest } from '../../protocol/socket-http.js';
import { commandLine, isAlive, readPidFile, signal, signalGroup, waitForExit } from '../../protocol/proc.js';
import type { SupervisorStatus } from '../../protocol/supervisor-status.js';
import type { AgentToSupervisor } from '../../protocol/rtmp-handoff.js';

/**
 * The IPC channel to a supervisor this node spawned (protocol/rtmp-handoff.ts): RTMP sockets are
 * handed over on it. A supervisor adopted from a previous node has none (its channel went with
 * that node); it then only has its status socket.
 */
export interface SupervisorChannel {
  readonly connected: boolean;
  /** the supervisor listens for handoffs (it sent rtmp-ready): before that a message could be lost */
  readonly ready: boolean;
  /**
   * Resolves once the message left; a socket given as `handle` is then the supervisor's (this
   * process no longer reads nor closes it). Rejects when the channel is gone: with
   * `handleKept` true when the socket never left (the caller still owns it).
   */
  send(msg: AgentToSupervisor, handle?: net.Socket): Promise<void>;
  /** every message the supervisor sends; returns unsubscribe */
  onMessage(fn: (msg: unknown) => void): () => void;
  /** the channel closed (the supervisor exited, or disconnected); returns unsubscribe */
  onDisconnect(fn: () => void): () => void;
}

/** A send on a channel that was already closed: the handle, if any, is still the caller's. */
export class ChannelClosedError extends Error {
  readonly handleKept = true;
}

/** A supervisor process this node spawned. */
export interface SpawnedSupervisor {
  pid: number | undefined;
  /** false once it exited */
  running(): boolean;
  onExit(fn: (code: number | null, signal: string | null) => void): void;
  onError(fn: (err: Error) => void): void;
  /** stop listening to it (the node leaves it running) */
  forget(): void;
  /** its IPC channel (absent from hosts that spawn without one, e.g. test fakes) */
  channel?: SupervisorChannel;
}

export interface SupervisorHost {
  spawn(opts: { specFile: string; logFile: string; cwd: string }): Promise<SpawnedSupervisor>;
  isAlive(pid: number | undefined): Promise<boolean>;
  /** true when the pid is a Flux supervisor (by its command line) */
  looksLikeSupervisor(pid: number): Promise<boolean>;
  readPid(file: string): Promise<number | undefined>;
  signal(pid: number, sig: NodeJS.Signals): boolean;
  /** the whole process group (a supervisor and its ffmpeg children) */
  signalGroup(pid: number, sig: NodeJS.Signals): boolean;
  waitForExit(pid: number, timeoutMs: number): Promise<boolean>;
  /** GET /status on the supervisor's socket; undefined when it does not answer with a document */
  status(sock: string, timeoutMs: number): Promise<SupervisorStatus | undefined>;
  /** POST to the supervisor's socket (/stop, /restart) */
  post(sock: string, urlPath: string, timeoutMs: number): Promise<{ status: number; text: string; json: unknown }>;
}

/** dist/daemons/node/supervisor-host.js → <package>/bin/flux-stream.js (FLUX_STREAM_BIN overrides). */
export function supervisorBin(): string {
  if (process.env.FLUX_STREAM_BIN) return path.resolve(process.env.FLUX_STREAM_BIN);
  return fileURLToPath(new URL('../../../bin/flux-stream.js', import.meta.url));
}

/** The channel of a child spawned with 'ipc' in its stdio, unreferenced. */
export function supervisorChannel(child: ChildProcess): SupervisorChannel {
  const listeners = new Set<(msg: unknown) => void>();
  const gone = new Set<() => void>();
  let ready = false;
  child.on('message', (msg) => {
    if ((msg as { type?: unknown } | null)?.type === 'rtmp-ready') ready = true;
    for (const fn of listeners) fn(msg);
  });
  child.once('disconnect', () => {
    for (const fn of [...gone]) fn();
    gone.clear();
  });
  // a channel error (EPIPE as the supervisor dies) must not become an uncaught 'error'
  child.on('error', () => {});
  // adding the 'message' listener refs the channel (on the next tick): unref after it
  const unref = () => (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
  unref();
  setImmediate(unref);
  return {
    get connected() {
      return child.connected;
    },
    get ready() {
      return ready && child.connected;
    },
    send: (msg, handle) =>
      new Promise<void>((resolve, reject) => {
        if (!child.connected) {
          reject(new ChannelClosedError('the supervisor has no IPC channel'));
          return;
        }
        child.send(msg, handle, { keepOpen: false }, (err) => (err ? reject(err) : resolve()));
      }),
    onMessage(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    onDisconnect(fn) {
      if (!child.connected) {
        queueMicrotask(fn);
        return () => {};
      }
      gone.add(fn);
      return () => void gone.delete(fn);
    },
  };
}

export const processHost: SupervisorHost = {
  async spawn({ specFile, logFile, cwd }) {
    const log = await open(logFile, 'a', 0o600);
    try {
      // Not core/child.ts: a supervisor is detached and outlives the agent, its stdio goes to a log
      // file (no pipes, no stderr tail), and it is stopped by pid through its control socket.
      // FLUX_SUPERVISOR_CPU_PROF=DIR: V8 CPU profiles of supervisors (NODE_OPTIONS refuses --cpu-prof)
      const prof = process.env.FLUX_SUPERVISOR_CPU_PROF;
      // FLUX_SUPERVISOR_NODE_ARGS: extra node/V8 flags for supervisors (profiling: --perf-basic-prof, --trace-deopt)
      const extra = process.env.FLUX_SUPERVISOR_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      const nodeArgs = [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`] : []), ...extra];
      // The IPC channel carries RTMP sockets to it (protocol/rtmp-handoff.ts). It does not tie
      // the two together: the supervisor goes on when the channel closes (the agent exited), and
      // neither the child nor its channel keeps this process alive.
      const child = spawn(process.execPath, [...nodeArgs, supervisorBin(), '--spec', specFile], {
        detached: true,
        stdio: ['ignore', log.fd, log.fd, 'ipc'],
        serialization: 'json',
        env: process.env,
        cwd,
      });
      child.unref();
      const channel = supervisorChannel(child);
      return {
        pid: child.pid,
        running: () => child.exitCode === null && child.signalCode === null,
        onExit: (fn) => void child.once('exit', (code, sig) => fn(code, sig)),
        onError: (fn) => void child.once('error', fn),
        forget: () => void child.removeAllListeners('exit'),
        channel,
      };
    } finally {
      await log.close();
    }
  },
  isAlive,
  async looksLikeSupervisor(pid) {
    const cmd = await commandLine(pid);
    return !!cmd && (cmd.includes('flux-stream') || cmd.includes(path.basename(supervisorBin())));
  },
  readPid: readPidFile,
  signal,
  signalGroup,
  waitForExit,
  async status(sock, timeoutMs) {
    try {
      const res = await socketRequest(sock, '/status', { timeoutMs });
      if (res.status !== 200 || !res.json || typeof res.json !== 'object') return undefined;
      return res.json as SupervisorStatus;
    } catch {
      return undefined;
    }
  },
  async post(sock, urlPath, timeoutMs) {
    const res = await socketRequest(sock, urlPath, { method: 'POST', timeoutMs });
    return { status: res.status, text: res.text, json: res.json };
  },
};
