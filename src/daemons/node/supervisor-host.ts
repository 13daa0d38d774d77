/**
 * What the node needs of the operating system to run stream supervisors: spawn one (detached, its
 * own process group, stdio to a log file), see whether a pid lives, signal it, and talk to its
 * status socket. The reconciler and the managed supervisor get it injected, so their logic is
 * unit-tested with a fake host (test/unit/daemons/node/); `processHost` is the real one.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { socketRequest } from '../../protocol/socket-http.js';
import { commandLine, isAlive, readPidFile, signal, signalGroup, waitForExit } from '../../protocol/proc.js';
import type { SupervisorStatus } from '../../protocol/supervisor-status.js';

/** A supervisor process this node spawned. */
export interface SpawnedSupervisor {
  pid: number | undefined;
  /** false once it exited */
  running(): boolean;
  onExit(fn: (code: number | null, signal: string | null) => void): void;
  onError(fn: (err: Error) => void): void;
  /** stop listening to it (the node leaves it running) */
  forget(): void;
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

export const processHost: SupervisorHost = {
  async spawn({ specFile, logFile, cwd }) {
    const log = await open(logFile, 'a', 0o600);
    try {
      // Not core/child.ts: a supervisor is detached and outlives the agent, its stdio goes to a log
      // file (no pipes, no stderr tail), and it is stopped by pid through its control socket.
      // FLUX_SUPERVISOR_CPU_PROF=DIR: V8 CPU profiles of supervisors (NODE_OPTIONS refuses --cpu-prof)
      const prof = process.env.FLUX_SUPERVISOR_CPU_PROF;
      const nodeArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`] : [];
      const child = spawn(process.execPath, [...nodeArgs, supervisorBin(), '--spec', specFile], {
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        env: process.env,
        cwd,
      });
      child.unref();
      return {
        pid: child.pid,
        running: () => child.exitCode === null && child.signalCode === null,
        onExit: (fn) => void child.once('exit', (code, sig) => fn(code, sig)),
        onError: (fn) => void child.once('error', fn),
        forget: () => void child.removeAllListeners('exit'),
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
