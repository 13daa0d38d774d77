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
import { renderMediaPlaylist, type PlaylistPart } from '../../media/hls/playlist.js';
import type { MediaInfo, DemuxStats } from '../../media/ts/types.js';
import { hourDirParts, hourDirRel, hourOf, parseSegmentName } from '../../protocol/layout.js';
import { pruneEmptyHourDirs, walkHourDirs } from '../../protocol/walk.js';
import { exists, recoverLiveState, type LiveSegment, type LiveState } from './hls-live-state.js';

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

/**
 * Complete segments whose parts stay listed: with the segment being written that makes three segments,
 * the most the spec allows (parts older than three target durations from the end must go).
 */
const LL_SEGMENTS_WITH_PARTS = 2;
/** Segments whose part files stay on disk after they stop being listed (players may hold an older playlist). */
const LL_PART_GRACE = 2;
const PART_NAME = /^\d{1,16}-p\d{1,4}\.m4s$/;

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

type Op =
  | { kind: 'open'; seg: OpenSeg }
  | { kind: 'data'; seg: OpenSeg; chunk: Buffer }
  | { kind: 'close'; seg: OpenSeg; durationMs: number; keyframe: boolean }
  | { kind: 'fn'; fn: () => Promise<void> };

const MAX_WRITEV = 1024;

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
  // LL-HLS (consumer side): parts of the segment being written, of recent segments, files to delete
  private llOpen: { seg: OpenSeg; parts: PlaylistPart[]; files: string[] } | null = null;
  private readonly llDone = new Map<string, PlaylistPart[]>();
  private readonly llFiles: string[][] = [];
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

  private queue: Op[] = [];
  private qHead = 0;
  private pumping: Promise<void> | null = null;

  private readonly st: Omit<HlsWriterStats, 'demux' | 'fps' | 'ccErrors' | 'nextMediaSequence' | 'discontinuitySequence' | 'targetDuration'>;

  private constructor(private readonly opts: HlsWriterOptions, state: LiveState) {
    this.rendition = opts.rendition;
    this.dir = safeJoin(opts.root, opts.rendition);
    this.playlistPath = path.join(this.dir, 'index.m3u8');
    this.statePath = path.join(this.dir, 'live.json');
    this.log = (opts.logger ?? silentLogger).child({ rendition: opts.rendition });
    this.now = opts.now ?? Date.now;
    this.windowSize = Math.max(1, Math.floor(opts.window));
    this.grace = Math.max(0, opts.deleteGrace ?? 2);
    this.maxQueueBytes = opts.maxQueueBytes ?? 64 * 1024 * 1024;
    this.maxPdtLagMs = opts.maxPdtLagMs ?? 10_000;
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
      queuedBytes: 0,
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
  async drain(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  get mediaInfo(): MediaInfo {
    return this.segmenter.mediaInfo;
  }

  get stats(): HlsWriterStats {
    const demux = this.segmenter.stats;
    return {
      ...this.st,
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
    const name = `${seg.startMs}-p${index}.m4s`;
    const uri = `${hourDirRel(hourOf(seg.startMs))}/${name}`;
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
        if (this.llOpen?.seg !== seg) this.llOpen = { seg, parts: [], files: [] };
        this.llOpen.parts.push({ uri, durationMs, independent });
        this.llOpen.files.push(file);
        try {
          await writeFileAtomic(this.playlistPath, this.renderPlaylist());
        } catch (err) {
          this.recordError(err, 'live playlist update failed');
        }
      },
    });
  }

  /** LL-HLS, after a segment closed: its parts move to the recent list; old part files go. */
  private async llSegmentClosed(seg: OpenSeg, uri: string | null): Promise<void> {
    const open = this.llOpen;
    if (open === null || open.seg !== seg) return;
    this.llOpen = null;
    if (uri !== null) this.llDone.set(uri, open.parts);
    this.llFiles.push(open.files);
    while (this.llDone.size > LL_SEGMENTS_WITH_PARTS) this.llDone.delete(this.llDone.keys().next().value!);
    while (this.llFiles.length > LL_SEGMENTS_WITH_PARTS + LL_PART_GRACE) {
      for (const f of this.llFiles.shift()!) await fsp.unlink(f).catch(() => undefined);
    }
  }

  private onData(chunk: Buffer): void {
    const seg = this.current;
    if (!seg || seg.failed) return;
    if (this.st.queuedBytes + chunk.length > this.maxQueueBytes) {
      seg.failed = new Error(`disk too slow: more than ${this.maxQueueBytes} bytes waiting, segment dropped`);
      return;
    }
    this.st.queuedBytes += chunk.length;
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

  private enqueue(op: Op): void {
    this.queue.push(op);
    if (!this.pumping) this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (this.qHead < this.queue.length) {
        const op = this.queue[this.qHead]!;
        if (op.kind === 'data') {
          // coalesce consecutive chunks of the same segment into one writev
          const bufs: Buffer[] = [];
          let n = 0;
          while (this.qHead < this.queue.length && bufs.length < MAX_WRITEV) {
            const o = this.queue[this.qHead]!;
            if (o.kind !== 'data' || o.seg !== op.seg) break;
            bufs.push(o.chunk);
            n += o.chunk.length;
            this.qHead++;
          }
          await this.writeData(op.seg, bufs, n);
        } else {
          this.qHead++;
          try {
            if (op.kind === 'open') await this.doOpen(op.seg);
            else if (op.kind === 'close') await this.doClose(op.seg, op.durationMs, op.keyframe);
            else await op.fn();
          } catch (err) {
            this.recordError(err, 'hls writer step failed');
          }
        }
        if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.qHead);
          this.qHead = 0;
        }
      }
      this.queue = [];
      this.qHead = 0;
    } finally {
      this.pumping = null;
    }
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

  private async writeData(seg: OpenSeg, bufs: Buffer[], n: number): Promise<void> {
    try {
      if (seg.failed || !seg.fh) return;
      const { bytesWritten } = await seg.fh.writev(bufs);
      if (bytesWritten !== n) throw Object.assign(new Error(`short write (${bytesWritten} of ${n} bytes): disk full?`), { code: 'ENOSPC' });
      seg.bytes += n;
    } catch (err) {
      seg.failed = err as Error;
    } finally {
      this.st.queuedBytes -= n;
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
      if (this.opts.lowLatency) await this.llSegmentClosed(seg, null);
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
    if (this.opts.lowLatency) await this.llSegmentClosed(seg, live.uri);
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
    if (published) await this.deleteRetired();

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
      segments: this.window.map((s) => ({ uri: s.uri, durationMs: s.durationMs, programDateTime: s.startMs, discontinuity: s.discontinuity, map: s.map, parts: this.llDone.get(s.uri) })),
      lowLatency: ll && {
        partTargetMs: ll.partDurationMs,
        trailingParts: this.llOpen?.parts ?? [],
        trailingDiscontinuity: this.llOpen !== null && (this.llOpen.seg.discontinuity || this.gapPending),
        trailingMap: this.llOpen?.seg.map,
        preloadHint: this.preloadHint(),
      },
    });
  }

  /** The next part's URI: of the open segment, else of the next segment already opened by the producer. */
  private preloadHint(): string | undefined {
    let seg: OpenSeg | undefined;
    let index = 0;
    const open = this.llOpen;
    // the open segment's next part, unless the producer already closed it after its last part
    if (open !== null && (open.seg === this.current || open.parts.length < (open.seg.partsQueued ?? 0))) {
      seg = open.seg;
      index = open.parts.length;
    } else {
      for (let k = this.qHead; k < this.queue.length && seg === undefined; k++) {
        const op = this.queue[k]!;
        if (op.kind === 'open' && op.seg !== open?.seg) seg = op.seg;
      }
      seg ??= this.current ?? undefined;
    }
    if (seg === undefined || seg.failed) return undefined;
    return `${hourDirRel(hourOf(seg.startMs))}/${seg.startMs}-p${index}.m4s`;
  }

  private async deleteRetired(): Promise<void> {
    while (this.retired.length > this.grace) {
      const uri = this.retired.shift()!;
      const file = path.join(this.dir, uri);
      await fsp.unlink(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.log.warn({ err, file }, 'could not delete old segment');
      });
      await this.removeEmptyHourDirs(path.dirname(file));
    }
  }

  /** rmdir HH, DD, MM, YYYY while empty (never the hour dir a segment is being written to). */
  private removeEmptyHourDirs(hourDir: string): Promise<void> {
    return pruneEmptyHourDirs(this.dir, hourDir, (dir) => {
      if (this.current && this.current.dir.startsWith(dir)) return true;
      const last = this.window[this.window.length - 1];
      return !!last && path.join(this.dir, last.uri).startsWith(dir + path.sep);
    });
  }

  /**
   * After a restart: remove temp files left by a crash in the newest hour dirs; without DVR also
   * the segments there that are older than the window and named by no state (left behind when the
   * state was lost). Bounded to the two newest hours on purpose: never a sweep of a whole tree.
   */
  private async sweep(): Promise<void> {
    const keep = new Set([...this.window.map((s) => s.uri), ...this.retired]);
    const firstStart = this.window[0]?.startMs ?? this.nextStartMs ?? 0;
    const hours = (await walkHourDirs(this.dir, { descending: true, limit: 2 }).catch(() => [] as number[])).reverse().map(hourDirRel);
    const current = this.current?.dir;
    for (const hour of hours) {
      const hdir = path.join(this.dir, hour);
      let names: string[];
      try {
        names = await fsp.readdir(hdir);
      } catch {
        continue;
      }
      for (const n of names) {
        // (part files of an earlier run: no playlist of this run names them)
        const isTmp = (n.startsWith('.') && n.endsWith('.tmp')) || PART_NAME.test(n);
        // the temp file of this writer's open segment is not garbage
        if (isTmp && hdir === current) continue;
        const seg = parseSegmentName(n);
        const stale = isTmp || (!this.opts.keepSegments && seg !== undefined && seg.startMs < firstStart && !keep.has(`${hour}/${n}`));
        if (stale) await fsp.unlink(path.join(hdir, n)).catch(() => undefined);
      }
      if (!this.opts.keepSegments) await this.removeEmptyHourDirs(hdir);
    }
  }
}
