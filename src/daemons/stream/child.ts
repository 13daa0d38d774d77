/**
 * The stream's ffmpeg: stdin optionally fed by us, TS outputs on fd 1 and extra pipes fd 3, 4, …;
 * stderr kept as a tail of lines for `lastError`. Spawning, stdio and the kill sequence are the
 * common runner's (src/core/child.ts); this adds the TS outputs, the stdin cap and ffmpeg's error
 * summary. No restart logic here: the pipeline decides (capped backoff).
 */
import { Child } from '../../core/child.js';
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
  readonly startedAt: number;
  readonly stderr = new LineTail(40);
  private readonly child: Child;
  droppedStdinBytes = 0;

  constructor(private readonly opts: FfmpegChildOptions) {
    this.args = opts.args;
    this.role = opts.role;
    const extraFds = opts.outputs.map((o) => o.fd).filter((fd) => fd > 2);
    this.child = new Child(opts.command, opts.args, {
      stdin: opts.stdin,
      stdout: opts.outputs.some((o) => o.fd === 1),
      extraFds,
      // LineTail keeps the lines; the runner's own tail is not needed
      stderrTail: 0,
      onStderr: (chunk) => {
        const added = this.stderr.push(chunk);
        if (opts.onStderrLine) for (const l of added) opts.onStderrLine(l);
      },
    });
    this.startedAt = this.child.startedAt;
    opts.outputs.forEach((o, i) => {
      this.child.output(o.fd)?.on('data', (chunk: Buffer) => opts.onOutput(i, chunk));
    });
    // 'close' waits for the stdio pipes to drain: every output byte is delivered before onExit
    void this.child.exited.then((e) => {
      const spawnError = e.spawnError;
      const detail = spawnError ? `${spawnError.message}` : summarizeFfmpegError(this.stderr.all());
      const error = spawnError ? `cannot run ${opts.command}: ${spawnError.message}` : describeExit(e.code, e.signal, detail);
      opts.onExit({ code: e.code, signal: e.signal, error, detail, ranMs: e.ranMs, requested: e.requested });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.running;
  }

  /** Feed TS to stdin; drops (and counts) when ffmpeg does not keep up. */
  write(chunk: Buffer): void {
    const stdin = this.child.stdin;
    if (!stdin || !this.child.running || stdin.destroyed) return;
    if (stdin.writableLength > STDIN_MAX_BUFFERED) {
      this.droppedStdinBytes += chunk.length;
      return;
    }
    stdin.write(chunk);
  }

  /** End stdin: the input is over (ffmpeg finishes what it has and exits). */
  endInput(): void {
    this.child.stdin?.end();
  }

  /** SIGTERM, then SIGKILL after the grace (`graceMs`, else the child's); resolves when it is gone. */
  async stop(graceMs?: number): Promise<void> {
    await this.child.stop({ killAfterMs: graceMs ?? this.opts.killGraceMs ?? 1000 });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  async exited$(): Promise<void> {
    await this.child.exited;
  }
}
