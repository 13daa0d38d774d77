/**
 * Export a time range of the archive to one file without re-encoding:
 *   .ts  — byte concatenation of the whole segments overlapping [from, to)
 *   .mp4 — the same bytes piped into ffmpeg (-c copy, -movflags +faststart)
 * Written to a temp file next to the output, renamed when complete: there is never a half-written output,
 * also on failure or abort (the temp file is removed).
 */
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { Archive } from './archive.js';
import { concatSegments, writableSink, type ConcatProgress } from './concat.js';
import { computeGaps, type Gap } from './gaps.js';
import { SegTable } from './table.js';
import { segmentHasAdtsAac } from './probe.js';
import { segmentPath } from './index-file.js';
import { fileMp4Args, ffmpegPath, spawnRemux } from './remux.js';

export type ExportFormat = 'ts' | 'mp4';

export interface ExportOptions {
  root: string;
  rendition: string;
  fromMs: number;
  toMs: number;
  output: string;
  /** default: from the output's extension */
  format?: ExportFormat;
  /** ffmpeg binary (default: FLUX_FFMPEG → PATH, via src/ffmpeg) */
  ffmpeg?: string;
  /** mp4: moov atom first (default true) */
  faststart?: boolean;
  archive?: Archive;
  signal?: AbortSignal;
  onProgress?: (p: ConcatProgress & { totalBytes: number; totalMs: number }) => void;
}

export interface ExportResult {
  file: string;
  format: ExportFormat;
  /** size of the written file */
  bytes: number;
  /** media duration in ms (sum of the exported segments; gaps excluded) */
  durationMs: number;
  segments: number;
  /** start of the first and end of the last exported segment */
  fromMs: number;
  toMs: number;
  gaps: Gap[];
  /** segments listed by the index but gone from disk (skipped) */
  missing: number;
}

export function formatOf(file: string): ExportFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.ts' || ext === '.m2ts' || ext === '.mts' || ext === '.mpegts') return 'ts';
  if (ext === '.mp4' || ext === '.m4v' || ext === '.mov') return 'mp4';
  return undefined;
}

export class NothingRecordedError extends InputError {
  constructor(message: string) {
    super(message, { code: 'E_NO_RECORDING' });
  }
}

export async function exportArchive(o: ExportOptions): Promise<ExportResult> {
  const format = o.format ?? formatOf(o.output);
  if (!format) throw new InputError(`${o.output}: unknown output format, use a .ts or .mp4 file name`, { code: 'E_FORMAT' });
  if (!(o.toMs > o.fromMs)) throw new InputError('the end of the range must be after its start', { code: 'E_RANGE' });
  const archive = o.archive ?? new Archive(o.root);
  const t = await archive.segments(o.rendition, o.fromMs, o.toMs);
  if (!t.length) {
    throw new NothingRecordedError(
      `nothing recorded for ${o.rendition} between ${new Date(o.fromMs).toISOString()} and ${new Date(o.toMs).toISOString()}`,
    );
  }
  const totalBytes = t.totalBytes();
  let totalMs = 0;
  for (let i = 0; i < t.length; i++) totalMs += t.dur[i]!;
  const progress = o.onProgress ? (p: ConcatProgress) => o.onProgress!({ ...p, totalBytes, totalMs }) : undefined;

  const out = path.resolve(o.output);
  await mkdir(path.dirname(out), { recursive: true });
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${randomBytes(4).toString('hex')}.tmp`);
  let done: ConcatProgress;
  let size = 0;
  const gone = new Set<number>();
  const onMissing = (i: number) => gone.add(i);
  try {
    if (format === 'ts') {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        done = await concatSegments(o.root, o.rendition, t, async (buf) => {
          let off = 0;
          while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        }, { signal: o.signal, onProgress: progress, onMissing });
        size = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
    } else {
      const ffmpeg = o.ffmpeg ?? (await ffmpegPath());
      const adts = await segmentHasAdtsAac(segmentPath(o.root, o.rendition, t.start[0]!, t.dur[0]!));
      const rx = spawnRemux(ffmpeg, fileMp4Args(tmp, { faststart: o.faststart, adts }), { stdout: false });
      const onAbort = () => rx.kill();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        done = await concatSegments(o.root, o.rendition, t, writableSink(rx.stdin), { signal: o.signal, onProgress: progress, onMissing }).catch(
          async (e) => {
            rx.kill();
            await rx.done.catch(() => {});
            throw e;
          },
        );
        rx.stdin.end();
        await rx.done;
      } finally {
        o.signal?.removeEventListener('abort', onAbort);
      }
      const fh = await open(tmp, 'r');
      size = (await fh.stat()).size;
      await fh.close();
    }
    if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted');
    if (!done.bytes) throw new NothingRecordedError(`every segment of the range is gone from disk (${done.missing} missing)`);
    await rename(tmp, out);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  // gaps of what was actually written (segments gone from disk are gaps too)
  let written = t;
  if (gone.size) {
    written = new SegTable(t.length - gone.size);
    for (let i = 0; i < t.length; i++) if (!gone.has(i)) written.pushFrom(t, i);
  }
  return {
    file: out,
    format,
    bytes: size,
    durationMs: done.mediaMs,
    segments: done.segments - done.missing,
    fromMs: written.start[0]!,
    toMs: written.endMs(written.length - 1),
    gaps: computeGaps(written),
    missing: done.missing,
  };
}
