/**
 * One ffmpeg process: argument array (never a shell), stdin optionally fed by us, TS outputs on
 * fd 1 and extra pipes fd 3, 4, …; stderr kept as a tail of lines for `lastError`.
 * No restart logic here: the pipeline decides (capped backoff).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { LineTail, describeExit, summarizeFfmpegError } from './ffmpeg-log.js';

export interface ChildOutput {
  rendition: string;
  fd: number;
}

export interface ChildExit {
  code: number | null;
  signal: string | null;
  /** one-line reason (exit code/signal + the telling stderr line) */
  error: string;
  /** stderr's summarized line alone */
  detail: string | null;
  ranMs: number;
  /** true when we asked it to stop */
  requested: boolean;
}

export interface FfmpegChildOptions {
  command: string;
  args: string[];
  outputs: ChildOutput[];
  /** open a stdin pipe that the caller writes TS into */
  stdin: boolean;
  role: string;
  onOutput: (outputIndex: number, chunk: Buffer) => void;
  onExit: (exit: ChildExit) => void;
  /** stderr lines, already split (for debug logging) */
  onStderrLine?: (line: string) => void;
  /** kill grace after SIGTERM before SIGKILL */
  killGraceMs?: number;
}

/** stdin buffering cap: a stuck ffmpeg must not make us hold unbounded memory */
const STDIN_MAX_BUFFERED = 8 * 1024 * 1024;

export class FfmpegChild {
  readonly args: string[];
  readonly role: string;
  readonly startedAt = Date.now();
  readonly stderr = new LineTail(40);
  private proc: ChildProcess;
  private exited = false;
  private stopRequested = false;
  private exitPromise: Promise<void>;
  private killTimer: NodeJS.Timeout | undefined;
  droppedStdinBytes = 0;

  constructor(private readonly opts: FfmpegChildOptions) {
    this.args = opts.args;
    this.role = opts.role;
    const maxFd = Math.max(2, ...opts.outputs.map((o) => o.fd));
    const stdio: ('pipe' | 'ignore')[] = [];
    for (let fd = 0; fd <= maxFd; fd++) {
      if (fd === 0) stdio.push(opts.stdin ? 'pipe' : 'ignore');
      else if (fd === 2) stdio.push('pipe');
      else stdio.push(opts.outputs.some((o) => o.fd === fd) ? 'pipe' : 'ignore');
    }
    let resolveExit!: () => void;
    this.exitPromise = new Promise((r) => (resolveExit = r));
    this.proc = spawn(opts.command, opts.args, { stdio, windowsHide: true });
    let spawnError: Error | undefined;
    this.proc.on('error', (err) => {
      // ENOENT/EACCES: no 'exit' follows when the spawn itself failed
      spawnError = err;
      if (this.proc.pid === undefined) finish(null, null);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.exited) return;
      this.exited = true;
      clearTimeout(this.killTimer);
      const detail = spawnError ? `${spawnError.message}` : summarizeFfmpegError(this.stderr.all());
      const error = spawnError ? `cannot run ${opts.command}: ${spawnError.message}` : describeExit(code, signal, detail);
      resolveExit();
      opts.onExit({ code, signal, error, detail, ranMs: Date.now() - this.startedAt, requested: this.stopRequested });
    };
    // 'close' waits for the stdio pipes to drain: every output byte is delivered before onExit
    this.proc.on('close', (code, signal) => finish(code, signal));
    opts.outputs.forEach((o, i) => {
      const s = this.proc.stdio[o.fd] as Readable | null;
      s?.on('data', (chunk: Buffer) => opts.onOutput(i, chunk));
      s?.on('error', () => {});
    });
    const err = this.proc.stderr;
    if (err) {
      err.on('data', (chunk: Buffer) => {
        const added = this.stderr.push(chunk);
        if (opts.onStderrLine) for (const l of added) opts.onStderrLine(l);
      });
      err.on('error', () => {});
    }
    (this.proc.stdin as Writable | null)?.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Feed TS to stdin; drops (and counts) when ffmpeg does not keep up. */
  write(chunk: Buffer): void {
    const stdin = this.proc.stdin;
    if (!stdin || this.exited || stdin.destroyed) return;
    if (stdin.writableLength > STDIN_MAX_BUFFERED) {
      this.droppedStdinBytes += chunk.length;
      return;
    }
    stdin.write(chunk);
  }

  /** SIGTERM, then SIGKILL after the grace; resolves when it is gone. */
  stop(): Promise<void> {
    if (this.exited) return this.exitPromise;
    this.stopRequested = true;
    try {
      this.proc.stdin?.end();
    } catch {
      /* ignore */
    }
    this.proc.kill('SIGTERM');
    this.killTimer = setTimeout(() => {
      if (!this.exited) this.proc.kill('SIGKILL');
    }, this.opts.killGraceMs ?? 1000);
    this.killTimer.unref();
    return this.exitPromise;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.proc.kill(signal);
  }

  exited$(): Promise<void> {
    return this.exitPromise;
  }
}
