/**
 * Shared MPEG-TS types: stream types, track/media description, demux statistics.
 */

export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;
export const PID_PAT = 0x0000;
export const PID_NULL = 0x1fff;

/** ISO/IEC 13818-1 stream_type values Flux knows. */
export const STREAM_TYPE = {
  MPEG1_VIDEO: 0x01,
  MPEG2_VIDEO: 0x02,
  MPEG1_AUDIO: 0x03,
  MPEG2_AUDIO: 0x04,
  PRIVATE_SECTIONS: 0x05,
  PRIVATE_DATA: 0x06,
  AAC_ADTS: 0x0f,
  MPEG4_VIDEO: 0x10,
  AAC_LATM: 0x11,
  METADATA: 0x15,
  H264: 0x1b,
  H265: 0x24,
  AC3: 0x81,
  SCTE35: 0x86,
  EAC3: 0x87,
} as const;

export type TrackKind = 'video' | 'audio' | 'subtitle' | 'data';

export type TrackCodec =
  | 'h264'
  | 'h265'
  | 'mpeg2video'
  | 'mpeg4video'
  | 'aac'
  | 'aac_latm'
  | 'mp2'
  | 'mp3'
  | 'ac3'
  | 'eac3'
  | 'opus'
  | 'dts'
  | 'dvb_subtitle'
  | 'teletext'
  | 'id3'
  | 'klv'
  | 'scte35'
  | 'private';

export interface TrackInfo {
  pid: number;
  streamType: number;
  kind: TrackKind;
  codec: TrackCodec;
  /** RFC 6381 codec string when known (avc1.64001f, hvc1.1.6.L93.B0, mp4a.40.2, ac-3 …). */
  codecString?: string;
  /** ISO 639 language from the PMT, when given. */
  language?: string;
  width?: number;
  height?: number;
  /** Frames per second: from the SPS VUI timing, else measured from timestamps. */
  fps?: number;
  /** H.264 profile_idc / H.265 general_profile_idc. */
  profile?: number;
  /** level_idc as coded (H.264: 31 = 3.1; H.265: 93 = 3.1). */
  level?: number;
  sampleRate?: number;
  channels?: number;
}

export interface MediaInfo {
  /** Program being demuxed (the first of the PAT unless chosen). */
  programNumber?: number;
  pmtPid?: number;
  pcrPid?: number;
  pmtVersion?: number;
  /** Tracks in PMT order. */
  tracks: TrackInfo[];
  /** Comma-joined codec strings of the tracks (video first), for an HLS master playlist CODECS attribute. */
  codecs?: string;
  /** From the first video track. */
  width?: number;
  height?: number;
  fps?: number;
  /** From the first audio track. */
  sampleRate?: number;
  channels?: number;
}

/** Counters of one demux pass. Plain numbers, updated in place (cheap to read at any time). */
export interface DemuxStats {
  /** Bytes pushed in. */
  bytes: number;
  /** 188-byte packets processed. */
  packets: number;
  /** Bytes skipped while looking for sync (garbage, truncated packets). */
  droppedBytes: number;
  /** Times sync was lost after being locked. */
  syncLosses: number;
  /** Continuity-counter errors (duplicates and adaptation-only packets are not errors). */
  ccErrors: number;
  /**
   * Packets lost, estimated from the size of each continuity-counter gap (mod 16: a loss of 16 or
   * more packets in a row is undercounted; a second repeat of a packet reads as 15 lost).
   */
  lostPackets: number;
  /** Duplicate packets (same CC repeated once, allowed by the standard) that were ignored. */
  duplicatePackets: number;
  /** Packets with transport_error_indicator set. */
  transportErrors: number;
  nullPackets: number;
  /** PSI sections with a bad CRC. */
  crcErrors: number;
  /** Malformed PES headers / sections / adaptation fields. */
  formatErrors: number;
  /** PCR going backwards or forward by more than the jump threshold. */
  pcrJumps: number;
  /** PTS/DTS of a track going backwards or forward by more than the jump threshold. */
  ptsJumps: number;
  /** Times the PMT content changed (including the first one). */
  pmtUpdates: number;
  videoFrames: number;
  keyframes: number;
  audioFrames: number;
  /** Last PCR seen (27 MHz base/300 → 90 kHz, unwrapped), NaN before the first. */
  lastPcr: number;
}

export function createDemuxStats(): DemuxStats {
  return {
    bytes: 0,
    packets: 0,
    droppedBytes: 0,
    syncLosses: 0,
    ccErrors: 0,
    lostPackets: 0,
    duplicatePackets: 0,
    transportErrors: 0,
    nullPackets: 0,
    crcErrors: 0,
    formatErrors: 0,
    pcrJumps: 0,
    ptsJumps: 0,
    pmtUpdates: 0,
    videoFrames: 0,
    keyframes: 0,
    audioFrames: 0,
    lastPcr: Number.NaN,
  };
}
