/**
 * MPEG-TS → CMAF remuxer and segmenter: a pure state machine over TS bytes (no I/O, no ffmpeg).
 *
 * The TS demuxer reassembles PES payloads; each video PES is one access unit (Annex-B, AUD and filler
 * dropped, NAL units written length-prefixed), each audio PES holds ADTS frames (one AAC sample each).
 * Tracks: the first H.264/H.265 video and the first AAC audio of the program (others are ignored).
 *
 * Cutting follows the TS segmenter's rules so that both containers give the same segment timeline:
 * a segment opens on a video keyframe, is cut at the first keyframe once it lasted the target (10 ms
 * tolerance), or without one once it lasted `maxDurationMs` (that segment is flagged keyframe: false).
 * Audio-only programs cut by time. With `partDurationMs` > 0 every segment is delivered as parts (one
 * moof+mdat each) that never last longer than the part target; a part is independent when it starts
 * with a keyframe. Without parts a segment is one fragment.
 *
 * A new init segment is produced before the first segment and whenever the codec parameters change (SPS/
 * PPS/VPS of a keyframe, AAC configuration, program change): the segment after it is a discontinuity.
 * A timestamp jump also opens a discontinuity segment (same init).
 *
 * Timescales: video 90 kHz (TS timestamps kept as they are), audio the sample rate; audio decode times
 * continue sample-exact from fragment to fragment unless the source's timestamps move by more than
 * two frames (then they follow the source).
 */
import { Buffer } from 'node:buffer';
import { parseAdtsHeader } from '../codec/aac.js';
import { splitAnnexB } from '../codec/annexb.js';
import type { SegmentClose, SegmentOpen } from '../hls/segmenter.js';
import { TsDemuxer, type TsDemuxListener, type TsTrack } from '../ts/demuxer.js';
import type { DemuxStats, MediaInfo } from '../ts/types.js';
import { buildFragment, type FragmentTrack, type Mp4Sample } from './fragment.js';
import { audioTrack, buildInitSegment, codecsOf, videoTrackFromParams, type Mp4AudioTrack, type Mp4Track, type Mp4VideoTrack } from './init.js';

export type { SegmentClose, SegmentOpen } from '../hls/segmenter.js';

export interface CmafInit {
  /** ftyp + moov. */
  data: Buffer;
  tracks: Mp4Track[];
  /** RFC 6381 codecs of the tracks (video first). */
  codecs: string;
  /** Counts from 0; changes with every new init segment. */
  version: number;
}

export interface CmafPart {
  /** moof + mdat. */
  data: Buffer;
  /** Decode time (90 kHz) of the part's first primary sample. */
  startDts: number;
  durationMs: number;
  /** Starts with a keyframe (a decoder can start here). */
  independent: boolean;
  /** Index of the part within its segment, from 0. */
  index: number;
}

export interface CmafSink {
  /** A new init segment; the segments that follow use it. Called before the first openSegment. */
  init(init: CmafInit): void;
  openSegment(info: SegmentOpen): void;
  part(part: CmafPart): void;
  closeSegment(info: SegmentClose): void;
}

export interface CmafSegmenterOptions {
  /** Default 2000. */
  targetDurationMs: number;
  /** Default 3 × target. */
  maxDurationMs?: number;
  /** 0 (default): one fragment per segment. Otherwise the part target (LL-HLS). */
  partDurationMs?: number;
  /** PTS jump (forward > this, or backward) = discontinuity. Default 5000. */
  discontinuityGapMs?: number;
  /** How long to wait for the audio configuration before starting video-only. Default: maxDurationMs. */
  audioWaitMs?: number;
}

const TOLERANCE_TICKS = 10 * 90;
/** Audio frames held for the next fragment at most (about 40 s of 48 kHz AAC). */
const MAX_PENDING_AUDIO = 2048;
const INIT_OK = 0;
/** No usable video parameter sets yet. */
const INIT_NO_VIDEO = 1;
/** Video is ready, the audio configuration is not (and the wait is not over). */
const INIT_WAIT_AUDIO = 2;
const VIDEO_ID = 1;
const AUDIO_ID = 2;

interface VSample {
  dts: number;
  pts: number;
  key: boolean;
  chunks: Uint8Array[];
}

interface ASample {
  /** 90 kHz. */
  t: number;
  chunk: Uint8Array;
  /** objectType | samplingIndex | channelConfig of its ADTS header. */
  cfg: number;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

export class CmafSegmenter {
  private readonly demux: TsDemuxer;
  private readonly targetTicks: number;
  private readonly maxTicks: number;
  private readonly partTicks: number;
  private readonly audioWaitTicks: number;

  private videoPid = -1;
  private audioPid = -1;
  private videoCodec: 'h264' | 'h265' = 'h264';

  // Latest parameter sets seen in the stream and the ones of the current init.
  private vps: Uint8Array | undefined;
  private sps: Uint8Array | undefined;
  private pps: Uint8Array | undefined;
  private initVideo: Mp4VideoTrack | null = null;
  private initAudio: Mp4AudioTrack | null = null;
  private initVersion = -1;
  private needInit = true;
  private audioCfg = -1;
  private audioRate = 0;

  // Segment state (90 kHz, primary track).
  private open = false;
  private segStart = 0;
  private segStartPts = 0;
  private segKey = false;
  private segDisc = false;
  private segBytes = 0;
  private partIndex = 0;
  private partStart = 0;
  private nextDisc = false;
  private everOpened = false;
  private waitStart = Number.NaN;
  private lastDelta = 0;
  private lastT = Number.NaN;
  private sequence = 0;

  private vPending: VSample[] = [];
  /** Video from a keyframe on, held while the init waits for the audio configuration. */
  private held: VSample[] = [];
  private aPending: ASample[] = [];
  /** Next audio decode time (sample-rate ticks), NaN when the timeline restarts. */
  private audioNext = Number.NaN;

  constructor(
    private readonly sink: CmafSink,
    opts: Partial<CmafSegmenterOptions> = {},
  ) {
    const target = opts.targetDurationMs !== undefined && opts.targetDurationMs > 0 ? opts.targetDurationMs : 2000;
    const max = opts.maxDurationMs !== undefined && opts.maxDurationMs > 0 ? Math.max(opts.maxDurationMs, target) : 3 * target;
    this.targetTicks = target * 90;
    this.maxTicks = max * 90;
    this.partTicks = Math.max(0, opts.partDurationMs ?? 0) * 90;
    this.audioWaitTicks = (opts.audioWaitMs ?? max) * 90;
    const gap = opts.discontinuityGapMs !== undefined && opts.discontinuityGapMs >= 0 ? opts.discontinuityGapMs : 5000;
    // A listener of its own: the demuxer's `mediaInfo` callback would clash with the getter below.
    const listener: Partial<TsDemuxListener> = {
      program: () => this.program(),
      pes: (t, p) => this.pes(t, p),
    };
    this.demux = new TsDemuxer(listener, { jumpThresholdMs: gap, reassemble: true });
  }

  /** Feeds TS bytes (any chunking). Never throws on bad bytes. */
  push(chunk: Buffer): void {
    this.demux.push(chunk);
  }

  /** The source switched: the open segment ends; the next opens at a keyframe, flagged discontinuity. */
  markDiscontinuity(): void {
    this.endSegment(Number.NaN);
    this.resetTimeline();
    this.demux.reset();
  }

  /** End of stream: emits pending PES and closes the open segment (last frame duration estimated). */
  flush(): void {
    this.demux.flush();
    this.endSegment(Number.NaN);
    this.resetTimeline();
  }

  get mediaInfo(): MediaInfo {
    return this.demux.mediaInfo;
  }

  get stats(): DemuxStats {
    return this.demux.stats;
  }

  /** The current init segment, null before the first. */
  get currentInit(): { video: Mp4VideoTrack | null; audio: Mp4AudioTrack | null } {
    return { video: this.initVideo, audio: this.initAudio };
  }

  // --- TsDemuxListener --------------------------------------------------------------------------------

  private program(): void {
    let v = -1;
    let a = -1;
    for (const t of this.demux.tracks) {
      if (!t.isPes) continue;
      if (v < 0 && t.kind === 'video' && (t.codec === 'h264' || t.codec === 'h265')) {
        v = t.pid;
        this.videoCodec = t.codec;
      }
      if (a < 0 && t.kind === 'audio' && t.codec === 'aac') a = t.pid;
    }
    if (v !== this.videoPid || a !== this.audioPid) {
      this.endSegment(Number.NaN);
      this.resetTimeline();
      this.videoPid = v;
      this.audioPid = a;
      this.vps = this.sps = this.pps = undefined;
      this.audioCfg = -1;
      this.needInit = true;
    }
  }

  private pes(track: TsTrack, payload: Buffer): void {
    if (track.pid === this.videoPid) this.onVideoPes(track, payload);
    else if (track.pid === this.audioPid) this.onAudioPes(track, payload);
  }

  // --- video ------------------------------------------------------------------------------------------

  private onVideoPes(track: TsTrack, payload: Buffer): void {
    const pts = track.pts;
    const dts = track.dts === track.dts ? track.dts : pts;
    if (dts !== dts) return;
    const h265 = this.videoCodec === 'h265';
    const copy = Buffer.from(payload);
    const chunks: Uint8Array[] = [];
    for (const nal of splitAnnexB(copy, this.videoCodec)) {
      const type = nal.type;
      if (h265 ? type === 35 || type === 38 : type === 9 || type === 12) continue; // AUD, filler
      const bytes = copy.subarray(nal.start, nal.end);
      if (h265 ? type === 32 : false) this.vps = bytes;
      else if (h265 ? type === 33 : type === 7) this.sps = bytes;
      else if (h265 ? type === 34 : type === 8) this.pps = bytes;
      chunks.push(bytes);
    }
    if (chunks.length === 0) return;
    if (track.jump) this.onJump();
    this.onPrimary({ dts, pts: pts === pts ? pts : dts, key: track.keyframe, chunks });
  }

  private paramsChanged(): boolean {
    const v = this.initVideo;
    if (v === null) return this.sps !== undefined;
    return !sameBytes(v.sps[0], this.sps) || !sameBytes(v.pps[0], this.pps) || !sameBytes(v.vps[0], this.vps);
  }

  private onPrimary(s: VSample): void {
    const t = s.dts;
    if (!this.open) {
      if (this.waitStart !== this.waitStart) this.waitStart = t;
      const held = this.held;
      if (held.length === 0 && !s.key && t - this.waitStart < this.maxTicks) return;
      const r = this.ensureInit(t);
      if (r === INIT_NO_VIDEO) {
        held.length = 0;
        return;
      }
      if (r === INIT_WAIT_AUDIO) {
        // Keep the GOP while the audio configuration is still unknown (TS muxers may send it late).
        held.push(s);
        return;
      }
      if (held.length > 0) {
        this.held = [];
        this.openSegment(held[0]!);
        this.place(held[0]!, false);
        for (let k = 1; k < held.length; k++) this.place(held[k]!, true);
        this.place(s, true);
        return;
      }
      this.openSegment(s);
      this.place(s, false);
      return;
    }
    this.place(s, true);
  }

  /** Adds a sample to the open segment; `cut`: first decide whether it starts a new segment or part. */
  private place(s: VSample, cut: boolean): void {
    const t = s.dts;
    if (cut) {
      const elapsed = t - this.segStart;
      if ((s.key && elapsed >= this.targetTicks - TOLERANCE_TICKS) || elapsed >= this.maxTicks) {
        this.endSegment(t);
        if (s.key && (this.needInit || this.paramsChanged())) {
          this.needInit = true;
          if (this.ensureInit(t) !== INIT_OK) {
            this.waitStart = t;
            this.held = [s];
            return;
          }
        }
        this.openSegment(s);
      } else if (this.partTicks > 0 && this.vPending.length > 0) {
        const d = this.lastDelta > 0 ? this.lastDelta : 0;
        if (t + d - this.partStart > this.partTicks) this.flushPart(t);
      }
    }
    if (this.lastT === this.lastT && t > this.lastT) this.lastDelta = t - this.lastT;
    this.lastT = t;
    this.vPending.push(s);
  }

  private onJump(): void {
    if (!this.open) return;
    this.endSegment(Number.NaN);
    this.resetTimeline();
  }

  // --- audio ------------------------------------------------------------------------------------------

  private onAudioPes(track: TsTrack, payload: Buffer): void {
    let t = track.pts;
    if (t !== t) return;
    const copy = Buffer.from(payload);
    let p = 0;
    const audioOnly = this.videoPid < 0;
    if (audioOnly && track.jump) this.onJump();
    while (p + 7 <= copy.length) {
      const h = parseAdtsHeader(copy, p, copy.length);
      if (h === null || p + h.frameLength > copy.length) break;
      // One MP4 AAC sample is one raw data block: multi-block ADTS frames are dropped.
      if (h.rawBlocks === 1) {
        const cfg = (h.objectType << 8) | (h.samplingIndex << 4) | h.channelConfig;
        if (cfg !== this.audioCfg) {
          this.audioCfg = cfg;
          this.audioRate = h.sampleRate;
          // A new configuration, or audio that showed up after a video-only start: new init segment.
          if (this.initVersion >= 0) this.needInit = true;
        }
        const s: ASample = { t, chunk: copy.subarray(p + h.headerLength, p + h.frameLength), cfg };
        if (audioOnly) this.onAudioPrimary(s);
        else {
          // Kept while waiting for the first keyframe too: TS muxers put audio ahead of video. Bounded:
          // audio of a program whose video stopped must not pile up until the next video frame.
          if (this.aPending.length >= (this.open ? MAX_PENDING_AUDIO : 512)) this.aPending.shift();
          this.aPending.push(s);
        }
      }
      t += h.duration90k;
      p += h.frameLength;
    }
  }

  private onAudioPrimary(s: ASample): void {
    const t = s.t;
    const d = (1024 * 90000) / this.audioRate;
    if (this.open && this.needInit) this.endSegment(Number.NaN);
    if (!this.open) {
      if (this.ensureInit(t) !== INIT_OK) return;
      this.openSegment({ dts: t, pts: t, key: true, chunks: [] });
    } else if (t - this.segStart >= this.targetTicks - TOLERANCE_TICKS) {
      this.endSegment(t);
      this.openSegment({ dts: t, pts: t, key: true, chunks: [] });
    } else if (this.partTicks > 0 && this.aPending.length > 0 && t + d - this.partStart > this.partTicks) {
      this.flushPart(t);
    }
    this.lastDelta = d;
    this.lastT = t;
    this.aPending.push(s);
  }

  // --- init, segments, parts --------------------------------------------------------------------------

  /** Builds a new init segment when needed. INIT_OK, or why it cannot be built yet. */
  private ensureInit(t: number): number {
    if (!this.needInit && !(this.videoPid >= 0 && this.paramsChanged())) return INIT_OK;
    let video: Mp4VideoTrack | null = null;
    if (this.videoPid >= 0) {
      const vps = this.vps !== undefined ? [Uint8Array.from(this.vps)] : [];
      const sps = this.sps !== undefined ? [Uint8Array.from(this.sps)] : [];
      const pps = this.pps !== undefined ? [Uint8Array.from(this.pps)] : [];
      video = videoTrackFromParams(VIDEO_ID, this.videoCodec, vps, sps, pps);
      if (video === null) return INIT_NO_VIDEO;
    }
    let audio: Mp4AudioTrack | null = null;
    if (this.audioPid >= 0) {
      if (this.audioCfg < 0) {
        // Video waits a little for the audio configuration, then starts without audio.
        if (video !== null && t - this.waitStart < this.audioWaitTicks) return INIT_WAIT_AUDIO;
      } else {
        const cfg = this.audioCfg;
        audio = audioTrack(AUDIO_ID, cfg >> 8, this.audioRate, cfg & 0xf);
      }
    }
    if (video === null && audio === null) return INIT_NO_VIDEO;
    const tracks: Mp4Track[] = [];
    if (video !== null) tracks.push(video);
    if (audio !== null) tracks.push(audio);
    const changed = this.initVersion >= 0;
    this.initVideo = video;
    this.initAudio = audio;
    this.initVersion++;
    this.needInit = false;
    this.audioNext = Number.NaN;
    if (changed && this.everOpened) this.nextDisc = true;
    this.sink.init({ data: buildInitSegment(tracks), tracks, codecs: codecsOf(tracks), version: this.initVersion });
    return INIT_OK;
  }

  private openSegment(s: VSample): void {
    this.open = true;
    this.segStart = s.dts;
    this.segStartPts = s.pts;
    this.segKey = s.key;
    this.segDisc = this.nextDisc;
    this.nextDisc = false;
    this.segBytes = 0;
    this.partIndex = 0;
    this.partStart = s.dts;
    this.waitStart = Number.NaN;
    this.everOpened = true;
    // Audio that came before the segment's first frame would only delay its start: drop it.
    if (this.videoPid >= 0) {
      const a = this.aPending;
      let k = 0;
      if (this.audioNext !== this.audioNext) while (k < a.length && a[k]!.t < s.dts - TOLERANCE_TICKS) k++;
      if (k > 0) a.splice(0, k);
    }
    this.sink.openSegment({ startPts: s.pts, discontinuity: this.segDisc, keyframe: s.key });
  }

  /** Writes the pending samples before `endT` (90 kHz; NaN: all of them, last duration estimated) as a part. */
  private flushPart(endT: number): void {
    const video = this.videoPid >= 0;
    const vs = this.vPending;
    const est = this.lastDelta > 0 ? this.lastDelta : 3000;
    let end = endT;
    if (end !== end) {
      const lastT = video ? (vs.length > 0 ? vs[vs.length - 1]!.dts : Number.NaN) : this.lastT;
      end = lastT === lastT ? lastT + est : this.partStart;
    }
    const tracks: FragmentTrack[] = [];
    let independent = false;
    if (video && this.initVideo !== null && vs.length > 0) {
      const samples: Mp4Sample[] = new Array(vs.length);
      for (let k = 0; k < vs.length; k++) {
        const s = vs[k]!;
        const next = k + 1 < vs.length ? vs[k + 1]!.dts : end;
        let d = next - s.dts;
        if (!(d > 0)) d = est;
        samples[k] = { dts: s.dts, cto: s.pts - s.dts, duration: d, key: s.key, chunks: s.chunks };
      }
      independent = vs[0]!.key;
      tracks.push({ id: VIDEO_ID, lengthPrefixed: true, samples });
    }
    const a = this.aPending;
    const ai = this.initAudio;
    let taken = 0;
    if (ai !== null) {
      const samples: Mp4Sample[] = [];
      let next = this.audioNext;
      const rate = ai.sampleRate;
      const cfgOf = (ai.objectType << 8) | (audioIndex(ai) << 4) | ((ai.asc[1]! >> 3) & 0xf);
      while (taken < a.length && (endT !== endT || a[taken]!.t < endT)) {
        const s = a[taken++]!;
        if (s.cfg !== cfgOf) continue; // a new configuration waits for its init segment
        const ideal = Math.round((s.t * rate) / 90000);
        if (next !== next || Math.abs(ideal - next) > 2048) next = ideal;
        samples.push({ dts: next, cto: 0, duration: 1024, key: true, chunks: [s.chunk] });
        next += 1024;
      }
      this.audioNext = next;
      if (samples.length > 0) {
        tracks.push({ id: AUDIO_ID, lengthPrefixed: false, samples });
        if (!video) independent = true;
      }
    }
    if (taken > 0) a.splice(0, taken);
    vs.length = 0;
    if (tracks.length === 0) {
      this.partStart = end;
      return;
    }
    const data = buildFragment(++this.sequence, tracks);
    this.segBytes += data.length;
    const part: CmafPart = { data, startDts: this.partStart, durationMs: Math.max(0, end - this.partStart) / 90, independent, index: this.partIndex++ };
    this.partStart = end;
    this.sink.part(part);
  }

  /** Closes the open segment at `endT` (NaN: estimated from the last frame). */
  private endSegment(endT: number): void {
    if (!this.open) {
      this.vPending.length = 0;
      return;
    }
    this.flushPart(endT);
    const end = this.partStart;
    this.open = false;
    this.sink.closeSegment({
      startPts: this.segStartPts,
      durationMs: Math.max(0, end - this.segStart) / 90,
      bytes: this.segBytes,
      keyframe: this.segKey,
      discontinuity: this.segDisc,
    });
  }

  private resetTimeline(): void {
    if (this.everOpened) this.nextDisc = true;
    this.lastT = Number.NaN;
    this.waitStart = Number.NaN;
    this.vPending.length = 0;
    this.aPending.length = 0;
    this.held = [];
    this.audioNext = Number.NaN;
  }
}

function audioIndex(a: Mp4AudioTrack): number {
  return ((a.asc[0]! & 0x07) << 1) | (a.asc[1]! >> 7);
}
