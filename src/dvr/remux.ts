/**
 * MPEG-TS → MP4 remux (no re-encoding) with ffmpeg reading the concatenated segments on stdin.
 * ffmpeg is spawned with an argument array (built in src/ffmpeg/remux-args.ts), never a shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
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

export interface Remux {
  child: ChildProcess;
  stdin: Writable;
  stdout: Readable | null;
  /** resolves on exit 0; rejects with ExternalError (stderr kept) otherwise */
  done: Promise<void>;
  kill(): void;
}

export function spawnRemux(ffmpeg: string, args: string[], opts: { stdout: boolean }): Remux {
  const child = spawn(ffmpeg, args, { stdio: ['pipe', opts.stdout ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4096);
  });
  // ffmpeg leaving early makes writes to stdin fail with EPIPE: the exit status tells why
  child.stdin!.on('error', () => {});
  let killed = false;
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new ExternalError(`cannot run ${ffmpeg}: ${e.message}`, ffmpeg, args, { cause: e })));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const why = killed ? 'stopped' : signal ? `killed by ${signal}` : `exited with code ${code}`;
        const line = stderr.trim().split('\n').pop() ?? '';
        reject(new ExternalError(`ffmpeg ${why}${line ? `: ${line}` : ''}`, ffmpeg, args, { stderr }));
      }
    });
  });
  done.catch(() => {});
  return {
    child,
    stdin: child.stdin!,
    stdout: child.stdout,
    done,
    kill() {
      if (child.exitCode === null && child.signalCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  };
}
