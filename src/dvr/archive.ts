/**
 * Reading a DVR archive: segments in [from, to) across hours and days, from the per-hour index files
 * (binary search inside an hour; only the hours overlapping the range are read). An hour whose index is
 * missing or damaged is read from its segment file names instead (read-only: the recorder repairs files).
 *
 * An Archive caches decoded hours (LRU), revalidated on every query by a stat of the index file (or of the
 * hour directory when there is no usable index), so a long-lived reader (the node's playback server) sees
 * appends and retention immediately.
 */
import { stat } from 'node:fs/promises';
import { HOUR_MS, hourOf, segmentRelPath } from '../protocol/layout.js';
import { SegTable, type SegmentRecord } from './table.js';
import {
  buildHourFromNames,
  hourDirPath,
  indexFilePath,
  isErr,
  listIndexHours,
  readHourIndex,
  renditionDir,
  scanHourNames,
  segmentPath,
} from './index-file.js';
import { walkHourDirs } from '../protocol/walk.js';
import { computeGaps, computeRanges, type Gap, type RecordedRange } from './gaps.js';
import type { SegSpan } from './playlist.js';

export interface HourLoad {
  table: SegTable;
  /** where the rows came from */
  source: 'index' | 'names' | 'none';
  /** the index file exists but had a torn tail / bad records */
  damaged: boolean;
}

/** an index this much older than its hour directory's last change misses segments */
export const STALE_INDEX_MS = 10_000;

interface CacheEntry extends HourLoad {
  key: string;
  checkedAt: number;
}

export interface ArchiveOptions {
  /** decoded hours kept in memory (default 1024, ~50 MB at 2 s segments) */
  maxCachedHours?: number;
  /**
   * how long a cached hour (and the list of hours) is trusted without a stat/readdir (default 0: every query
   * revalidates; the node's shared readers use 1000 ms — new segments then show up within a second)
   */
  revalidateMs?: number;
  /** monotonic ms clock for revalidateMs (tests; default performance.now) */
  clock?: () => number;
}

export interface RenditionSummary {
  rendition: string;
  segments: number;
  bytes: number;
  oldestMs?: number;
  /** end of the newest segment */
  newestMs?: number;
  ranges: RecordedRange[];
  gaps: Gap[];
  /** hours read from file names because their index was missing or damaged */
  unindexedHours: number;
}

export class Archive {
  private cache = new Map<string, CacheEntry>();
  private readonly maxCachedHours: number;
  private readonly revalidateMs: number;
  private readonly clock: () => number;
  private hourLists = new Map<string, { at: number; idx: number[]; dirs: number[] }>();

  constructor(
    readonly root: string,
    opts: ArchiveOptions = {},
  ) {
    this.maxCachedHours = opts.maxCachedHours ?? 1024;
    this.revalidateMs = opts.revalidateMs ?? 0;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Absolute path of a segment file. */
  segmentPath(rendition: string, startMs: number, durationMs: number): string {
    return segmentPath(this.root, rendition, startMs, durationMs);
  }

  /** `YYYY/…/<start>-<dur>.ts` relative to the rendition dir. */
  segmentUri(startMs: number, durationMs: number): string {
    return segmentRelPath(startMs, durationMs);
  }

  /** Hours with an index file or a segment dir, ascending, within [fromHour, toHour]. */
  async hours(rendition: string, fromHour = -Infinity, toHour = Infinity): Promise<number[]> {
    let idx: number[];
    let dirs: number[];
    const listed = this.revalidateMs > 0 ? this.hourLists.get(rendition) : undefined;
    if (listed && this.clock() - listed.at < this.revalidateMs) {
      ({ idx, dirs } = listed);
    } else if (this.revalidateMs > 0) {
      const at = this.clock();
      [idx, dirs] = await Promise.all([listIndexHours(this.root, rendition), walkHourDirs(renditionDir(this.root, rendition))]);
      this.hourLists.set(rendition, { at, idx, dirs });
    } else {
      [idx, dirs] = await Promise.all([listIndexHours(this.root, rendition), walkHourDirs(renditionDir(this.root, rendition), { fromHour, toHour })]);
    }
    const set = new Set<number>();
    for (const h of dirs) if (h >= fromHour && h <= toHour) set.add(h);
    for (const h of idx) if (h >= fromHour && h <= toHour) set.add(h);
    return [...set].sort((a, b) => a - b);
  }

  /**
   * One hour's rows (cached; revalidated by a stat of the index file and of the hour dir). The index is
   * trusted unless it is damaged, missing, or older than the newest change of its directory by more than
   * STALE_INDEX_MS (segments landed that no recorder indexed): then the file names are the truth.
   */
  async hour(rendition: string, hour: number): Promise<HourLoad> {
    const ck = `${rendition}\u0000${hour}`;
    const checkedAt = this.clock();
    if (this.revalidateMs > 0) {
      const c = this.cache.get(ck);
      if (c && checkedAt - c.checkedAt < this.revalidateMs) return this.touch(ck, c);
    }
    const idxFile = indexFilePath(this.root, rendition, hour);
    const statOrNull = (p: string) =>
      stat(p).catch((e) => {
        if (isErr(e, 'ENOENT', 'ENOTDIR')) return null;
        throw e;
      });
    const [ist, dst] = await Promise.all([statOrNull(idxFile), statOrNull(hourDirPath(this.root, rendition, hour))]);
    const key = `${ist ? `${ist.size}:${ist.mtimeMs}:${ist.ino}` : '-'}|${dst ? `${dst.mtimeMs}:${dst.ino}` : '-'}`;
    const cached = this.cache.get(ck);
    if (cached && cached.key === key) {
      cached.checkedAt = checkedAt;
      return this.touch(ck, cached);
    }
    let known: SegTable | undefined;
    let damaged = false;
    if (ist) {
      const r = await readHourIndex(idxFile);
      const stale = dst !== null && dst.mtimeMs > ist.mtimeMs + STALE_INDEX_MS;
      if (r.exists && !r.damaged && !stale) {
        const load: HourLoad = { table: r.table, source: 'index', damaged: false };
        this.put(ck, { ...load, key, checkedAt });
        return load;
      }
      known = r.table;
      damaged = r.damaged;
    }
    // no usable index: the file names are the truth
    const names = dst ? await scanHourNames(this.root, rendition, hour) : [];
    const prev = names.length ? await this.lastBefore(rendition, hour) : undefined;
    const table = await buildHourFromNames(this.root, rendition, hour, names, known, prev);
    const load: HourLoad = { table, source: names.length ? 'names' : 'none', damaged };
    this.put(ck, { ...load, key, checkedAt });
    return load;
  }

  /** The last record of the hour before `hour` if it is already cached (used to chain inferred sequences). */
  private async lastBefore(rendition: string, hour: number): Promise<SegmentRecord | undefined> {
    const c = this.cache.get(`${rendition}\u0000${hour - 1}`);
    return c && c.table.length ? c.table.get(c.table.length - 1) : undefined;
  }

  private touch(ck: string, e: CacheEntry): CacheEntry {
    this.cache.delete(ck);
    this.cache.set(ck, e);
    return e;
  }

  private put(ck: string, e: CacheEntry): void {
    this.cache.delete(ck);
    this.cache.set(ck, e);
    while (this.cache.size > this.maxCachedHours) {
      const first = this.cache.keys().next().value as string;
      this.cache.delete(first);
    }
  }

  /** Forget cached hours (after the caller changed files). */
  invalidate(): void {
    this.cache.clear();
    this.hourLists.clear();
  }

  /**
   * Segments overlapping [fromMs, toMs), sorted by start. Reads only the hours of the range (plus the hour
   * before `from`, whose last segment may reach into it).
   */
  async segments(rendition: string, fromMs: number, toMs: number): Promise<SegTable> {
    return (await this.collect(rendition, fromMs, toMs)).table;
  }

  /**
   * The same as segments(), as spans of the cached hour tables (no copy): what the playlist renderer reads.
   * Do not modify the tables.
   */
  async spans(rendition: string, fromMs: number, toMs: number): Promise<SegSpan[]> {
    return (await this.collectSpans(rendition, fromMs, toMs)).spans;
  }

  private async collectSpans(rendition: string, fromMs: number, toMs: number): Promise<{ spans: SegSpan[]; total: number; unindexedHours: number }> {
    if (!(toMs > fromMs)) return { spans: [], total: 0, unindexedHours: 0 };
    const hours = await this.hours(rendition, hourOf(fromMs) - 1, hourOf(toMs - 1));
    const loads = await Promise.all(hours.map((h) => this.hour(rendition, h)));
    let total = 0;
    let last = -Infinity;
    const spans: SegSpan[] = [];
    for (const { table } of loads) {
      let [a, b] = table.overlapRange(fromMs, toMs);
      // keep the result sorted even if a segment sits in the wrong hour file
      while (a < b && table.start[a]! <= last) a++;
      if (b > a) {
        spans.push({ t: table, a, b });
        total += b - a;
        last = table.start[b - 1]!;
      }
    }
    return { spans, total, unindexedHours: loads.filter((l) => l.source === 'names').length };
  }

  private async collect(rendition: string, fromMs: number, toMs: number): Promise<{ table: SegTable; unindexedHours: number }> {
    const { spans, total, unindexedHours } = await this.collectSpans(rendition, fromMs, toMs);
    const res = new SegTable(total);
    for (const { t, a, b } of spans) res.append(t, a, b);
    return { table: res, unindexedHours };
  }

  /** Every segment of a rendition. */
  async all(rendition: string): Promise<SegTable> {
    const hours = await this.hours(rendition);
    if (!hours.length) return new SegTable(1);
    return this.segments(rendition, hours[0]! * HOUR_MS - HOUR_MS, (hours[hours.length - 1]! + 2) * HOUR_MS);
  }

  /** The newest segment of a rendition. */
  async newest(rendition: string): Promise<SegmentRecord | undefined> {
    return this.edge(rendition, true);
  }

  /** The oldest segment of a rendition. */
  async oldest(rendition: string): Promise<SegmentRecord | undefined> {
    return this.edge(rendition, false);
  }

  private async edge(rendition: string, newest: boolean): Promise<SegmentRecord | undefined> {
    if (this.revalidateMs > 0) {
      // the hour list is cached: no walk needed
      const hs = await this.hours(rendition);
      for (let k = 0; k < hs.length; k++) {
        const { table } = await this.hour(rendition, hs[newest ? hs.length - 1 - k : k]!);
        if (table.length) return table.get(newest ? table.length - 1 : 0);
      }
      return undefined;
    }
    const [idx, dirs] = await Promise.all([
      listIndexHours(this.root, rendition),
      walkHourDirs(renditionDir(this.root, rendition), { descending: newest, limit: 4 }),
    ]);
    let hours = [...new Set([...idx, ...dirs])].sort((a, b) => (newest ? b - a : a - b));
    for (let pass = 0; pass < 2; pass++) {
      for (const h of hours) {
        const { table } = await this.hour(rendition, h);
        if (table.length) return table.get(newest ? table.length - 1 : 0);
      }
      if (dirs.length < 4) break;
      // the first directories were empty: look at all of them
      const seen = new Set(hours);
      hours = (await this.hours(rendition)).filter((h) => !seen.has(h)).sort((a, b) => (newest ? b - a : a - b));
    }
    return undefined;
  }

  /** Segments, bytes, ranges and gaps of a rendition within [fromMs, toMs) (whole archive by default). */
  async summary(rendition: string, fromMs?: number, toMs?: number): Promise<RenditionSummary> {
    let from = fromMs;
    let to = toMs;
    if (from === undefined || to === undefined) {
      const hours = await this.hours(rendition);
      from ??= hours.length ? hours[0]! * HOUR_MS - HOUR_MS : 0;
      to ??= hours.length ? (hours[hours.length - 1]! + 2) * HOUR_MS : 1;
    }
    const { table: t, unindexedHours } = await this.collect(rendition, from, to);
    return {
      rendition,
      segments: t.length,
      bytes: t.totalBytes(),
      oldestMs: t.length ? t.start[0] : undefined,
      newestMs: t.length ? t.endMs(t.length - 1) : undefined,
      ranges: computeRanges(t),
      gaps: computeGaps(t),
      unindexedHours,
    };
  }
}

/** One shared Archive per stream root (the playback server's long-lived readers; revalidated each second). */
const shared = new Map<string, Archive>();
export function archiveFor(root: string): Archive {
  let a = shared.get(root);
  if (!a) {
    a = new Archive(root, { revalidateMs: 1000 });
    shared.set(root, a);
  }
  return a;
}
