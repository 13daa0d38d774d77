/**
 * MPEG-TS → MP4 remux (no re-encoding) with ffmpeg reading the concatenated segments on stdin.
 * ffmpeg is spawned with an argument array (built in src/ffmpeg/remux-args.ts), never a shell.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { Child } from '../core/child.js';
import { ExternalError } from '../core/errors.js';
import { resolveFfmpeg } from '../ffmpeg/resolve.js';

export { streamingMp4Args, fileMp4Args } from '../ffmpeg/remux-args.js';

const resolved = new Map<string, Promise<string>>();

/** FLUX_FFMPEG → configured → PATH (→ an npm-shipped binary), through src/ffmpeg; memoized per process. */
export function ffmpegPath(configured?: string): Promise<string> {
  const key = `${process.env.FLUX_FFMPEG ?? ''}\u0000${configured ?? ''}`;
  let p = resolved.get(key);
  if (!p) {
    p = resolveFfmpeg(configured).then((r) => r.path);
    p.catch(() => resolved.delete(key)); // a failure is not remembered
    resolved.set(key, p);
  }
  return p;
}

/** stderr characters kept for the error message */
const REMUX_STDERR_TAIL = 4096;

export interface Remux {
  child: Child;
  stdin: Writable;
  stdout: Readable | null;
  /** resolves on exit 0; rejects with ExternalError (stderr kept) otherwise */
  done: Promise<void>;
  kill(): void;
}

export function spawnRemux(ffmpeg: string, args: string[], opts: { stdout: boolean }): Remux {
  const child = new Child(ffmpeg, args, { stdin: true, stdout: opts.stdout, stderrTail: REMUX_STDERR_TAIL });
  let killed = false;
  const done = child.exited.then((e) => {
    if (e.spawnError) throw new ExternalError(`cannot run ${ffmpeg}: ${e.spawnError.message}`, ffmpeg, args, { cause: e.spawnError });
    if (e.code === 0) return;
    const why = killed ? 'stopped' : e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
    const line = e.stderr.trim().split('\n').pop() ?? '';
    throw new ExternalError(`ffmpeg ${why}${line ? `: ${line}` : ''}`, ffmpeg, args, { stderr: e.stderr });
  });
  done.catch(() => {});
  return {
    child,
    // (a failed spawn has no pipes: a sink that discards, so callers need no special case)
    stdin: child.stdin ?? new PassThrough(),
    stdout: child.stdout,
    done,
    kill() {
      if (child.running) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  };
}
