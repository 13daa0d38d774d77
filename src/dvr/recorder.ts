/**
 * DvrRecorder: the supervisor-side half of the DVR. The HLS writer owns the segment files (it writes them
 * tmp + rename with keepSegments=true); the recorder
 *   - appends one index record per segment, from the writer's onSegment (i.e. only once the file is in place),
 *   - reconciles the index with the file names at open (a crash, kill -9 or lost records leave nothing
 *     but a gap: hours whose index is damaged, missing or disagrees with the directory are rebuilt),
 *   - enforces retention (time, size, disk usage) by removing the oldest whole segments with their index
 *     records and empty hour/day dirs, never the newest `window` segments of a rendition (the live window),
 *   - pauses (status.paused + lastError) when the disk is full or unwritable, prunes aggressively on ENOSPC,
 *     and resumes on the next segment that lands; hours whose records could not be written are rebuilt then,
 *   - checks max_size and the free-space headroom after every segment it indexes (not only in the periodic
 *     pass): the archive never exceeds its cap by more than a segment, and the oldest segments are evicted
 *     while there is still room for the next few, so a full disk does not cost live or archive segments.
 * Every mutation runs on one queue, in small steps, so appends are never blocked long by a retention pass.
 * onSegment never rejects: a DVR problem must not stop the live stream.
 */
import { mkdir, readdir, statfs as fsStatfs, unlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { ResolvedStream } from '../config/model.js';
import { hourOf, parseSegmentName, parseSegmentRelPath } from '../protocol/layout.js';
import {
  appendRecord,
  buildHourFromNames,
  hourDirPath,
  indexDirOf,
  indexFilePath,
  isErr,
  listIndexHours,
  readHourIndex,
  renditionDir,
  scanHourNames,
  segmentPath,
  writeHourIndex,
} from './index-file.js';
import { pruneEmptyHourDirs, walkHourDirs } from '../protocol/walk.js';
import { isBreak } from './gaps.js';
import { SegTable, type SegmentRecord } from './table.js';

/** What the recorder needs from the writer's WrittenSegment (structurally compatible with it). */
export interface DvrSegment {
  rendition: string;
  startMs: number;
  durationMs: number;
  bytes: number;
  /** relative to the rendition dir (`YYYY/MM/DD/HH/<start>-<dur>.ts`); when given, the name is the truth */
  uri?: string;
  path?: string;
  mediaSequence?: number;
  discontinuity?: boolean;
  keyframe?: boolean;
}

export interface StatFsLike {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
}
export type StatFsFn = (dir: string) => Promise<StatFsLike>;

export interface DvrRecorderOptions {
  /** stream root (ResolvedStream.root = dvr root) */
  root: string;
  renditions: string[];
  retentionMs?: number;
  maxSizeBytes?: number;
  diskUsageLimitPercent?: number;
  /** newest segments per rendition retention never removes (the live window; default 6) */
  window?: number;
  logger?: Logger;
  /** injectable for tests (default fs.promises.statfs) */
  statfs?: StatFsFn;
  now?: () => number;
  /** fdatasync after every index append (default false: a torn tail is detected and dropped anyway) */
  fsync?: boolean;
  /** on ENOSPC, prune until this much is free (default: 1% of the filesystem, 64 MiB … 10 GiB) */
  emergencyReserveBytes?: number;
  /**
   * free space kept on the archive's filesystem beyond HEADROOM_SEGMENTS rounds of segments (dvr
   * `disk_headroom`; default 0: the segments' worth alone)
   */
  diskHeadroomBytes?: number;
  /** return before the startup reconciliation finished (await recorder.ready) */
  background?: boolean;
}

export interface DvrRenditionStatus {
  segments: number;
  bytes: number;
  oldest?: number;
  newest?: number;
}

export interface DvrStatus {
  recording: boolean;
  paused: boolean;
  lastError?: string;
  /** archive bytes (all renditions) */
  bytes: number;
  segments: number;
  /** epoch ms of the oldest segment start */
  oldest?: number;
  /** epoch ms of the newest segment end */
  newest?: number;
  renditions: Record<string, DvrRenditionStatus>;
  retention: {
    runs: number;
    lastRunAt?: number;
    removedSegments: number;
    removedBytes: number;
    lastError?: string;
  };
  /** hours rebuilt from file names (at open or after a pause) */
  rebuiltHours: number;
  /** free space retention keeps (a few segments' worth + disk_headroom), once segment sizes are known */
  headroomBytes?: number;
  disk?: { totalBytes: number; availableBytes: number; usedPercent: number };
}

export interface RetentionResult {
  removedSegments: number;
  removedBytes: number;
  byTime: number;
  bySize: number;
}

interface HourSummary {
  count: number;
  bytes: number;
  firstStart: number;
  lastEnd: number;
}

interface RenditionState {
  name: string;
  hours: Map<number, HourSummary>;
  count: number;
  bytes: number;
  last?: SegmentRecord;
  indexDirReady: boolean;
  /** hours whose records could not be appended: rebuilt from names when writing works again */
  dirty: Set<number>;
  /** recent segment size, slowly decaying peak (the headroom is a few of these) */
  segPeak: number;
}

/** Free space kept for this many more segments of every rendition (evicting before they are written). */
export const HEADROOM_SEGMENTS = 3;

function summarize(t: SegTable): HourSummary {
  return { count: t.length, bytes: t.totalBytes(), firstStart: t.start[0] ?? 0, lastEnd: t.length ? t.endMs(t.length - 1) : 0 };
}

function errText(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code}: ${e.message}` : e.message;
  return String(e);
}

const PAUSING = ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO'];

export class DvrRecorder {
  readonly root: string;
  readonly ready: Promise<void>;
  private readonly opts: DvrRecorderOptions;
  private readonly log: Logger;
  private readonly statfs: StatFsFn;
  private readonly now: () => number;
  private readonly window: number;
  private readonly r = new Map<string, RenditionState>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private paused = false;
  private lastError?: string;
  private retentionRunning?: Promise<RetentionResult>;
  /** the running pass skips time retention (a per-segment check) */
  private retentionSpaceOnly = false;
  private emergencyPending = false;
  private disk?: DvrStatus['disk'];
  private ret: DvrStatus['retention'] = { runs: 0, removedSegments: 0, removedBytes: 0 };
  private rebuiltHours = 0;
  /** a per-segment check came while a pass was running: run one more after it */
  private recheck = false;
  private segmentCheck: Promise<unknown> = Promise.resolve();

  private constructor(opts: DvrRecorderOptions) {
    this.opts = opts;
    this.root = path.resolve(opts.root);
    this.log = opts.logger ?? silentLogger;
    this.statfs = opts.statfs ?? ((dir) => fsStatfs(dir));
    this.now = opts.now ?? Date.now;
    this.window = Math.max(0, opts.window ?? 6);
    for (const name of opts.renditions) this.state(name);
    this.ready = this.enqueue(() => this.reconcileAll());
  }

  static async open(opts: DvrRecorderOptions): Promise<DvrRecorder> {
    await mkdir(opts.root, { recursive: true });
    const rec = new DvrRecorder(opts);
    if (!opts.background) await rec.ready;
    else rec.ready.catch(() => {});
    return rec;
  }

  /** Open the recorder of a stream with `dvr` (its retention settings, renditions and live window). */
  static async forStream(
    stream: ResolvedStream,
    extra: Omit<DvrRecorderOptions, 'root' | 'renditions'> = {},
  ): Promise<DvrRecorder> {
    return DvrRecorder.open({
      root: stream.dvr?.root ?? stream.root,
      renditions: stream.renditions,
      retentionMs: stream.dvr?.retentionMs,
      maxSizeBytes: stream.dvr?.maxSizeBytes,
      diskUsageLimitPercent: stream.dvr?.diskUsageLimitPercent,
      diskHeadroomBytes: stream.dvr?.diskHeadroomBytes,
      window: stream.hls.window,
      ...extra,
    });
  }

  get status(): DvrStatus {
    let bytes = 0;
    let segments = 0;
    let oldest: number | undefined;
    let newest: number | undefined;
    const renditions: Record<string, DvrRenditionStatus> = {};
    for (const s of this.r.values()) {
      let o: number | undefined;
      let n: number | undefined;
      for (const h of s.hours.values()) {
        if (!h.count) continue;
        if (o === undefined || h.firstStart < o) o = h.firstStart;
        if (n === undefined || h.lastEnd > n) n = h.lastEnd;
      }
      renditions[s.name] = { segments: s.count, bytes: s.bytes, oldest: o, newest: n };
      bytes += s.bytes;
      segments += s.count;
      if (o !== undefined && (oldest === undefined || o < oldest)) oldest = o;
      if (n !== undefined && (newest === undefined || n > newest)) newest = n;
    }
    return {
      recording: !this.closed,
      paused: this.paused,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      bytes,
      segments,
      oldest,
      newest,
      renditions,
      retention: { ...this.ret },
      rebuiltHours: this.rebuiltHours,
      ...(this.headroomBytes() ? { headroomBytes: this.headroomBytes() } : {}),
      ...(this.disk ? { disk: { ...this.disk } } : {}),
    };
  }

  // ------------------------------------------------------------------------------------------ queue

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => {});
    return p;
  }

  private state(name: string): RenditionState {
    let s = this.r.get(name);
    if (!s) {
      s = { name, hours: new Map(), count: 0, bytes: 0, indexDirReady: false, dirty: new Set(), segPeak: 0 };
      this.r.set(name, s);
    }
    return s;
  }

  private setHour(s: RenditionState, hour: number, t: SegTable): void {
    const old = s.hours.get(hour);
    if (old) {
      s.count -= old.count;
      s.bytes -= old.bytes;
    }
    if (t.length) {
      const sum = summarize(t);
      s.hours.set(hour, sum);
      s.count += sum.count;
      s.bytes += sum.bytes;
    } else s.hours.delete(hour);
  }

  private newestHour(s: RenditionState): number | undefined {
    let m: number | undefined;
    for (const h of s.hours.keys()) if (m === undefined || h > m) m = h;
    return m;
  }

  private oldestHour(s: RenditionState): number | undefined {
    let m: number | undefined;
    for (const [h, sum] of s.hours) if (sum.count && (m === undefined || h < m)) m = h;
    return m;
  }

  // ------------------------------------------------------------------------------------------ reconcile

  private async reconcileAll(): Promise<void> {
    for (const s of this.r.values()) {
      try {
        await this.reconcile(s);
      } catch (e) {
        this.lastError = `index check of ${s.name} failed: ${errText(e)}`;
        this.log.error({ err: e, rendition: s.name }, 'dvr: index check failed');
      }
    }
  }

  /** Compare every hour's index with its directory; rebuild the hours that disagree. */
  private async reconcile(s: RenditionState): Promise<void> {
    const idxDir = indexDirOf(this.root, s.name);
    await mkdir(idxDir, { recursive: true });
    s.indexDirReady = true;
    // leftovers of interrupted rewrites
    for (const n of await readdir(idxDir).catch(() => [] as string[])) {
      if (n.startsWith('.') && n.endsWith('.tmp')) await unlink(path.join(idxDir, n)).catch(() => {});
    }
    const [idx, dirs] = await Promise.all([listIndexHours(this.root, s.name), walkHourDirs(renditionDir(this.root, s.name))]);
    const hours = [...new Set([...idx, ...dirs])].sort((a, b) => a - b);
    s.hours.clear();
    s.count = 0;
    s.bytes = 0;
    let prev: SegmentRecord | undefined;
    for (const hour of hours) {
      const t = await this.checkHour(s, hour, prev);
      this.setHour(s, hour, t);
      if (t.length) prev = t.get(t.length - 1);
    }
    s.last = prev;
    s.dirty.clear();
  }

  /** The hour's table, rebuilt from names (and rewritten) when its index is damaged, missing or wrong. */
  private async checkHour(s: RenditionState, hour: number, prev: SegmentRecord | undefined): Promise<SegTable> {
    const file = indexFilePath(this.root, s.name, hour);
    const [idx, names] = await Promise.all([readHourIndex(file), scanHourNames(this.root, s.name, hour)]);
    let same = !idx.damaged && idx.table.length === names.length;
    for (let i = 0; same && i < names.length; i++) {
      same = idx.table.start[i] === names[i]!.startMs && idx.table.dur[i] === names[i]!.durationMs;
    }
    if (same) return idx.table;
    const t = await buildHourFromNames(this.root, s.name, hour, names, idx.table, prev);
    await writeHourIndex(file, t);
    this.rebuiltHours++;
    const reason = !idx.exists ? 'index missing' : idx.damaged ? (idx.reason ?? 'index damaged') : 'index and files disagree';
    this.log.warn({ rendition: s.name, hour: new Date(hour * 3_600_000).toISOString(), reason, records: idx.table.length, files: t.length }, 'dvr: rebuilt index hour');
    return t;
  }

  /** The last record before `hour` (from the newest earlier hour's index). */
  private async recordBefore(s: RenditionState, hour: number): Promise<SegmentRecord | undefined> {
    let best: number | undefined;
    for (const [h, sum] of s.hours) if (h < hour && sum.count && (best === undefined || h > best)) best = h;
    if (best === undefined) return undefined;
    const { table } = await readHourIndex(indexFilePath(this.root, s.name, best));
    return table.length ? table.get(table.length - 1) : undefined;
  }

  private async repairHour(s: RenditionState, hour: number): Promise<void> {
    const prev = await this.recordBefore(s, hour);
    const t = await this.checkHour(s, hour, prev);
    this.setHour(s, hour, t);
    s.dirty.delete(hour);
    if (hour >= (this.newestHour(s) ?? -Infinity) && t.length) s.last = t.get(t.length - 1);
  }

  // ------------------------------------------------------------------------------------------ recording

  /** Call after each segment file is in place (the writer's onSegment). Never rejects. */
  onSegment(seg: DvrSegment): Promise<void> {
    return this.enqueue(() => this.record(seg)).catch((e) => {
      this.lastError = `dvr: ${errText(e)}`;
      this.log.error({ err: e }, 'dvr: onSegment failed');
    });
  }

  private async record(seg: DvrSegment): Promise<void> {
    if (this.closed) return;
    const s = this.state(seg.rendition);
    let startMs = Math.round(seg.startMs);
    let durationMs = Math.round(seg.durationMs);
    const fromName = seg.uri ? parseSegmentRelPath(seg.uri) : seg.path ? parseSegmentName(path.basename(seg.path)) : undefined;
    if (fromName) {
      startMs = fromName.startMs;
      durationMs = fromName.durationMs;
    } else if (seg.uri) {
      this.log.warn({ uri: seg.uri }, 'dvr: segment uri is not in the DVR layout; indexing by its start/duration');
    }
    const hour = hourOf(startMs);
    const file = indexFilePath(this.root, s.name, hour);
    try {
      if (!s.indexDirReady) {
        await mkdir(indexDirOf(this.root, s.name), { recursive: true });
        s.indexDirReady = true;
      }
      if (s.dirty.size) {
        // records were lost while the disk was full: the names are the truth
        for (const h of [...s.dirty].sort((a, b) => a - b)) await this.repairHour(s, h);
        if (!s.dirty.has(hour) && s.last && s.last.startMs >= startMs) {
          this.resumed();
          return; // the repair already indexed this segment
        }
      }
      if (s.last && startMs <= s.last.startMs) {
        if (startMs === s.last.startMs) return; // already indexed (e.g. by the startup reconciliation)
        const { table } = await readHourIndex(file);
        const j = table.lowerBound(startMs);
        if (j < table.length && table.start[j] === startMs) return;
        this.log.warn({ rendition: s.name, startMs, last: s.last.startMs }, 'dvr: segment older than the newest record; rebuilding its hour');
        await this.repairHour(s, hour);
        this.resumed();
        return;
      }
      const prev = s.last;
      const rec: SegmentRecord = {
        startMs,
        durationMs,
        bytes: seg.bytes,
        mediaSequence: seg.mediaSequence ?? (prev ? prev.mediaSequence + 1 : 0),
        discontinuitySequence: prev
          ? prev.discontinuitySequence + (isBreak(prev.startMs, prev.durationMs, startMs, seg.discontinuity ? 1 : 0) ? 1 : 0)
          : 0,
        discontinuity: !!seg.discontinuity,
        keyframe: seg.keyframe ?? true,
        rebuilt: false,
      };
      await appendRecord(file, rec, { fsync: this.opts.fsync });
      const sum = s.hours.get(hour);
      if (sum) {
        sum.count++;
        sum.bytes += rec.bytes;
        sum.lastEnd = startMs + durationMs;
      } else s.hours.set(hour, { count: 1, bytes: rec.bytes, firstStart: startMs, lastEnd: startMs + durationMs });
      s.count++;
      s.bytes += rec.bytes;
      s.last = rec;
      s.segPeak = Math.max(rec.bytes, Math.floor(s.segPeak * 0.95));
      this.resumed();
      this.checkAfterSegment();
    } catch (e) {
      s.dirty.add(hour);
      this.failed(e, 'index');
    }
  }

  /** A segment was indexed: recording works (again). */
  private resumed(): void {
    if (this.paused) {
      this.log.info({ reason: this.lastError }, 'dvr: recording resumed');
      this.paused = false;
    }
    let dirty = false;
    for (const s of this.r.values()) if (s.dirty.size) dirty = true;
    if (!dirty) this.lastError = undefined;
  }

  private failed(e: unknown, where: 'index' | 'writer'): void {
    const text = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
    const code = (e as NodeJS.ErrnoException)?.code ?? /\b(ENOSPC|EDQUOT|EROFS|EACCES|EPERM|EIO)\b/.exec(text)?.[1] ?? '';
    const msg = where === 'index' ? `index append failed: ${errText(e)}` : `segment write failed: ${typeof e === 'string' ? e : errText(e)}`;
    this.lastError = msg;
    if (PAUSING.includes(code) || where === 'writer') {
      if (!this.paused) this.log.warn({ err: e }, 'dvr: recording paused');
      this.paused = true;
    } else {
      this.log.error({ err: e }, 'dvr: ' + msg);
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') this.scheduleEmergency();
  }

  /**
   * The writer could not write a segment (its stats report it; an Error with a code, or the stats' lastError
   * text): pause with the error; on ENOSPC/EDQUOT prune the oldest segments aggressively. The next onSegment
   * resumes recording.
   */
  onWriteError(err: unknown): void {
    if (this.closed) return;
    this.failed(err, 'writer');
  }

  private scheduleEmergency(): void {
    if (this.emergencyPending || this.closed) return;
    this.emergencyPending = true;
    setImmediate(() => {
      this.runRetention({ emergency: true })
        .catch(() => {})
        .finally(() => {
          this.emergencyPending = false;
        });
    });
  }

  // ------------------------------------------------------------------------------------------ retention

  /** Free space to keep: HEADROOM_SEGMENTS rounds of segments (every rendition) + disk_headroom. */
  private headroomBytes(): number {
    let round = 0;
    for (const s of this.r.values()) round += s.segPeak;
    return round ? HEADROOM_SEGMENTS * round + (this.opts.diskHeadroomBytes ?? 0) : 0;
  }

  /**
   * After each indexed segment: a retention pass for space (max_size, headroom, disk usage; time
   * stays with the periodic pass), not awaited (the writer must not wait for deletions); one more
   * follows when a pass was already running.
   */
  private checkAfterSegment(): void {
    if (this.closed) return;
    if (this.retentionRunning) {
      this.recheck = true;
      return;
    }
    this.segmentCheck = this.runRetention({ spaceOnly: true })
      .catch(() => {})
      .finally(() => {
        if (this.recheck) {
          this.recheck = false;
          this.checkAfterSegment();
        }
      });
  }

  /** Resolves once the checks started by the segments indexed so far are done (tests, close). */
  async settled(): Promise<void> {
    for (;;) {
      const p = this.segmentCheck;
      await p;
      await this.retentionRunning?.catch(() => {});
      if (p === this.segmentCheck && !this.recheck) return;
    }
  }

  /** Run retention every intervalMs (default 60 s; the first run right away). The timer does not hold the process. */
  startRetentionJob(intervalMs = 60_000): void {
    if (this.timer || this.closed) return;
    const tick = () => {
      this.runRetention().catch(() => {});
    };
    this.timer = setInterval(tick, Math.max(100, intervalMs));
    this.timer.unref();
    setImmediate(tick);
  }

  /** One retention pass (concurrent calls share the running pass). */
  runRetention(opts: { emergency?: boolean; spaceOnly?: boolean } = {}): Promise<RetentionResult> {
    const spaceOnly = opts.spaceOnly ?? false;
    // a running pass does for a new call, unless it skips what the call asks for (time)
    if (this.retentionRunning && !opts.emergency && (spaceOnly || !this.retentionSpaceOnly)) return this.retentionRunning;
    const run = (this.retentionRunning ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.retention(opts.emergency ?? false, spaceOnly))
      .finally(() => {
        if (this.retentionRunning === run) this.retentionRunning = undefined;
      });
    this.retentionRunning = run;
    this.retentionSpaceOnly = spaceOnly && !opts.emergency;
    return run;
  }

  private async retention(emergency: boolean, spaceOnly = false): Promise<RetentionResult> {
    await this.ready;
    const res: RetentionResult = { removedSegments: 0, removedBytes: 0, byTime: 0, bySize: 0 };
    if (this.closed) return res;
    const o = this.opts;
    try {
      const now = this.now();
      const cutoff = o.retentionMs && !spaceOnly ? now - o.retentionMs : -Infinity;
      let total = 0;
      for (const s of this.r.values()) total += s.bytes;
      let need = o.maxSizeBytes !== undefined ? Math.max(0, total - o.maxSizeBytes) : 0;
      // statfs on every pass: the status shows the disk; the limit and the emergency reserve use it
      try {
        const st = await this.statfs(this.root);
        const used = (st.blocks - st.bfree) * st.bsize;
        const avail = st.bavail * st.bsize;
        const usable = used + avail;
        this.disk = { totalBytes: st.blocks * st.bsize, availableBytes: avail, usedPercent: usable > 0 ? (used / usable) * 100 : 0 };
        if (o.diskUsageLimitPercent !== undefined) need = Math.max(need, used - (o.diskUsageLimitPercent / 100) * usable);
        // room for the next few segments before they are written (a write that fails costs live and archive)
        const headroom = this.headroomBytes();
        if (headroom > 0) need = Math.max(need, headroom - avail);
        if (emergency) {
          const reserve = o.emergencyReserveBytes ?? Math.min(10 * 2 ** 30, Math.max(64 * 2 ** 20, 0.01 * st.blocks * st.bsize));
          need = Math.max(need, reserve - avail);
        }
      } catch (e) {
        this.log.warn({ err: e }, 'dvr: statfs failed');
      }
      if (need <= 0 && !this.anyOlderThan(cutoff)) return res;
      for (;;) {
        const step = await this.enqueue(() => this.pruneStep(cutoff, need));
        if (!step.removedSegments) break;
        res.removedSegments += step.removedSegments;
        res.removedBytes += step.removedBytes;
        res.byTime += step.byTime;
        res.bySize += step.bySize;
        need -= step.bySizeBytes;
        if (this.closed) break;
      }
      this.ret.lastError = undefined;
      if (res.removedSegments) {
        this.log.info({ ...res, emergency }, 'dvr: retention removed segments');
      }
      return res;
    } catch (e) {
      this.ret.lastError = errText(e);
      this.log.error({ err: e }, 'dvr: retention failed');
      throw e;
    } finally {
      this.ret.runs++;
      this.ret.lastRunAt = this.now();
      this.ret.removedSegments += res.removedSegments;
      this.ret.removedBytes += res.removedBytes;
    }
  }

  /** Is any segment possibly older than the cutoff (from the hour summaries: no I/O)? */
  private anyOlderThan(cutoff: number): boolean {
    if (cutoff === -Infinity) return false;
    for (const s of this.r.values()) for (const h of s.hours.values()) if (h.count && h.firstStart < cutoff) return true;
    return false;
  }

  /** Remove what must go from the oldest hour (all renditions at once, so they stay aligned). */
  private async pruneStep(
    cutoff: number,
    need: number,
  ): Promise<{ removedSegments: number; removedBytes: number; byTime: number; bySize: number; bySizeBytes: number }> {
    const out = { removedSegments: 0, removedBytes: 0, byTime: 0, bySize: 0, bySizeBytes: 0 };
    if (this.closed) return out;
    let hour: number | undefined;
    for (const s of this.r.values()) {
      const h = this.oldestHour(s);
      if (h !== undefined && (hour === undefined || h < hour)) hour = h;
    }
    if (hour === undefined) return out;
    const rs = [...this.r.values()].filter((s) => s.hours.get(hour!)?.count);
    const tables = new Map<RenditionState, SegTable>();
    for (const s of rs) {
      const r = await readHourIndex(indexFilePath(this.root, s.name, hour));
      tables.set(s, r.damaged || r.table.length !== s.hours.get(hour)!.count ? await this.rebuiltTable(s, hour) : r.table);
    }
    // walk the hour's segments of every rendition in start order, removing while a limit is exceeded
    const pos = new Map<RenditionState, number>(rs.map((s) => [s, 0]));
    const blocked = new Set<RenditionState>();
    let remainingNeed = need;
    for (;;) {
      let pick: RenditionState | undefined;
      for (const s of rs) {
        if (blocked.has(s)) continue;
        const t = tables.get(s)!;
        const i = pos.get(s)!;
        if (i >= t.length) continue;
        if (!pick || t.start[i]! < tables.get(pick)!.start[pos.get(pick)!]!) pick = s;
      }
      if (!pick) break;
      const t = tables.get(pick)!;
      const i = pos.get(pick)!;
      if (pick.count - i <= this.window) {
        blocked.add(pick); // the live window stays
        continue;
      }
      const old = t.endMs(i) <= cutoff;
      if (!old && remainingNeed <= 0) break;
      if (old) out.byTime++;
      else {
        out.bySize++;
        out.bySizeBytes += t.bytes[i]!;
        remainingNeed -= t.bytes[i]!;
      }
      pos.set(pick, i + 1);
    }
    for (const s of rs) {
      const n = pos.get(s)!;
      if (!n) continue;
      const t = tables.get(s)!;
      const keep = t.slice(n);
      // index first (readers never see records of deleted files), then the files, then empty dirs
      await writeHourIndex(indexFilePath(this.root, s.name, hour), keep);
      this.setHour(s, hour, keep);
      const dir = hourDirPath(this.root, s.name, hour);
      for (let k = 0; k < n; k += 64) {
        await Promise.all(
          Array.from({ length: Math.min(64, n - k) }, (_, j) =>
            unlink(segmentPath(this.root, s.name, t.start[k + j]!, t.dur[k + j]!)).catch((e) => {
              if (!isErr(e, 'ENOENT')) throw e;
            }),
          ),
        );
      }
      out.removedSegments += n;
      out.removedBytes += t.totalBytes(0, n);
      if (!keep.length) await this.removeEmptyHour(s, dir, t.endMs(n - 1));
      if (!s.count) s.last = undefined;
    }
    return out;
  }

  private async rebuiltTable(s: RenditionState, hour: number): Promise<SegTable> {
    await this.repairHour(s, hour);
    return (await readHourIndex(indexFilePath(this.root, s.name, hour))).table;
  }

  /** An hour whose segments are all gone: drop stale leftovers, then the dir and empty parents. */
  private async removeEmptyHour(s: RenditionState, dir: string, removedUpTo: number): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const seg = parseSegmentName(n);
      const full = path.join(dir, n);
      if (seg && seg.startMs < removedUpTo) await unlink(full).catch(() => {});
      else if (n.startsWith('.') && n.endsWith('.tmp')) {
        // a writer's temp file older than 10 minutes is an interrupted write
        const st = await stat(full).catch(() => undefined);
        if (st && this.now() - st.mtimeMs > 600_000) await unlink(full).catch(() => {});
      }
    }
    await pruneEmptyHourDirs(path.join(this.root, s.name), dir);
  }

  /** Stop the retention job, wait for queued work, stop recording. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.enqueue(async () => {
      this.closed = true;
    });
    await this.retentionRunning?.catch(() => {});
  }
}
