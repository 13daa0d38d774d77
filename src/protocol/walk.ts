/**
 * Walk the `<rendition>/YYYY/MM/DD/HH` tree, pruning years/months/days outside a range, to find the hours
 * that have a segment directory. Used to find hours with no (or a lost) index file.
 */
import { readdir } from 'node:fs/promises';
import { HOUR_MS, TWO_DIGITS, YEAR_DIR, utcMs } from './layout.js';
import { renditionDir, isErr } from '../dvr/index-file.js';
import path from 'node:path';

export interface WalkOptions {
  /** first hour of interest (inclusive) */
  fromHour?: number;
  /** last hour of interest (inclusive) */
  toHour?: number;
  descending?: boolean;
  /** stop after this many hours */
  limit?: number;
}

async function dirs(dir: string, re: RegExp): Promise<string[]> {
  try {
    const ents = await readdir(dir, { withFileTypes: true });
    return ents.filter((e) => e.isDirectory() && re.test(e.name)).map((e) => e.name);
  } catch (e) {
    if (isErr(e, 'ENOENT', 'ENOTDIR')) return [];
    throw e;
  }
}

/** Hours with an hour directory, ascending (or descending), within the options' range. */
export async function walkHourDirs(root: string, rendition: string, opts: WalkOptions = {}): Promise<number[]> {
  const base = renditionDir(root, rendition);
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
