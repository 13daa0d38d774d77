/**
 * Streaming the bytes of archive segments, in order, into a sink (an HTTP response, ffmpeg's stdin, a file):
 * whole files, the next one read while the current one is written, backpressure respected, no temp file.
 * A segment that vanished meanwhile (retention) is skipped and counted.
 */
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { SegTable } from './table.js';
import { segmentPath, isErr } from './index-file.js';

export interface ConcatProgress {
  /** segments done (written or skipped) */
  segments: number;
  total: number;
  bytes: number;
  /** media ms written */
  mediaMs: number;
  missing: number;
}

export interface ConcatOptions {
  signal?: AbortSignal;
  onProgress?: (p: ConcatProgress) => void;
  /** called for each row whose file is gone */
  onMissing?: (row: number) => void;
  /** rows [from, to) (default all) */
  from?: number;
  to?: number;
}

export type Sink = (buf: Buffer) => void | Promise<void>;

function abortError(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

export async function concatSegments(root: string, rendition: string, t: SegTable, sink: Sink, opts: ConcatOptions = {}): Promise<ConcatProgress> {
  const a = opts.from ?? 0;
  const b = opts.to ?? t.length;
  const p: ConcatProgress = { segments: 0, total: b - a, bytes: 0, mediaMs: 0, missing: 0 };
  const read = (i: number): Promise<Buffer | null> =>
    readFile(segmentPath(root, rendition, t.start[i]!, t.dur[i]!)).catch((e) => {
      if (isErr(e, 'ENOENT', 'ENOTDIR')) return null;
      throw e;
    });
  let next: Promise<Buffer | null> | undefined = a < b ? read(a) : undefined;
  for (let i = a; i < b; i++) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const buf = await next!;
    next = i + 1 < b ? read(i + 1) : undefined;
    next?.catch(() => {}); // handled when awaited
    if (buf === null) {
      p.missing++;
      opts.onMissing?.(i);
    }
    else {
      await sink(buf);
      p.bytes += buf.length;
      p.mediaMs += t.dur[i]!;
    }
    p.segments++;
    opts.onProgress?.(p);
  }
  return p;
}

/** A sink writing into a Writable with backpressure; rejects when the stream closes or fails first. */
export function writableSink(w: Writable): Sink {
  return async (buf) => {
    if (w.destroyed || w.writableEnded) throw Object.assign(new Error('output closed'), { code: 'ERR_STREAM_DESTROYED' });
    if (w.write(buf)) return;
    const ac = new AbortController();
    try {
      await Promise.race([
        once(w, 'drain', { signal: ac.signal }),
        once(w, 'close', { signal: ac.signal }).then(() => {
          throw Object.assign(new Error('output closed'), { code: 'ERR_STREAM_DESTROYED' });
        }),
      ]);
    } finally {
      ac.abort();
    }
  };
}
