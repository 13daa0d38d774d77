/**
 * The one walker of a rendition's `YYYY/MM/DD/HH` tree (see layout.ts), shared by the HLS writer
 * (live-state recovery, restart sweep), the DVR recorder and archive (hours with no or a lost index
 * file) and tests. Years/months/days outside the range of interest are pruned without reading them.
 */
import { readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { HOUR_MS, TWO_DIGITS, YEAR_DIR, hourDirRel, hourOf, parseSegmentName, utcMs } from './layout.js';

export interface WalkOptions {
  /** first hour of interest (inclusive) */
  fromHour?: number;
  /** last hour of interest (inclusive) */
  toHour?: number;
  descending?: boolean;
  /** stop after this many hours */
  limit?: number;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function dirs(dir: string, re: RegExp): Promise<string[]> {
  try {
    const ents = await readdir(dir, { withFileTypes: true });
    return ents.filter((e) => e.isDirectory() && re.test(e.name)).map((e) => e.name);
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

/** Hours (hour numbers, see layout.hourOf) that have an hour directory under `renditionDir`, ascending (or descending). */
export async function walkHourDirs(renditionDir: string, opts: WalkOptions = {}): Promise<number[]> {
  const base = renditionDir;
  const lo = opts.fromHour ?? -Infinity;
  const hi = opts.toHour ?? Infinity;
  const limit = opts.limit ?? Infinity;
  const desc = opts.descending ?? false;
  const order = (xs: string[]) => xs.sort((a, b) => (desc ? Number(b) - Number(a) : Number(a) - Number(b)));
  // overlap of [startMs, endMs) with the hour range
  const overlaps = (startMs: number, endMs: number) => endMs / HOUR_MS > lo && startMs / HOUR_MS <= hi;
  const out: number[] = [];
  for (const y of order(await dirs(base, YEAR_DIR))) {
    const Y = Number(y);
    if (!overlaps(utcMs(Y), utcMs(Y + 1))) continue;
    for (const m of order(await dirs(path.join(base, y), TWO_DIGITS))) {
      const M = Number(m);
      if (M < 1 || M > 12 || !overlaps(utcMs(Y, M), utcMs(Y, M + 1))) continue;
      for (const d of order(await dirs(path.join(base, y, m), TWO_DIGITS))) {
        const D = Number(d);
        if (D < 1 || D > 31 || !overlaps(utcMs(Y, M, D), utcMs(Y, M, D + 1))) continue;
        for (const h of order(await dirs(path.join(base, y, m, d), TWO_DIGITS))) {
          const H = Number(h);
          if (H > 23) continue;
          const hour = utcMs(Y, M, D, H) / HOUR_MS;
          if (hour < lo || hour > hi) continue;
          out.push(hour);
          if (out.length >= limit) return out;
        }
      }
    }
  }
  return out;
}

export interface ScannedSegment {
  startMs: number;
  durationMs: number;
  /** the file name, `<epoch_ms>-<duration_ms>.ts` */
  name: string;
}

/**
 * Segment files of one hour dir, sorted by start. Only names whose start falls in this hour count (a file
 * moved by hand into another hour is not this hour's); of two files with one start the first by name is
 * kept. Empty when the dir is missing.
 */
export async function segmentsInHour(renditionDir: string, hour: number): Promise<ScannedSegment[]> {
  let names: string[];
  try {
    names = await readdir(path.join(renditionDir, hourDirRel(hour)));
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
  names.sort();
  const out: ScannedSegment[] = [];
  for (const name of names) {
    const p = parseSegmentName(name);
    if (p && hourOf(p.startMs) === hour) out.push({ ...p, name });
  }
  out.sort((a, b) => a.startMs - b.startMs);
  return out.filter((s, i) => i === 0 || s.startMs !== out[i - 1]!.startMs);
}

export interface SegmentOnDisk {
  /** relative to the rendition dir: `YYYY/MM/DD/HH/<epoch_ms>-<duration_ms>.ts` */
  uri: string;
  startMs: number;
  durationMs: number;
}

/** The newest `limit` segment files of a rendition dir, oldest first (walks hour dirs from the newest). */
export async function newestSegments(renditionDir: string, limit: number): Promise<SegmentOnDisk[]> {
  const out: SegmentOnDisk[] = [];
  if (limit <= 0) return out;
  for (const hour of await walkHourDirs(renditionDir, { descending: true })) {
    const segs = await segmentsInHour(renditionDir, hour);
    const rel = hourDirRel(hour);
    for (let i = segs.length - 1; i >= 0; i--) {
      const s = segs[i]!;
      out.push({ uri: `${rel}/${s.name}`, startMs: s.startMs, durationMs: s.durationMs });
      if (out.length >= limit) return out.reverse();
    }
  }
  return out.reverse();
}

/**
 * Remove an hour dir and then its day, month and year dirs while they are empty (never above the
 * rendition dir). `busy(dir)` keeps a dir that is about to be written to (the writer's open segment,
 * the newest segment of the live window). Never throws: a dir that is not empty, or gone, ends it.
 */
export async function pruneEmptyHourDirs(renditionDir: string, hourDir: string, busy: (dir: string) => boolean = () => false): Promise<void> {
  let dir = hourDir;
  for (let i = 0; i < 4 && dir.startsWith(renditionDir + path.sep); i++) {
    if (busy(dir)) return;
    try {
      await rmdir(dir);
    } catch {
      return; // not empty (or gone)
    }
    dir = path.dirname(dir);
  }
}
