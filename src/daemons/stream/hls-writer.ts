/**
 * HLS writer: the I/O side of the pure segmenter (src/media/hls/segmenter.ts).
 *
 * TS bytes in (any chunking) → Segmenter cuts on keyframes → each segment streams into a temp
 * file `.<random>.tmp` in its final hour directory `<root>/<rendition>/YYYY/MM/DD/HH/` (UTC of
 * the segment's program date time), and is renamed to `<epoch_ms>-<duration_ms>.ts` when it
 * closes. Only then is the live state `live.json` and the live playlist `index.m3u8` rewritten
 * (tmp + rename each, state first), so a name that exists is always a whole segment and a
 * playlist never names a segment that is not in place. Segments that left the window are
 * deleted `deleteGrace` playlist updates later (players may hold an older playlist), unless
 * keepSegments (DVR retention deletes them).
 *
 * Program date time: wall clock at the open of the first segment, then advanced by segment
 * durations (so PDT is monotonic and file names chain exactly: next start = start + duration);
 * re-anchored on a discontinuity (never backwards) and when the source falls behind real time by
 * more than maxPdtLagMs. Media sequence and discontinuity sequence survive restarts through
 * live.json, else the old index.m3u8, else the newest segment files on disk; the first segment
 * after a restart carries EXT-X-DISCONTINUITY.
 *
 * All file I/O is async and serialized per writer through one queue; a failure (ENOSPC, EACCES…)
 * drops the segment being written (its temp file is removed, it is never named), is kept in
 * stats.lastError, and the next complete segment goes on with a discontinuity.
 *
 * Composed of: the disk queue (hls-write-queue.ts), deletion of what left the window and of crash
 * leftovers (hls-retirement.ts), LL-HLS part bookkeeping (hls-parts.ts), live-state recovery
 * (hls-live-state.ts). This file is the producer side (segmenter callbacks, program date time) and
 * the segment close (window, sequences, stats, publication).
 */
import { writeFileAtomic } from '../../core/atomic-write.js';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { safeJoin } from '../../core/paths.js';
import { Segmenter, type SegmentOpen, type SegmentClose, type SegmenterSink } from '../../media/hls/segmenter.js';
import { CmafSegmenter, type CmafInit } from '../../media/mp4/cmaf-segmenter.js';
import { renderMediaPlaylist } from '../../media/hls/playlist.js';
import type { MediaInfo, DemuxStats } from '../../media/ts/types.js';
import { hourDirParts, hourOf } from '../../protocol/layout.js';
import { exists, recoverLiveState, type LiveSegment, type LiveState } from './hls-live-state.js';
import { WriteQueue, type StepOp, type WriteOp } from './hls-write-queue.js';
import { deleteRetired, sweepStale } from './hls-retirement.js';
import { PartList, partName, partUri } from './hls-parts.js';

export type { LiveSegment, LiveState };

export interface WrittenSegment {
  rendition: string;
  /** absolute path of the segment file */
  path: string;
  /** relative to the rendition dir, e.g. `2026/11/24/23/1764028800000-2000.ts` */
  uri: string;
  /** epoch ms (program date time) */
  startMs: number;
  durationMs: number;
  bytes: number;
  mediaSequence: number;
  discontinuity: boolean;
  keyframe: boolean;
}

export interface HlsWriterOptions {
  root: string;
  rendition: string;
  segmentDurationMs: number;
  window: number;
  /** DVR on: never delete old segments (DVR retention does) */
  keepSegments: boolean;
  onSegment?: (seg: WrittenSegment) => void | Promise<void>;
  logger?: Logger;
  /** segments kept on disk after they left the playlist (default 2) */
  deleteGrace?: number;
  /** forced cut when no keyframe comes (default: the segmenter's, 3 × segmentDurationMs) */
  maxDurationMs?: number;
  /** PTS jump that counts as a discontinuity (default: the segmenter's) */
  discontinuityGapMs?: number;
  /** program date time is re-anchored to the wall clock when it lags behind by more than this (default 10 s) */
  maxPdtLagMs?: number;
  /** bytes waiting for the disk beyond which the segment being written is dropped (default 64 MiB) */
  maxQueueBytes?: number;
  /** segment data held in memory before a write (default DEFAULT_COALESCE_BYTES; 0 = a write per chunk) */
  coalesceBytes?: number;
  /** wall clock (tests) */
  now?: () => number;
  /**
   * Segment container (default ts). fmp4: the TS is remuxed natively into CMAF segments `<ms>-<dur>.m4s`
   * plus init segments `init-<hash>.mp4` (content-addressed, so a restart with the same codecs reuses the
   * name and a codec change gets a new one), named by EXT-X-MAP in the playlist.
   */
  container?: 'ts' | 'fmp4';
  /**
   * LL-HLS (fmp4 only): every segment is also written as parts `<ms>-p<N>.m4s` (tmp + rename, next to
   * the segment), named by EXT-X-PART for the last segments and the one being written, with
   * EXT-X-PRELOAD-HINT for the next part and EXT-X-SERVER-CONTROL / EXT-X-PART-INF. The playlist is
   * rewritten after every part. Part files are deleted once their segment no longer lists them.
   */
  lowLatency?: { partDurationMs: number };
}

/** What the writer needs from a segmenter (the TS one or the CMAF remuxer). */
interface SegmenterLike {
  push(chunk: Buffer): void;
  markDiscontinuity(): void;
  flush(): void;
  readonly mediaInfo: MediaInfo;
  readonly stats: DemuxStats;
}

export interface HlsWriterStats {
  /** TS bytes given to write() */
  bytes: number;
  /** segments placed on disk by this writer */
  segments: number;
  segmentBytes: number;
  droppedSegments: number;
  /** bit/s of the last segment */
  bitrate: number;
  /** bit/s over the segments in the window */
  averageBitrate: number;
  /** highest segment bit/s since start (segments shorter than half the target are not counted) */
  peakBitrate: number;
  fps: number | undefined;
  ccErrors: number;
  /** media sequence the next segment will get */
  nextMediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  /** wall-clock ms when the last segment was placed, null before the first */
  lastSegmentAt: number | null;
  lastSegment: WrittenSegment | null;
  /** bytes queued for the disk */
  queuedBytes: number;
  errors: number;
  lastError: string | null;
  lastErrorAt: number | null;
  /** demux counters of the segmenter */
  demux: DemuxStats;
}

interface OpenSeg {
  startMs: number;
  dir: string;
  tmp: string;
  fh: fsp.FileHandle | null;
  failed: Error | null;
  bytes: number;
  discontinuity: boolean;
  keyframe: boolean;
  map?: string;
  /** LL-HLS: parts handed to the queue so far (producer side) */
  partsQueued?: number;
}

const DEFAULT_DELETE_GRACE = 2;
const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_PDT_LAG_MS = 10_000;

/** Playlists and state are rewritten every segment: atomic, but without fsync (rebuilt from disk after a crash). */
export const NO_FSYNC = { fsync: false } as const;

function errMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e && typeof e === 'object' && 'message' in e ? `${e.code ? e.code + ': ' : ''}${e.message}` : String(err);
}

export class HlsWriter {
  readonly rendition: string;
  readonly dir: string;
  readonly playlistPath: string;
  readonly statePath: string;

  private readonly segmenter: SegmenterLike;
  private readonly ext: 'ts' | 'm4s';
  /** fmp4: the init segment of the segments opened from now on */
  private currentMap: string | undefined;
  /** LL-HLS (consumer side): parts of the segment being written and of recent segments */
  private readonly parts = new PartList<OpenSeg>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly windowSize: number;
  private readonly grace: number;
  private readonly maxQueueBytes: number;
  private readonly maxPdtLagMs: number;
  private readonly minTargetDuration: number;

  // live window (pump side)
  private window: LiveSegment[];
  private mediaSequence: number;
  private discontinuitySequence: number;
  private targetDuration: number;
  private retired: string[];
  private gapPending: boolean;

  // producer side (synchronous, from segmenter callbacks)
  private current: OpenSeg | null = null;
  private nextStartMs: number | null;
  private anchorNext = true;
  private discontinuityRequested = false;
  private closed = false;

  private readonly queue: WriteQueue<OpenSeg>;

  private readonly st: Omit<HlsWriterStats, 'demux' | 'queuedBytes' | 'fps' | 'ccErrors' | 'nextMediaSequence' | 'discontinuitySequence' | 'targetDuration'>;

  private constructor(private readonly opts: HlsWriterOptions, state: LiveState) {
    this.rendition = opts.rendition;
    this.dir = safeJoin(opts.root, opts.rendition);
    this.playlistPath = path.join(this.dir, 'index.m3u8');
    this.statePath = path.join(this.dir, 'live.json');
    this.log = (opts.logger ?? silentLogger).child({ rendition: opts.rendition });
    this.now = opts.now ?? Date.now;
    this.windowSize = Math.max(1, Math.floor(opts.window));
    this.grace = Math.max(0, opts.deleteGrace ?? DEFAULT_DELETE_GRACE);
    this.maxQueueBytes = opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.queue = new WriteQueue<OpenSeg>(
      (op) => this.step(op),
      (err, msg) => this.recordError(err, msg),
      opts.coalesceBytes,
    );
    this.maxPdtLagMs = opts.maxPdtLagMs ?? DEFAULT_MAX_PDT_LAG_MS;
    this.minTargetDuration = Math.max(1, Math.ceil(opts.segmentDurationMs / 1000));

    this.window = state.segments;
    this.mediaSequence = state.mediaSequence;
    this.discontinuitySequence = state.discontinuitySequence;
    this.retired = opts.keepSegments ? [] : state.retired;
    this.targetDuration = this.minTargetDuration;
    for (const s of this.window) this.targetDuration = Math.max(this.targetDuration, Math.round(s.durationMs / 1000));
    this.gapPending = this.window.length > 0; // a restart: the first new segment is a discontinuity
    this.nextStartMs = state.lastEndMs;
    this.st = {
      bytes: 0,
      segments: 0,
      segmentBytes: 0,
      droppedSegments: 0,
      bitrate: 0,
      averageBitrate: 0,
      peakBitrate: 0,
      lastSegmentAt: null,
      lastSegment: null,
      errors: 0,
      lastError: null,
      lastErrorAt: null,
    };

    const sink: SegmenterSink = {
      openSegment: (info) => this.onOpen(info),
      data: (chunk) => this.onData(chunk),
      closeSegment: (info) => this.onClose(info),
    };
    const segOpts: { targetDurationMs?: number; maxDurationMs?: number; discontinuityGapMs?: number } = { targetDurationMs: opts.segmentDurationMs };
    if (opts.maxDurationMs !== undefined) segOpts.maxDurationMs = opts.maxDurationMs;
    if (opts.discontinuityGapMs !== undefined) segOpts.discontinuityGapMs = opts.discontinuityGapMs;
    this.ext = opts.container === 'fmp4' ? 'm4s' : 'ts';
    this.segmenter =
      opts.container === 'fmp4'
        ? new CmafSegmenter(
            {
              init: (i) => this.onInit(i),
              openSegment: sink.openSegment,
              part: (p) => {
                this.onData(p.data);
                if (opts.lowLatency) this.onPart(p.data, p.index, p.durationMs, p.independent);
              },
              closeSegment: sink.closeSegment,
            },
            opts.lowLatency ? { ...segOpts, partDurationMs: opts.lowLatency.partDurationMs } : segOpts,
          )
        : new Segmenter(sink, segOpts);
  }

  /** Open a writer on `<root>/<rendition>`, recovering the live window and sequences from disk. */
  static async open(opts: HlsWriterOptions): Promise<HlsWriter> {
    if (!(opts.segmentDurationMs > 0)) throw new RangeError('segmentDurationMs must be > 0');
    if (!(opts.window >= 1)) throw new RangeError('window must be >= 1');
    const dir = safeJoin(opts.root, opts.rendition);
    await fsp.mkdir(dir, { recursive: true });
    const state = await HlsWriter.recover(dir, opts);
    // The container changed since the last run: one playlist never mixes them (a TS segment after an
    // EXT-X-MAP would be read as fMP4). The old window leaves the playlist; its sequence numbers stay used.
    const ext = opts.container === 'fmp4' ? '.m4s' : '.ts';
    // (fMP4 segments recovered without their init segment, from a playlist alone, go the same way.)
    if (state.segments.some((x) => !x.uri.endsWith(ext) || (ext === '.m4s' && x.map === undefined))) {
      state.mediaSequence += state.segments.length;
      state.discontinuitySequence++;
      if (!opts.keepSegments) state.retired.push(...state.segments.map((x) => x.uri));
      state.segments = [];
    }
    const w = new HlsWriter(opts, state);
    w.log.info({ mediaSequence: state.mediaSequence + state.segments.length, carried: state.segments.length }, 'hls writer open');
    w.enqueue({ kind: 'fn', fn: () => w.sweep() });
    return w;
  }

  /** live.json → old index.m3u8 → newest segment files (see hls-live-state.ts). */
  static recover(dir: string, opts: Pick<HlsWriterOptions, 'rendition' | 'window'>): Promise<LiveState> {
    return recoverLiveState(dir, opts.rendition, opts.window);
  }

  /** TS bytes, any chunking. The writer keeps references to the chunk until it is on disk: do not reuse it. */
  write(chunk: Buffer): void {
    if (this.closed) return;
    this.st.bytes += chunk.length;
    this.segmenter.push(chunk);
  }

  /** The source changed (input switch, restart of the encoder): the next segment starts a new timeline. */
  discontinuity(): void {
    if (this.closed) return;
    this.discontinuityRequested = true;
    this.segmenter.markDiscontinuity();
  }

  /** Close the open segment (it is placed and named like any other), wait for the disk, stop. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.segmenter.flush();
      this.closed = true;
    }
    await this.drain();
  }

  /** Resolves when everything queued so far is on disk. */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  get mediaInfo(): MediaInfo {
    return this.segmenter.mediaInfo;
  }

  /**
   * The segmenter's demux counters, the object itself (updated in place, no copy): the input
   * monitor of a passthrough stream reads them instead of demuxing the same bytes again.
   */
  get demuxStats(): DemuxStats {
    return this.segmenter.stats;
  }

  get stats(): HlsWriterStats {
    const demux = this.segmenter.stats;
    return {
      ...this.st,
      queuedBytes: this.queue.queuedBytes,
      fps: this.segmenter.mediaInfo?.fps,
      ccErrors: demux.ccErrors,
      nextMediaSequence: this.mediaSequence + this.window.length,
      discontinuitySequence: this.discontinuitySequence,
      targetDuration: this.targetDuration,
      demux,
    };
  }

  /** Segments currently named by the live playlist (oldest first). */
  get liveWindow(): readonly LiveSegment[] {
    return this.window;
  }

  // ---- producer side: segmenter callbacks (synchronous) ----

  private onOpen(info: SegmentOpen): void {
    if (this.current) this.abandon(this.current, new Error('segment opened while another was open'));
    const wall = Math.round(this.now());
    let start: number;
    let reanchored = false;
    if (this.nextStartMs === null) start = wall;
    else if (this.anchorNext || info.discontinuity || this.discontinuityRequested) start = Math.max(wall, this.nextStartMs);
    else if (wall - this.nextStartMs > this.maxPdtLagMs) {
      // the source fell behind real time: jump the PDT forward, and say so (PDT only jumps at a
      // discontinuity, so a player or the DVR never sees PDT disagree with EXTINF otherwise)
      start = wall;
      reanchored = true;
    } else start = this.nextStartMs;
    const discontinuity = info.discontinuity || this.discontinuityRequested || reanchored;
    this.anchorNext = false;
    this.discontinuityRequested = false;
    const [y, m, d, h] = hourDirParts(hourOf(start));
    const dir = path.join(this.dir, y, m, d, h);
    const seg: OpenSeg = { startMs: start, dir, tmp: path.join(dir, `.${randomBytes(6).toString('hex')}.tmp`), fh: null, failed: null, bytes: 0, discontinuity, keyframe: info.keyframe };
    if (this.currentMap !== undefined) seg.map = this.currentMap;
    this.current = seg;
    this.nextStartMs = start; // until the close says how long it is
    this.enqueue({ kind: 'open', seg });
  }

  /** fmp4: a new init segment, written (atomically, once per content) before any segment that names it. */
  private onInit(init: CmafInit): void {
    const name = `init-${createHash('sha1').update(init.data).digest('hex').slice(0, 12)}.mp4`;
    this.currentMap = name;
    const file = path.join(this.dir, name);
    this.enqueue({
      kind: 'fn',
      fn: async () => {
        if (!(await exists(file))) await writeFileAtomic(file, init.data);
      },
    });
  }

  /** LL-HLS: a part of the open segment; written as its own file, then the playlist names it. */
  private onPart(data: Buffer, index: number, durationMs: number, independent: boolean): void {
    const seg = this.current;
    if (!seg || seg.failed) return;
    seg.partsQueued = index + 1;
    const name = partName(seg.startMs, index);
    const uri = partUri(seg.startMs, index);
    this.enqueue({
      kind: 'fn',
      fn: async () => {
        if (seg.failed) return;
        const file = path.join(seg.dir, name);
        try {
          await writeFileAtomic(file, data);
        } catch (err) {
          this.recordError(err, 'part write failed');
          return;
        }
        this.parts.added(seg, { uri, durationMs, independent }, file);
        try {
          await writeFileAtomic(this.playlistPath, this.renderPlaylist());
        } catch (err) {
          this.recordError(err, 'live playlist update failed');
        }
      },
    });
  }

  private onData(chunk: Buffer): void {
    const seg = this.current;
    if (!seg || seg.failed) return;
    if (this.queue.queuedBytes + chunk.length > this.maxQueueBytes) {
      seg.failed = new Error(`disk too slow: more than ${this.maxQueueBytes} bytes waiting, segment dropped`);
      return;
    }
    this.enqueue({ kind: 'data', seg, chunk });
  }

  private onClose(info: SegmentClose): void {
    const seg = this.current;
    if (!seg) return;
    this.current = null;
    const durationMs = Math.max(1, Math.round(info.durationMs));
    this.nextStartMs = seg.startMs + durationMs;
    this.enqueue({ kind: 'close', seg, durationMs, keyframe: info.keyframe });
  }

  private abandon(seg: OpenSeg, err: Error): void {
    seg.failed ??= err;
    this.enqueue({ kind: 'close', seg, durationMs: 1, keyframe: seg.keyframe });
  }

  // ---- consumer side: the disk queue ----

  private enqueue(op: WriteOp<OpenSeg>): void {
    this.queue.push(op);
  }

  private step(op: StepOp<OpenSeg>): Promise<void> {
    return op.kind === 'open' ? this.doOpen(op.seg) : this.doClose(op.seg, op.durationMs, op.keyframe);
  }

  private recordError(err: unknown, msg: string): void {
    this.st.errors++;
    this.st.lastError = errMessage(err);
    this.st.lastErrorAt = this.now();
    this.log.error({ err }, msg);
  }

  private async doOpen(seg: OpenSeg): Promise<void> {
    if (seg.failed) return;
    try {
      await fsp.mkdir(seg.dir, { recursive: true });
      seg.fh = await fsp.open(seg.tmp, 'wx');
    } catch (err) {
      seg.failed = err as Error;
    }
  }

  private async doClose(seg: OpenSeg, durationMs: number, keyframe: boolean): Promise<void> {
    if (seg.fh) {
      try {
        await seg.fh.close();
      } catch (err) {
        seg.failed ??= err as Error;
      }
      seg.fh = null;
    }
    if (!seg.failed && seg.bytes === 0) seg.failed = new Error('empty segment');
    const name = `${seg.startMs}-${durationMs}.${this.ext}`;
    const final = path.join(seg.dir, name);
    if (!seg.failed) {
      try {
        await fsp.rename(seg.tmp, final);
      } catch (err) {
        seg.failed = err as Error;
      }
    }
    if (seg.failed) {
      if (this.opts.lowLatency) await this.parts.segmentClosed(seg, null);
      await fsp.unlink(seg.tmp).catch(() => undefined);
      this.st.droppedSegments++;
      this.gapPending = true;
      if (seg.failed.message !== 'empty segment') this.recordError(seg.failed, 'segment dropped');
      return;
    }

    const [y, m, d, h] = hourDirParts(hourOf(seg.startMs));
    const live: LiveSegment = {
      uri: `${y}/${m}/${d}/${h}/${name}`,
      startMs: seg.startMs,
      durationMs,
      bytes: seg.bytes,
      discontinuity: seg.discontinuity || this.gapPending,
      keyframe: keyframe && seg.keyframe,
    };
    if (seg.map !== undefined) live.map = seg.map;
    if (this.opts.lowLatency) await this.parts.segmentClosed(seg, live.uri);
    this.gapPending = false;
    const mediaSequence = this.mediaSequence + this.window.length;
    this.window.push(live);
    while (this.window.length > this.windowSize) {
      const out = this.window.shift()!;
      this.mediaSequence++;
      if (out.discontinuity) this.discontinuitySequence++;
      if (!this.opts.keepSegments) this.retired.push(out.uri);
    }
    // the first segment's discontinuity is carried by EXT-X-DISCONTINUITY-SEQUENCE; keep the
    // flag on it anyway (allowed) so a restart stays visible until it leaves the window
    this.targetDuration = Math.max(this.targetDuration, Math.round(durationMs / 1000));

    const bitrate = (seg.bytes * 8 * 1000) / durationMs;
    this.st.segments++;
    this.st.segmentBytes += seg.bytes;
    this.st.bitrate = Math.round(bitrate);
    if (durationMs * 2 >= this.opts.segmentDurationMs) this.st.peakBitrate = Math.max(this.st.peakBitrate, Math.round(bitrate));
    let wb = 0;
    let wd = 0;
    for (const s of this.window) {
      if (s.bytes > 0) {
        wb += s.bytes;
        wd += s.durationMs;
      }
    }
    this.st.averageBitrate = wd > 0 ? Math.round((wb * 8 * 1000) / wd) : 0;

    let published = false;
    try {
      await writeFileAtomic(this.statePath, JSON.stringify(this.snapshot()), NO_FSYNC);
      await writeFileAtomic(this.playlistPath, this.renderPlaylist(), NO_FSYNC);
      published = true;
    } catch (err) {
      this.recordError(err, 'live playlist update failed');
    }
    if (published) await deleteRetired(this.dir, this.retired, this.grace, this.inUse, this.log);

    const written: WrittenSegment = {
      rendition: this.rendition,
      path: final,
      uri: live.uri,
      startMs: live.startMs,
      durationMs,
      bytes: seg.bytes,
      mediaSequence,
      discontinuity: live.discontinuity,
      keyframe: live.keyframe,
    };
    this.st.lastSegmentAt = this.now();
    this.st.lastSegment = written;
    if (this.opts.onSegment) {
      try {
        await this.opts.onSegment(written);
      } catch (err) {
        this.log.warn({ err }, 'onSegment callback failed');
      }
    }
  }

  private snapshot(): LiveState {
    const last = this.window[this.window.length - 1];
    return {
      version: 1,
      rendition: this.rendition,
      mediaSequence: this.mediaSequence,
      discontinuitySequence: this.discontinuitySequence,
      targetDuration: this.targetDuration,
      lastEndMs: last ? last.startMs + last.durationMs : this.nextStartMs,
      segments: this.window,
      retired: this.retired,
      updatedAt: this.now(),
    };
  }

  /** The live media playlist text for the current window. */
  renderPlaylist(): string {
    const ll = this.opts.lowLatency;
    return renderMediaPlaylist({
      targetDuration: this.targetDuration,
      mediaSequence: this.mediaSequence,
      discontinuitySequence: this.discontinuitySequence,
      segments: this.window.map((s) => ({ uri: s.uri, durationMs: s.durationMs, programDateTime: s.startMs, discontinuity: s.discontinuity, map: s.map, parts: this.parts.partsOf(s.uri) })),
      lowLatency: ll && {
        partTargetMs: ll.partDurationMs,
        trailingParts: this.parts.trailing,
        trailingDiscontinuity: this.parts.open !== null && (this.parts.open.seg.discontinuity || this.gapPending),
        trailingMap: this.parts.open?.seg.map,
        preloadHint: this.parts.preloadHint(this.current, this.opening()),
      },
    });
  }

  /** Segments queued for opening, oldest first (the preload hint may name the next one's first part). */
  private *opening(): Generator<OpenSeg> {
    for (const op of this.queue.pending()) if (op.kind === 'open') yield op.seg;
  }

  /** Whether a directory holds the segment being written or the window's newest (never removed while empty). */
  private readonly inUse = (dir: string): boolean => {
    if (this.current && this.current.dir.startsWith(dir)) return true;
    const last = this.window[this.window.length - 1];
    return !!last && path.join(this.dir, last.uri).startsWith(dir + path.sep);
  };

  /** After a restart: crash leftovers and segments no state names go (see hls-retirement.ts). */
  private sweep(): Promise<void> {
    return sweepStale(this.dir, {
      keep: new Set([...this.window.map((s) => s.uri), ...this.retired]),
      firstStartMs: this.window[0]?.startMs ?? this.nextStartMs ?? 0,
      keepSegments: this.opts.keepSegments,
      currentDir: this.current?.dir,
      inUse: this.inUse,
    });
  }
}
