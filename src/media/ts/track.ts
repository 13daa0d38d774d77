/**
 * One elementary stream of the demuxed program (TsTrack) and the small enums its state machines use
 * (codec ids, PES state, NAL peek). Numbers, not strings: they are compared per packet.
 */
import type { TrackCodec, TrackInfo, TrackKind } from './types.js';

/** Codec of a track, as the ES scanners need it. */
export const C_OTHER = 0;
export const C_H264 = 1;
export const C_H265 = 2;
export const C_AAC = 3;
export const C_MPA = 4;
export const C_AC3 = 5;
export const C_VIDEO_OTHER = 6;

/** Where a track's current PES is: no PES, assembling its header, scanning its payload for the first VCL NAL. */
export const S_IDLE = 0;
export const S_HEADER = 1;
export const S_SCAN = 2;

/** What the next byte after a NAL header byte tells: nothing, an SEI payload type, an H.264 slice header. */
export const PEEK_NONE = 0;
export const PEEK_SEI = 1;
export const PEEK_SLICE = 2;

/** Bytes of a parameter set (SPS/VPS) collected while scanning. */
export const NAL_CAP = 2048;

function codecIdOf(codec: TrackCodec, kind: TrackKind): number {
  switch (codec) {
    case 'h264':
      return C_H264;
    case 'h265':
      return C_H265;
    case 'aac':
      return C_AAC;
    case 'mp3':
      return C_MPA;
    case 'ac3':
    case 'eac3':
      return C_AC3;
    default:
      return kind === 'video' ? C_VIDEO_OTHER : C_OTHER;
  }
}

/** Stream ids whose PES packets have no optional header (ISO/IEC 13818-1 2.4.3.7). */
export function noOptionalHeader(sid: number): boolean {
  return sid === 0xbc || sid === 0xbe || sid === 0xbf || sid === 0xf0 || sid === 0xf1 || sid === 0xff || sid === 0xf2 || sid === 0xf8;
}

/** One elementary stream of the selected program. Fields without a doc comment are internal state. */
export class TsTrack {
  readonly pid: number;
  readonly streamType: number;
  readonly kind: TrackKind;
  readonly codec: TrackCodec;
  /** Described media parameters (shared with `MediaInfo.tracks`). */
  readonly info: TrackInfo;
  /** Current PES: unwrapped 90 kHz PTS, NaN when absent. */
  pts = Number.NaN;
  /** Current PES: unwrapped 90 kHz DTS, NaN when absent. */
  dts = Number.NaN;
  /** Current PES (valid from pesReady): starts with an IDR/IRAP picture (video), always true for audio. */
  keyframe = false;
  /** Current PES (valid from pesReady): its timestamp jumped from the previous PES of this track. */
  jump = false;
  /** Current PES: the random_access_indicator was set on its first packet. */
  randomAccess = false;
  /** Current PES: stream_id. */
  streamId = 0;
  /** Last frame duration seen on this track (90 kHz ticks, from timestamp deltas), 0 when unknown. */
  frameDuration = 0;

  readonly codecId: number;
  readonly isPes: boolean;
  state = S_IDLE;
  // PES header assembly
  hdr: Buffer | null = null;
  hdrLen = 0;
  hdrNeed = 0;
  // NAL scanning
  zeros = 0;
  nalNext = false;
  collect = -1;
  peek = 0;
  recovery = false;
  scanned = 0;
  nal: Uint8Array | null = null;
  nalLen = 0;
  lastSps: Uint8Array | null = null;
  lastVps: Uint8Array | null = null;
  vuiFps = false;
  // audio header
  audioParse = false;
  audioKey = -1;
  // timeline
  lastT = Number.NaN;
  stableDur = 0;
  // reassembly
  asm: Buffer | null = null;
  asmLen = 0;
  asmActive = false;
  asmExpect = -1;

  constructor(pid: number, streamType: number, kind: TrackKind, codec: TrackCodec, isPes: boolean, language?: string) {
    this.pid = pid;
    this.streamType = streamType;
    this.kind = kind;
    this.codec = codec;
    this.isPes = isPes;
    this.codecId = codecIdOf(codec, kind);
    this.info = { pid, streamType, kind, codec };
    if (language !== undefined) this.info.language = language;
    if (codec === 'ac3') this.info.codecString = 'ac-3';
    if (codec === 'eac3') this.info.codecString = 'ec-3';
    if (codec === 'opus') this.info.codecString = 'opus';
  }
}
