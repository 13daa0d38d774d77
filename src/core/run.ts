/**
 * The one runner of short-lived child processes (ffmpeg -version/-encoders, ffprobe, nvidia-smi):
 * argument arrays, never a shell; a hard timeout (SIGKILL); output capped; the outcome as data.
 * Long-running children that stream their stdio (ffmpeg pipelines, push, remux, SRT relays,
 * thumbnails) go through ./child.ts; detached node daemons (supervisors, the agent) are spawned by
 * their hosts (supervisor-host.ts, services/daemonize.ts).
 *
 * Why not execa (named by the design): it costs tens of milliseconds of import at every CLI start,
 * and what Flux needs of it is these forty lines over node:child_process.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** kill (SIGKILL) after this long; default 15 s */
  timeoutMs?: number;
  /** stdout bytes kept (the rest is dropped, `truncated` says so); default 16 MiB */
  maxStdout?: number;
  /** stderr characters kept (the tail); default 64 KiB */
  maxStderr?: number;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  /** exit code; null when killed by a signal or not started */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** the tail of stderr */
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  /** the spawn error's code (ENOENT: not found, EACCES: not executable), when it could not start */
  spawnError?: string;
}

export function runCommand(bin: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxStdout = opts.maxStdout ?? 16 * 1024 * 1024;
  const maxStderr = opts.maxStderr ?? 64 * 1024;
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    let outBytes = 0;
    let truncated = false;
    let stderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (outBytes + d.length > maxStdout) {
        truncated = true;
        d = d.subarray(0, Math.max(0, maxStdout - outBytes));
      }
      outBytes += d.length;
      if (d.length) out.push(d);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > maxStderr) stderr = stderr.slice(-maxStderr);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code ?? e.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: spawnError ? null : code, signal, stdout: Buffer.concat(out), stderr, timedOut, truncated, spawnError });
    });
  });
}

/** One line saying why a run failed (for error messages), or undefined when it succeeded. */
export function runFailure(r: RunResult, timeoutMs?: number): string | undefined {
  if (r.spawnError === 'ENOENT') return 'not found';
  if (r.spawnError === 'EACCES') return 'not executable';
  if (r.spawnError) return r.spawnError;
  if (r.timedOut) return timeoutMs ? `no answer within ${Math.round(timeoutMs / 100) / 10} s` : 'timed out';
  if (r.code === 0) return undefined;
  const last = r.stderr.trim().split('\n').filter(Boolean).pop();
  return last ?? (r.signal ? `killed by ${r.signal}` : `exited with code ${r.code}`);
}
