/**
 * The DVR index: one append-only file per UTC hour under `<root>/<rendition>/index/YYYY-MM-DDTHH.idx`,
 * made of fixed-size 32-byte records, each with its own CRC-32:
 *
 *   off size  field
 *    0   1    version (1)
 *    1   1    flags (1 discontinuity, 2 keyframe, 4 rebuilt from the file name)
 *    2   6    start, epoch ms (uint48 LE)
 *    8   4    duration ms (uint32 LE)
 *   12   6    bytes (uint48 LE)
 *   18   4    media sequence (uint32 LE)
 *   22   4    discontinuity sequence (uint32 LE)
 *   26   2    reserved (0)
 *   28   4    CRC-32 (zlib) of bytes 0..27
 *
 * A record is appended only after its segment file is in place, so every record names a complete file.
 * A torn tail (a partial or corrupt last record after a crash) is detected (length not a multiple of 32,
 * or a CRC mismatch) and dropped; an hour whose index is damaged or missing is rebuilt from the segment
 * file names, which alone are enough (the names carry start and duration; sizes come from stat).
 */
import { writeFileAtomic } from '../core/atomic-write.js';
import { open, readFile, readdir, stat, unlink, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SegTable, FLAG_REBUILT, type SegmentRecord } from './table.js';
import { segmentsInHour, type ScannedSegment } from '../protocol/walk.js';
import { INDEX_DIR, hourDirParts, hourOf, indexFileName, parseIndexFileName, segmentFileName } from '../protocol/layout.js';
import { isBreak } from './gaps.js';
import { safeJoin } from '../core/paths.js';

export const RECORD_SIZE = 32;

/** CRC-32 (zlib's: reflected 0xEDB88320) of buf[off, off+len), without allocating a view per record. */
const CRC_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}
export function crc32At(buf: Uint8Array, off: number, len: number): number {
  let c = -1;
  for (let i = off, end = off + len; i < end; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
const VERSION = 1;
const U48_MAX = 2 ** 48 - 1;

export function encodeRecord(r: SegmentRecord, out: Buffer = Buffer.alloc(RECORD_SIZE), off = 0): Buffer {
  out.fill(0, off, off + RECORD_SIZE);
  out[off] = VERSION;
  out[off + 1] = (r.discontinuity ? 1 : 0) | (r.keyframe ? 2 : 0) | (r.rebuilt ? 4 : 0);
  out.writeUIntLE(Math.min(Math.max(0, Math.round(r.startMs)), U48_MAX), off + 2, 6);
  out.writeUInt32LE(Math.min(Math.max(0, Math.round(r.durationMs)), 0xffffffff), off + 8);
  out.writeUIntLE(Math.min(Math.max(0, Math.round(r.bytes)), U48_MAX), off + 12, 6);
  out.writeUInt32LE(r.mediaSequence >>> 0, off + 18);
  out.writeUInt32LE(r.discontinuitySequence >>> 0, off + 22);
  out.writeUInt32LE(crc32At(out, off, 28), off + 28);
  return out;
}

/** Encode rows [a, b) of a table as consecutive records. */
export function encodeTable(t: SegTable, a = 0, b = t.length): Buffer {
  const buf = Buffer.alloc((b - a) * RECORD_SIZE);
  for (let i = a; i < b; i++) encodeRecord(t.get(i), buf, (i - a) * RECORD_SIZE);
  return buf;
}

export interface DecodedIndex {
  table: SegTable;
  /** true when anything was dropped: a torn tail, a bad CRC, records out of order */
  damaged: boolean;
  /** bytes of the longest valid prefix (where appending may continue after truncating) */
  validPrefixBytes: number;
  reason?: string;
}

/** Decode an index file. Never throws: bad records are dropped and reported via `damaged`. */
export function decodeIndex(buf: Buffer): DecodedIndex {
  const n = Math.floor(buf.length / RECORD_SIZE);
  const table = new SegTable(n);
  let damaged = false;
  let reason: string | undefined;
  let validPrefixBytes = -1;
  let lastStart = -1;
  for (let i = 0; i < n; i++) {
    const off = i * RECORD_SIZE;
    const ok = buf[off] === VERSION && crc32At(buf, off, 28) === buf.readUInt32LE(off + 28);
    const start = ok ? buf.readUInt32LE(off + 2) + buf.readUInt16LE(off + 6) * 4294967296 : 0;
    if (!ok || start <= lastStart) {
      if (!damaged) {
        damaged = true;
        reason = ok ? `record ${i} out of order` : `record ${i} fails its CRC`;
        validPrefixBytes = off;
      }
      continue;
    }
    lastStart = start;
    const j = table.length++;
    table.start[j] = start;
    table.dur[j] = buf.readUInt32LE(off + 8);
    table.bytes[j] = buf.readUInt32LE(off + 12) + buf.readUInt16LE(off + 16) * 4294967296;
    table.seq[j] = buf.readUInt32LE(off + 18);
    table.dseq[j] = buf.readUInt32LE(off + 22);
    table.flags[j] = buf[off + 1]! & 7;
  }
  if (validPrefixBytes < 0) validPrefixBytes = n * RECORD_SIZE;
  if (buf.length % RECORD_SIZE !== 0) {
    if (!damaged) reason = `torn tail: ${buf.length % RECORD_SIZE} trailing bytes`;
    damaged = true;
  }
  return { table, damaged, validPrefixBytes, reason };
}

// ---------------------------------------------------------------------------------------------- paths

export function renditionDir(root: string, rendition: string): string {
  return safeJoin(root, rendition);
}

export function indexDirOf(root: string, rendition: string): string {
  return safeJoin(root, rendition, INDEX_DIR);
}

export function indexFilePath(root: string, rendition: string, hour: number): string {
  return safeJoin(root, rendition, INDEX_DIR, indexFileName(hour));
}

export function hourDirPath(root: string, rendition: string, hour: number): string {
  return safeJoin(root, rendition, ...hourDirParts(hour));
}

export function segmentPath(root: string, rendition: string, startMs: number, durationMs: number): string {
  return safeJoin(root, rendition, ...hourDirParts(hourOf(startMs)), segmentFileName(startMs, durationMs));
}

// ---------------------------------------------------------------------------------------------- I/O

function isErr(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');
}

export interface HourIndexRead extends DecodedIndex {
  exists: boolean;
  size: number;
}

export async function readHourIndex(file: string): Promise<HourIndexRead> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    if (isErr(e, 'ENOENT', 'ENOTDIR')) return { table: new SegTable(1), damaged: false, validPrefixBytes: 0, exists: false, size: 0 };
    throw e;
  }
  return { ...decodeIndex(buf), exists: true, size: buf.length };
}

/** Hours that have an index file in `<root>/<rendition>/index/`, ascending. */
export async function listIndexHours(root: string, rendition: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(indexDirOf(root, rendition));
  } catch (e) {
    if (isErr(e, 'ENOENT', 'ENOTDIR')) return [];
    throw e;
  }
  const hours: number[] = [];
  for (const n of names) {
    const h = parseIndexFileName(n);
    if (h !== undefined) hours.push(h);
  }
  return hours.sort((a, b) => a - b);
}

export type { ScannedSegment };

/** Segment files of one hour dir (sorted by start; only names in this hour count). Empty when the dir is missing. */
export function scanHourNames(root: string, rendition: string, hour: number): Promise<ScannedSegment[]> {
  return segmentsInHour(renditionDir(root, rendition), hour);
}

/**
 * Build an hour's table from its segment file names. Sizes come from `known` (a possibly damaged index of the
 * same hour) when it has the same segment, else from stat. Sequences are chained from `prev` (the last record
 * before this hour) and breaks; rows not found in `known` are flagged rebuilt.
 */
export async function buildHourFromNames(
  root: string,
  rendition: string,
  hour: number,
  scanned: ScannedSegment[],
  known: SegTable | undefined,
  prev: SegmentRecord | undefined,
): Promise<SegTable> {
  const t = new SegTable(scanned.length);
  const dir = hourDirPath(root, rendition, hour);
  const sizes = new Float64Array(scanned.length);
  const fromKnown = new Int32Array(scanned.length).fill(-1);
  const toStat: number[] = [];
  for (let i = 0; i < scanned.length; i++) {
    const s = scanned[i]!;
    if (known) {
      const j = known.lowerBound(s.startMs);
      if (j < known.length && known.start[j] === s.startMs && known.dur[j] === s.durationMs) {
        fromKnown[i] = j;
        sizes[i] = known.bytes[j]!;
        continue;
      }
    }
    toStat.push(i);
  }
  // stat the others, a few at a time
  for (let k = 0; k < toStat.length; k += 32) {
    await Promise.all(
      toStat.slice(k, k + 32).map(async (i) => {
        try {
          sizes[i] = (await stat(path.join(dir, scanned[i]!.name))).size;
        } catch {
          sizes[i] = -1; // vanished meanwhile
        }
      }),
    );
  }
  let p = prev;
  for (let i = 0; i < scanned.length; i++) {
    if (sizes[i]! < 0) continue;
    const s = scanned[i]!;
    const j = fromKnown[i]!;
    if (j >= 0 && known) {
      t.pushFrom(known, j);
    } else {
      t.push({ startMs: s.startMs, durationMs: s.durationMs, bytes: sizes[i]!, rebuilt: true, keyframe: true });
    }
    const r = t.length - 1;
    if (j < 0 || (t.flags[r]! & FLAG_REBUILT)) {
      // infer sequences from the previous row
      if (p) {
        t.seq[r] = (p.mediaSequence + 1) >>> 0;
        t.dseq[r] = (p.discontinuitySequence + (isBreak(p.startMs, p.durationMs, t.start[r]!, t.flags[r]!) ? 1 : 0)) >>> 0;
      }
    }
    p = t.get(r);
  }
  return t;
}

/** Replace an hour index with the rows of `t` (tmp + fsync + rename; unlink when empty). */
export async function writeHourIndex(file: string, t: SegTable, opts: { fsync?: boolean } = {}): Promise<void> {
  if (t.length === 0) {
    await unlink(file).catch((e) => {
      if (!isErr(e, 'ENOENT')) throw e;
    });
    return;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, encodeTable(t), { mode: 0o644, fsync: opts.fsync !== false });
}

/**
 * Append one record to an hour index. A torn tail left by an earlier crash is cut off first so that records
 * stay aligned. Returns the file size after the append.
 */
export async function appendRecord(file: string, r: SegmentRecord, opts: { fsync?: boolean } = {}): Promise<number> {
  const fh = await open(file, 'a', 0o644);
  try {
    const { size } = await fh.stat();
    let at = size;
    if (size % RECORD_SIZE !== 0) {
      at = size - (size % RECORD_SIZE);
      await fh.truncate(at);
    }
    const buf = encodeRecord(r);
    const { bytesWritten } = await fh.write(buf, 0, RECORD_SIZE);
    if (bytesWritten !== RECORD_SIZE) {
      // a short write (disk full): cut it so the file stays aligned, and report
      await fh.truncate(at).catch(() => {});
      const err = new Error(`short write to ${file}`) as NodeJS.ErrnoException;
      err.code = 'ENOSPC';
      throw err;
    }
    if (opts.fsync) await fh.datasync();
    return at + RECORD_SIZE;
  } finally {
    await fh.close().catch(() => {});
  }
}

export { isErr };
