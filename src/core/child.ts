/**
 * The one runner of long-running (streaming) child processes: ffmpeg pipelines, push, DVR remux,
 * SRT relays, thumbnails. Short-lived children with captured output go through ./run.ts.
 *
 * What every owner got wrong at least once by hand, done here once:
 *   - argument arrays, never a shell;
 *   - stdio as asked (stdin/stdout pipes, extra output pipes at fd 3, 4, …), stderr always drained
 *     (an undrained stderr pipe blocks ffmpeg) and its tail kept for the error message;
 *   - EPIPE on stdin when the child leaves early is swallowed: the exit tells why;
 *   - a spawn failure (ENOENT, EACCES) is an exit like any other, with `spawnError`;
 *   - `exited` resolves on 'close', after the stdio pipes drained: every output byte is delivered first;
 *   - stop(): end stdin, SIGTERM (optionally after a delay, to let the child finish on EOF), SIGKILL
 *     after a grace.
 */
import { spawn, type ChildProcess, type StdioPipe } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface ChildOptions {
  /** open a stdin pipe (else stdin is /dev/null) */
  stdin?: boolean;
  /** open a stdout pipe (else stdout is ignored) */
  stdout?: boolean;
  /** extra output pipes, by fd number (3, 4, …) */
  extraFds?: readonly number[];
  /** stderr characters kept (the tail); default 8 KiB */
  stderrTail?: number;
  /** every stderr chunk, as it comes (line splitting is the owner's) */
  onStderr?: (chunk: Buffer) => void;
  env?: NodeJS.ProcessEnv;
}

export interface ChildExitInfo {
  /** exit code; null when killed by a signal or not started */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the spawn failed (ENOENT, EACCES…): the child never ran */
  spawnError: Error | null;
  /** the tail of stderr */
  stderr: string;
  ranMs: number;
  /** stop() was called (a kill() is not a request to stop: a watchdog kills to restart) */
  requested: boolean;
}

export interface StopOptions {
  /** wait this long after ending stdin before SIGTERM (a child finishing on EOF); default 0 */
  termAfterMs?: number;
  /** SIGKILL this long after SIGTERM; default 1 s */
  killAfterMs?: number;
}

const DEFAULT_STDERR_TAIL = 8 * 1024;
const DEFAULT_KILL_GRACE_MS = 1000;

export class Child {
  readonly command: string;
  readonly args: readonly string[];
  readonly startedAt = Date.now();
  /** resolves once the child is gone and its pipes drained (never rejects) */
  readonly exited: Promise<ChildExitInfo>;
  private readonly proc: ChildProcess;
  private done = false;
  private requested = false;
  private stderrText = '';
  private timers: NodeJS.Timeout[] = [];

  constructor(command: string, args: readonly string[], opts: ChildOptions = {}) {
    this.command = command;
    this.args = args;
    const extra = opts.extraFds ?? [];
    const maxFd = Math.max(2, ...extra);
    const stdio: ('pipe' | 'ignore')[] = [];
    for (let fd = 0; fd <= maxFd; fd++) {
      if (fd === 0) stdio.push(opts.stdin ? 'pipe' : 'ignore');
      else if (fd === 1) stdio.push(opts.stdout ? 'pipe' : 'ignore');
      else if (fd === 2) stdio.push('pipe');
      else stdio.push(extra.includes(fd) ? 'pipe' : 'ignore');
    }
    const tailMax = opts.stderrTail ?? DEFAULT_STDERR_TAIL;
    let resolveExit!: (e: ChildExitInfo) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    let spawnError: Error | null = null;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.done) return;
      this.done = true;
      for (const t of this.timers) clearTimeout(t);
      resolveExit({ code: spawnError ? null : code, signal, spawnError, stderr: this.stderrText, ranMs: Date.now() - this.startedAt, requested: this.requested });
    };
    try {
      this.proc = spawn(command, [...args], { stdio: stdio as StdioPipe[], windowsHide: true, env: opts.env ?? process.env });
    } catch (e) {
      // synchronous failures (bad arguments): the same outcome as ENOENT, on the next tick
      spawnError = e as Error;
      this.proc = null as unknown as ChildProcess;
      queueMicrotask(() => finish(null, null));
      return;
    }
    this.proc.on('error', (err) => {
      spawnError ??= err;
      // no 'close' follows when the spawn itself failed
      if (this.proc.pid === undefined) finish(null, null);
    });
    this.proc.on('close', (code, signal) => finish(code, signal));
    this.proc.stderr!.on('data', (chunk: Buffer) => {
      opts.onStderr?.(chunk);
      if (tailMax > 0) {
        this.stderrText += chunk.toString('utf8');
        if (this.stderrText.length > tailMax) this.stderrText = this.stderrText.slice(-tailMax);
      }
    });
    for (const s of this.proc.stdio) (s as Readable | Writable | null)?.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** stdin pipe (opts.stdin), null otherwise or when the spawn failed */
  get stdin(): Writable | null {
    return (this.proc?.stdin as Writable | null) ?? null;
  }

  /** stdout pipe (opts.stdout), null otherwise */
  get stdout(): Readable | null {
    return (this.proc?.stdout as Readable | null) ?? null;
  }

  /** an output pipe by fd (1 or one of extraFds) */
  output(fd: number): Readable | null {
    return (this.proc?.stdio[fd] as Readable | null | undefined) ?? null;
  }

  /** the tail of stderr so far */
  get stderr(): string {
    return this.stderrText;
  }

  /** End stdin, SIGTERM (after `termAfterMs`), SIGKILL `killAfterMs` later; resolves when it is gone. */
  stop(opts: StopOptions = {}): Promise<ChildExitInfo> {
    if (this.done) return this.exited;
    this.requested = true;
    try {
      this.proc.stdin?.end();
    } catch {
      /* already closed */
    }
    const termAfter = opts.termAfterMs ?? 0;
    const killAfter = termAfter + (opts.killAfterMs ?? DEFAULT_KILL_GRACE_MS);
    if (termAfter <= 0) this.proc.kill('SIGTERM');
    else this.timer(termAfter, 'SIGTERM');
    this.timer(killAfter, 'SIGKILL');
    return this.exited;
  }

  /** Signal it now (default SIGKILL); a no-op once it is gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.done) return;
    this.proc.kill(signal);
  }

  private timer(ms: number, signal: NodeJS.Signals): void {
    const t = setTimeout(() => {
      if (!this.done) this.proc.kill(signal);
    }, ms);
    t.unref();
    this.timers.push(t);
  }
}

/** One line for an exit: `exited with code N` / `killed by SIG…` / `cannot run X: …` (no stderr). */
export function describeChildExit(e: ChildExitInfo, command: string): string {
  if (e.spawnError) return `cannot run ${command}: ${e.spawnError.message}`;
  return e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
}

/** The last non-empty stderr line, or '' . */
export function lastStderrLine(stderr: string): string {
  return stderr.trim().split('\n').pop()?.trim() ?? '';
}
