/**
 * RTMP publication → MPEG-TS: parses FLV audio/video tag bodies and drives a TsMuxer.
 *
 * The PMT must list the tracks before the first packet, but RTMP announces them piecemeal
 * (onMetaData, then sequence headers, then frames). So media is held back until every expected
 * track is configured: expected = what onMetaData announces (videocodecid / audiocodecid), or,
 * without metadata, what has been seen. Holding stops anyway after `trackWaitMs` of media time or
 * `maxHoldBytes`, and at flush(); tracks appearing later are ignored (counted in `ignored`).
 *
 * Pure (no I/O, no clocks): time is the publisher's timestamps. Never throws on tag contents.
 */
import type { Buffer } from 'node:buffer';
import { parseAudioTag, type AacConfig, type AudioCodec } from '../flv/audio.js';
import { parseVideoTag, type VideoCodec, type VideoConfig } from '../flv/video.js';
import { TsMuxer, type TsMuxerOptions } from '../ts/muxer.js';

export interface RemuxOptions {
  /** longest media span held back while waiting for a track's configuration (default 1000 ms) */
  trackWaitMs?: number;
  /** most bytes held back (default 16 MiB) */
  maxHoldBytes?: number;
  /** passed to the TsMuxer (tracks are decided here) */
  muxer?: Omit<TsMuxerOptions, 'video' | 'audio'>;
}

export interface RemuxInfo {
  /** TsMuxer created: output flows */
  started: boolean;
  video?: { codec: VideoCodec; width?: number; height?: number; frameRate?: number; frames: number; keyframes: number };
  audio?: { codec: AudioCodec; sampleRate?: number; channels?: number; frames: number };
  /** frames or tags not muxed: unsupported codec, late track, before the first keyframe, bad data */
  ignored: number;
  /** TS bytes produced */
  bytes: number;
  /** first reasons for ignored input (at most 8) */
  notes: string[];
}

interface Held {
  kind: 'audio' | 'video';
  timestamp: number;
  payload: Buffer;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export class FlvToTsRemuxer {
  readonly info: RemuxInfo = { started: false, ignored: 0, bytes: 0, notes: [] };
  private muxer: TsMuxer | undefined;
  private held: Held[] = [];
  private heldBytes = 0;
  private readonly trackWaitMs: number;
  private readonly maxHold: number;
  private expectVideo: boolean | undefined;
  private expectAudio: boolean | undefined;
  private videoCodec: VideoCodec | undefined;
  private videoConfig: VideoConfig | undefined;
  private audioCodec: AudioCodec | undefined;
  private aacConfig: AacConfig | undefined;
  private sawVideo = false;
  private sawAudio = false;
  private meta: { width?: number; height?: number; frameRate?: number } = {};

  constructor(
    private readonly out: (ts: Buffer) => void,
    private readonly options: RemuxOptions = {},
  ) {
    this.trackWaitMs = options.trackWaitMs ?? 1000;
    this.maxHold = options.maxHoldBytes ?? 16 * 1024 * 1024;
  }

  /** onMetaData of the publication. */
  metadata(meta: Record<string, unknown>): void {
    const has = (k: string) => meta[k] !== undefined && meta[k] !== null && meta[k] !== false && meta[k] !== '';
    if (!this.info.started) {
      if (has('videocodecid') || has('hasVideo') || has('width')) this.expectVideo = meta.hasVideo !== false;
      else this.expectVideo ??= false;
      if (has('audiocodecid') || has('hasAudio')) this.expectAudio = meta.hasAudio !== false;
      else this.expectAudio ??= false;
    }
    this.meta = {
      width: num(meta.width) ?? this.meta.width,
      height: num(meta.height) ?? this.meta.height,
      frameRate: num(meta.framerate) ?? num(meta.videoframerate) ?? this.meta.frameRate,
    };
    if (this.info.video) Object.assign(this.info.video, this.meta);
  }

  /** One audio/video message (FLV tag body) with its RTMP timestamp (ms). */
  media(kind: 'audio' | 'video', timestamp: number, payload: Buffer): void {
    if (this.muxer !== undefined) {
      this.process(kind, timestamp, payload);
      return;
    }
    this.inspect(kind, payload);
    this.held.push({ kind, timestamp, payload });
    this.heldBytes += payload.length;
    if (this.ready() || this.heldBytes >= this.maxHold || this.heldSpan() >= this.trackWaitMs) this.start();
  }

  /** Starts output with whatever is known (e.g. the publisher left while tracks were awaited). */
  flush(): void {
    if (this.muxer === undefined && this.held.length > 0) this.start();
  }

  // ------------------------------------------------------------------------------------------

  private note(reason: string): void {
    this.info.ignored++;
    if (this.info.notes.length < 8 && !this.info.notes.includes(reason)) this.info.notes.push(reason);
  }

  /** Learns codecs and configurations from a held message (no output). */
  private inspect(kind: 'audio' | 'video', payload: Buffer): void {
    if (kind === 'video') {
      this.sawVideo = true;
      const t = parseVideoTag(payload);
      if (t.type === 'config') {
        this.videoCodec = t.codec;
        this.videoConfig = t.config;
      } else if (t.type === 'frame') this.videoCodec ??= t.codec;
    } else {
      this.sawAudio = true;
      const t = parseAudioTag(payload);
      if (t.type === 'config') {
        this.audioCodec = 'aac';
        this.aacConfig = t.config;
      } else if (t.type === 'frame' && t.codec === 'mp3') this.audioCodec ??= 'mp3';
    }
  }

  private videoReady(): boolean {
    return this.videoConfig !== undefined;
  }

  private audioReady(): boolean {
    return this.audioCodec === 'mp3' || this.aacConfig !== undefined;
  }

  private ready(): boolean {
    const wantVideo = this.expectVideo ?? this.sawVideo;
    const wantAudio = this.expectAudio ?? this.sawAudio;
    if (!wantVideo && !wantAudio) return false;
    if (wantVideo && !this.videoReady()) return false;
    if (wantAudio && !this.audioReady()) return false;
    // without metadata a track may still show up: wait for a frame of the other kind, or time
    if (this.expectVideo === undefined && !this.sawVideo) return false;
    if (this.expectAudio === undefined && !this.sawAudio) return false;
    return true;
  }

  private heldSpan(): number {
    if (this.held.length < 2) return 0;
    const first = this.held[0]!.timestamp;
    const last = this.held[this.held.length - 1]!.timestamp;
    return ((last - first) >>> 0) > 0x7fffffff ? 0 : (last - first) >>> 0;
  }

  private start(): void {
    const opts: TsMuxerOptions = { ...this.options.muxer };
    if (this.videoCodec !== undefined) {
      opts.video = {
        codec: this.videoCodec,
        parameterSets: this.videoConfig?.parameterSets,
        nalLengthSize: this.videoConfig?.nalLengthSize,
      };
      this.info.video = { codec: this.videoCodec, frames: 0, keyframes: 0, ...this.meta };
    }
    if (this.audioCodec === 'mp3' || (this.audioCodec === 'aac' && this.aacConfig !== undefined)) {
      opts.audio = this.audioCodec === 'mp3' ? { codec: 'mp3' } : { codec: 'aac', config: this.aacConfig };
      this.info.audio = {
        codec: this.audioCodec,
        sampleRate: this.aacConfig?.outputSampleRate,
        channels: this.aacConfig?.channelConfig,
        frames: 0,
      };
    }
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (opts.video === undefined && opts.audio === undefined) {
      for (let i = 0; i < held.length; i++) this.note('no supported track configured');
      return;
    }
    this.muxer = new TsMuxer(opts);
    this.info.started = true;
    for (const h of held) this.process(h.kind, h.timestamp, h.payload);
  }

  private emit(ts: Buffer): void {
    if (ts.length === 0) return;
    this.info.bytes += ts.length;
    this.out(ts);
  }

  private process(kind: 'audio' | 'video', timestamp: number, payload: Buffer): void {
    const m = this.muxer!;
    if (kind === 'video') {
      const v = this.info.video;
      if (v === undefined) return this.note('video after the tracks were fixed');
      const t = parseVideoTag(payload);
      if (t.type === 'skip') return this.note(t.reason);
      if (t.type === 'end') return;
      if (t.codec !== v.codec) return this.note(`video codec changed to ${t.codec}`);
      if (t.type === 'config') {
        m.setVideoConfig(t.config.parameterSets, t.config.nalLengthSize);
        return;
      }
      const before = m.stats.videoFrames;
      this.emit(m.writeVideo(timestamp, t.cts, t.keyframe, t.data));
      if (m.stats.videoFrames === before) return this.note('video frame not muxed (before the first keyframe or empty)');
      v.frames++;
      if (t.keyframe) v.keyframes++;
      return;
    }
    const a = this.info.audio;
    if (a === undefined) return this.note('audio after the tracks were fixed');
    const t = parseAudioTag(payload);
    if (t.type === 'skip') return this.note(t.reason);
    if (t.type === 'config') {
      if (a.codec === 'aac' && m.setAudioConfig(t.config)) {
        a.sampleRate = t.config.outputSampleRate;
        a.channels = t.config.channelConfig;
      }
      return;
    }
    if (t.codec !== a.codec) return this.note(`audio codec changed to ${t.codec}`);
    const before = m.stats.audioFrames;
    this.emit(m.writeAudio(timestamp, t.data));
    if (m.stats.audioFrames === before) return this.note('audio frame not muxed (before the first keyframe)');
    a.frames++;
  }
}
