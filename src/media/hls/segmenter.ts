/**
 * HLS segmenter: a pure state machine over MPEG-TS bytes (no I/O, no remux).
 *
 * TS packets are passed through untouched, as views of the input when possible, except:
 * - null packets (PID 0x1FFF) are dropped;
 * - packets before the first segment opens (waiting for a keyframe) are dropped;
 * - PAT/PMT packets are copied and their continuity counter rewritten, so that the PAT+PMT injected at the
 *   start of every segment (copies of the latest sections) keep those PIDs continuous in the output.
 *
 * Cuts happen only at the first packet of a PES of the primary track (first video track, else first
 * audio track): for video when that PES starts with an IDR/IRAP picture and the segment has lasted at least
 * `targetDurationMs` (10 ms tolerance for millisecond-rounded timestamps), or without a keyframe once it
 * has lasted `maxDurationMs`; for audio-only programs on any audio PES by time.
 * Durations are measured on the primary track's DTS (PTS when there is no DTS): a segment lasts from its
 * first frame to the first frame of the next one; the last one (flush / discontinuity) ends one frame
 * duration after its last frame.
 *
 * A timestamp jump of the primary track (forward > discontinuityGapMs, or any step back) or
 * `markDiscontinuity()` closes the open segment, drops what follows until the next keyframe, and opens the
 * next segment with `discontinuity: true`.
 */
import { Buffer } from 'node:buffer';
import { TsDemuxer, type TsDemuxListener, type TsTrack } from '../ts/demuxer.js';
import { packetizeSection, sectionPacketCount } from '../ts/psi.js';
import { PID_PAT, type DemuxStats, type MediaInfo } from '../ts/types.js';

export type { DemuxStats, MediaInfo, TrackInfo } from '../ts/types.js';

export interface SegmentOpen {
  /** PTS (90 kHz, unwrapped) of the segment's first frame of the primary track. */
  startPts: number;
  discontinuity: boolean;
  /** The segment starts with a keyframe (false only for cuts forced by maxDurationMs). */
  keyframe: boolean;
}

export interface SegmentClose {
  startPts: number;
  /** Milliseconds, may be fractional (e.g. 2002.002 for 29.97 fps). */
  durationMs: number;
  /** Bytes handed to `data` for this segment (injected PAT/PMT included). */
  bytes: number;
  keyframe: boolean;
  discontinuity: boolean;
}

export interface SegmenterSink {
  openSegment(info: SegmentOpen): void;
  /** Whole 188-byte packets; may be subarray views of the input chunk (caller must not mutate input afterwards). */
  data(chunk: Buffer): void;
  closeSegment(info: SegmentClose): void;
}

export interface SegmenterOptions {
  /** Default 2000. */
  targetDurationMs: number;
  /** Force a cut without keyframe after this long (default 3 × target); such segments have keyframe: false. */
  maxDurationMs?: number;
  /** PTS jump (forward > this, or any backward) = discontinuity. Default 5000. */
  discontinuityGapMs?: number;
}

const PACKET = 188;
// Local copies of the demuxer's PKT_NULL / PKT_PSI flags (read per packet; imported bindings can cost a
// getter call under some loaders). A unit test checks they match.
const PKT_NULL = 1;
const PKT_PSI = 2;
/** Cut tolerance: a keyframe this close below the target still cuts (ms-rounded sources). */
const TOLERANCE_TICKS = 10 * 90;

const ACT_APPEND = 0;
const ACT_OPEN = 1;
const ACT_DROP = 2;

class Core implements TsDemuxListener {
  demux!: TsDemuxer;
  private readonly targetTicks: number;
  private readonly maxTicks: number;

  private primaryPid = -1;

  // The current run of contiguous packets not yet handed out: runBuf[runStart, runEnd).
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;

  // Pending group: packets from the first packet of a primary PES until its keyframe status is known.
  private grouping = false;
  private groupReady = false;
  private gKey = false;
  private gT = Number.NaN;
  private gPts = Number.NaN;
  private gJump = false;
  private readonly groupBufs: Buffer[] = [];
  private readonly groupPsi: boolean[] = [];

  // Open segment.
  private open = false;
  private segStartT = 0;
  private segStartPts = 0;
  private segKey = false;
  private segDisc = false;
  private segBytes = 0;
  private everOpened = false;
  private nextDisc = false;
  private waitStartT = Number.NaN;

  // Primary timeline (DTS, else PTS).
  private lastT = Number.NaN;
  private lastDelta = 0;

  // Output continuity counters of the PSI PIDs.
  private readonly outCc = new Uint8Array(8192).fill(15);

  constructor(
    private readonly sink: SegmenterSink,
    targetMs: number,
    maxMs: number,
  ) {
    this.targetTicks = targetMs * 90;
    this.maxTicks = maxMs * 90;
  }

  // --- TsDemuxListener ---------------------------------------------------------------------------

  packet(buf: Buffer, offset: number, _pid: number, flags: number): void {
    if (flags & (PKT_NULL | PKT_PSI)) {
      this.flushRun();
      this.runBuf = null;
      if (flags & PKT_PSI) this.emit(Buffer.from(buf.subarray(offset, offset + PACKET)), true);
    } else {
      if (buf !== this.runBuf || offset !== this.runEnd) {
        this.flushRun();
        this.runBuf = buf;
        this.runStart = offset;
      }
      this.runEnd = offset + PACKET;
    }
    if (this.groupReady) this.resolveGroup();
  }

  pesBegin(track: TsTrack): void {
    if (track.pid !== this.primaryPid) return;
    if (this.grouping) this.resolveGroup();
    this.flushRun();
    this.grouping = true;
    this.groupReady = false;
  }

  pesReady(track: TsTrack): void {
    if (track.pid !== this.primaryPid || !this.grouping) return;
    this.groupReady = true;
    this.gKey = track.keyframe;
    this.gPts = track.pts;
    this.gT = track.dts === track.dts ? track.dts : track.pts;
    this.gJump = track.jump;
  }

  pes(): void {}

  mediaInfo(): void {}

  program(): void {
    let pid = -1;
    for (const t of this.demux.tracks) {
      if (t.kind === 'video' && t.isPes) {
        pid = t.pid;
        break;
      }
    }
    if (pid < 0) {
      for (const t of this.demux.tracks) {
        if (t.kind === 'audio' && t.isPes) {
          pid = t.pid;
          break;
        }
      }
    }
    if (pid !== this.primaryPid) {
      if (this.grouping) this.abandonGroup();
      this.primaryPid = pid;
      this.lastT = Number.NaN;
    }
  }

  // --- output --------------------------------------------------------------------------------------

  flushRun(): void {
    if (this.runBuf !== null && this.runEnd > this.runStart) {
      this.emit(this.runBuf.subarray(this.runStart, this.runEnd), false);
      this.runStart = this.runEnd;
    }
  }

  endChunk(): void {
    this.flushRun();
    this.runBuf = null;
  }

  private emit(b: Buffer, psi: boolean): void {
    if (this.grouping) {
      this.groupBufs.push(b);
      this.groupPsi.push(psi);
    } else if (this.open) {
      this.deliver(b, psi);
    }
  }

  private deliver(b: Buffer, psi: boolean): void {
    if (psi) {
      const pid = ((b[1]! & 0x1f) << 8) | b[2]!;
      let cc = this.outCc[pid]!;
      if (b[3]! & 0x10) {
        cc = (cc + 1) & 0x0f;
        this.outCc[pid] = cc;
      }
      b[3] = (b[3]! & 0xf0) | cc;
    }
    this.segBytes += b.length;
    this.sink.data(b);
  }

  private deliverGroup(): void {
    const bufs = this.groupBufs;
    const psi = this.groupPsi;
    if (this.open) for (let k = 0; k < bufs.length; k++) this.deliver(bufs[k]!, psi[k]!);
    bufs.length = 0;
    psi.length = 0;
  }

  // --- decisions -----------------------------------------------------------------------------------

  private resolveGroup(): void {
    const ready = this.groupReady;
    this.grouping = false;
    this.groupReady = false;
    const t = ready ? this.gT : Number.NaN;
    const key = ready && this.gKey;
    let act = this.open ? ACT_APPEND : ACT_DROP;
    if (t === t) {
      if (this.gJump) {
        if (this.open) {
          this.closeSegment(this.estimatedEnd());
          if (this.everOpened) this.nextDisc = true;
        }
        this.lastT = Number.NaN;
        this.waitStartT = Number.NaN;
      }
      if (!this.open) {
        if (this.waitStartT !== this.waitStartT) this.waitStartT = t;
        act = key || t - this.waitStartT >= this.maxTicks ? ACT_OPEN : ACT_DROP;
      } else {
        const elapsed = t - this.segStartT;
        if ((key && elapsed >= this.targetTicks - TOLERANCE_TICKS) || elapsed >= this.maxTicks) {
          this.closeSegment(t);
          act = ACT_OPEN;
        }
      }
      const last = this.lastT;
      if (last !== last || t >= last) {
        if (last === last && t > last) this.lastDelta = t - last;
        this.lastT = t;
      }
    }
    if (act === ACT_OPEN) {
      this.openSegment(t, this.gPts === this.gPts ? this.gPts : t, key);
      this.deliverGroup();
    } else if (act === ACT_APPEND) {
      this.deliverGroup();
    } else {
      this.groupBufs.length = 0;
      this.groupPsi.length = 0;
      this.runStart = this.runEnd;
    }
  }

  /** Ends the pending group without a cut decision (source switch, primary track change). */
  private abandonGroup(): void {
    this.flushRun();
    this.grouping = false;
    this.groupReady = false;
    this.deliverGroup();
  }

  private estimatedEnd(): number {
    let d = this.lastDelta;
    if (d <= 0) {
      const fps = this.demux.mediaInfo.fps;
      if (fps !== undefined && fps > 0) d = 90000 / fps;
    }
    const last = this.lastT === this.lastT ? this.lastT : this.segStartT;
    return Math.max(this.segStartT, last + d);
  }

  private openSegment(t: number, pts: number, key: boolean): void {
    this.open = true;
    this.segStartT = t;
    this.segStartPts = pts;
    this.segKey = key;
    this.segDisc = this.nextDisc;
    this.nextDisc = false;
    this.segBytes = 0;
    this.waitStartT = Number.NaN;
    this.everOpened = true;
    this.sink.openSegment({ startPts: pts, discontinuity: this.segDisc, keyframe: key });
    const pat = this.demux.patSection;
    const pmt = this.demux.pmtSection;
    const pmtPid = this.demux.pmtPid;
    if (pat !== null) this.inject(pat, PID_PAT);
    if (pmt !== null && pmtPid >= 0) this.inject(pmt, pmtPid);
  }

  private inject(section: Buffer, pid: number): void {
    const first = (this.outCc[pid]! + 1) & 0x0f;
    const pk = packetizeSection(section, pid, first);
    this.outCc[pid] = (first + sectionPacketCount(section.length) - 1) & 0x0f;
    this.segBytes += pk.length;
    this.sink.data(pk);
  }

  private closeSegment(endT: number): void {
    if (!this.open) return;
    this.open = false;
    this.sink.closeSegment({
      startPts: this.segStartPts,
      durationMs: Math.max(0, endT - this.segStartT) / 90,
      bytes: this.segBytes,
      keyframe: this.segKey,
      discontinuity: this.segDisc,
    });
  }

  /** The source switched: close what is open; the next segment opens at a keyframe, flagged discontinuity. */
  discontinuity(): void {
    this.endChunk();
    if (this.grouping) this.abandonGroup();
    if (this.open) this.closeSegment(this.estimatedEnd());
    if (this.everOpened) this.nextDisc = true;
    this.lastT = Number.NaN;
    this.waitStartT = Number.NaN;
  }

  /** End of stream. */
  finish(): void {
    this.endChunk();
    if (this.grouping) {
      if (this.groupReady) this.resolveGroup();
      else this.abandonGroup();
      this.endChunk();
    }
    if (this.open) this.closeSegment(this.estimatedEnd());
    this.lastT = Number.NaN;
    this.waitStartT = Number.NaN;
  }
}

export class Segmenter {
  private readonly core: Core;
  private readonly demux: TsDemuxer;

  constructor(sink: SegmenterSink, opts: Partial<SegmenterOptions> = {}) {
    const target = opts.targetDurationMs !== undefined && opts.targetDurationMs > 0 ? opts.targetDurationMs : 2000;
    const max = opts.maxDurationMs !== undefined && opts.maxDurationMs > 0 ? Math.max(opts.maxDurationMs, target) : 3 * target;
    const gap = opts.discontinuityGapMs !== undefined && opts.discontinuityGapMs >= 0 ? opts.discontinuityGapMs : 5000;
    this.core = new Core(sink, target, max);
    this.demux = new TsDemuxer(this.core, { jumpThresholdMs: gap, reassemble: false });
    this.core.demux = this.demux;
  }

  /** Feeds TS bytes (any chunking). Never throws on bad bytes. */
  push(chunk: Buffer): void {
    this.demux.push(chunk);
    this.core.endChunk();
  }

  /** The source switched: the next segment is cut at the next keyframe and flagged discontinuity. */
  markDiscontinuity(): void {
    this.core.discontinuity();
    this.demux.reset();
  }

  /** End of stream: closes the open segment (its duration estimated from the last frame). */
  flush(): void {
    this.demux.flush();
    this.core.finish();
  }

  /** Codec strings, resolution, frame rate, audio parameters, tracks (updated in place). */
  get mediaInfo(): MediaInfo {
    return this.demux.mediaInfo;
  }

  /** Demux counters (updated in place). The caller timestamps them (this module has no clock). */
  get stats(): DemuxStats {
    return this.demux.stats;
  }
}
