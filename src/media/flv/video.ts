/**
 * FLV / RTMP video tag bodies.
 *
 * Legacy layout: byte 0 = frameType:4 | codecId:4 (7 = AVC, 12 = HEVC as used by Chinese CDNs),
 * byte 1 = AVCPacketType (0 sequence header, 1 NALUs, 2 end of sequence), bytes 2..4 = signed
 * composition time offset (ms), then the AVCDecoderConfigurationRecord / length-prefixed NALUs.
 *
 * Enhanced RTMP (veovera E-RTMP v1): byte 0 = isExHeader:1 | frameType:3 | packetType:4, bytes 1..4
 * = FourCC ('avc1', 'hvc1'), then for CodedFrames a 24-bit composition time offset, for
 * CodedFramesX none (offset 0), for SequenceStart the decoder configuration record.
 *
 * Frame payloads stay length-prefixed (AVCC/HVCC) as subarray views of the tag; the muxer converts.
 * Never throws: malformed input gives { type: 'skip', reason }.
 */
import { Buffer } from 'node:buffer';

export type VideoCodec = 'h264' | 'h265';

export interface AvcConfig {
  codec: 'h264';
  profile: number;
  compatibility: number;
  level: number;
  /** size of the NALU length prefix in frames: 1, 2, 3 or 4 */
  nalLengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  /** what a decoder needs before a keyframe, in order (SPS then PPS) */
  parameterSets: Buffer[];
}

export interface HevcConfig {
  codec: 'h265';
  profile: number;
  tier: number;
  level: number;
  nalLengthSize: number;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** SEI and other NAL arrays of the record */
  other: Buffer[];
  /** VPS, SPS, PPS in order */
  parameterSets: Buffer[];
}

export type VideoConfig = AvcConfig | HevcConfig;

export type VideoTag =
  | { type: 'config'; codec: VideoCodec; config: VideoConfig }
  | {
      type: 'frame';
      codec: VideoCodec;
      keyframe: boolean;
      /** composition time offset in ms (PTS = DTS + cts) */
      cts: number;
      /** length-prefixed NAL units */
      data: Buffer;
    }
  | { type: 'end'; codec: VideoCodec }
  | { type: 'skip'; reason: string };

export const VideoCodecId = { H263: 2, Screen: 3, VP6: 4, VP6A: 5, Screen2: 6, AVC: 7, HEVC: 12, AV1: 13 } as const;
export const VideoFrameType = { Key: 1, Inter: 2, DisposableInter: 3, Generated: 4, Command: 5 } as const;

function si24(b: Buffer, p: number): number {
  const v = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  return v & 0x800000 ? v - 0x1000000 : v;
}

const FOURCC_AVC1 = 0x61766331; // 'avc1'
const FOURCC_HVC1 = 0x68766331; // 'hvc1'

export function parseVideoTag(tag: Buffer): VideoTag {
  if (tag.length < 1) return { type: 'skip', reason: 'empty video tag' };
  const b0 = tag[0]!;
  if (b0 & 0x80) return parseEnhanced(tag, b0);
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  if (frameType === VideoFrameType.Command) return { type: 'skip', reason: 'video info/command frame' };
  let codec: VideoCodec;
  if (codecId === VideoCodecId.AVC) codec = 'h264';
  else if (codecId === VideoCodecId.HEVC) codec = 'h265';
  else return { type: 'skip', reason: `unsupported video codec id ${codecId}` };
  if (tag.length < 5) return { type: 'skip', reason: 'truncated AVC video tag' };
  const packetType = tag[1]!;
  const body = tag.subarray(5);
  if (packetType === 0) return configTag(codec, body);
  if (packetType === 1) {
    return { type: 'frame', codec, keyframe: frameType === VideoFrameType.Key, cts: si24(tag, 2), data: body };
  }
  if (packetType === 2) return { type: 'end', codec };
  return { type: 'skip', reason: `unknown AVC packet type ${packetType}` };
}

function parseEnhanced(tag: Buffer, b0: number): VideoTag {
  const frameType = (b0 >> 4) & 0x07;
  const packetType = b0 & 0x0f;
  if (tag.length < 5) return { type: 'skip', reason: 'truncated enhanced video tag' };
  const fourcc = tag.readUInt32BE(1);
  let codec: VideoCodec;
  if (fourcc === FOURCC_AVC1) codec = 'h264';
  else if (fourcc === FOURCC_HVC1) codec = 'h265';
  else return { type: 'skip', reason: `unsupported video FourCC ${tag.toString('latin1', 1, 5)}` };
  if (frameType === VideoFrameType.Command) return { type: 'skip', reason: 'video command frame' };
  switch (packetType) {
    case 0: // SequenceStart
      return configTag(codec, tag.subarray(5));
    case 1: // CodedFrames (with composition time)
      if (tag.length < 8) return { type: 'skip', reason: 'truncated enhanced coded frame' };
      return { type: 'frame', codec, keyframe: frameType === VideoFrameType.Key, cts: si24(tag, 5), data: tag.subarray(8) };
    case 3: // CodedFramesX (composition time 0)
      return { type: 'frame', codec, keyframe: frameType === VideoFrameType.Key, cts: 0, data: tag.subarray(5) };
    case 2: // SequenceEnd
      return { type: 'end', codec };
    default:
      return { type: 'skip', reason: `unsupported enhanced video packet type ${packetType}` };
  }
}

function configTag(codec: VideoCodec, body: Buffer): VideoTag {
  const config = codec === 'h264' ? parseAvcDecoderConfigurationRecord(body) : parseHevcDecoderConfigurationRecord(body);
  if (typeof config === 'string') return { type: 'skip', reason: config };
  return { type: 'config', codec, config };
}

/** ISO/IEC 14496-15 §5.3.3.1. Returns the config or a reason string. */
export function parseAvcDecoderConfigurationRecord(b: Buffer): AvcConfig | string {
  if (b.length < 7) return 'AVCDecoderConfigurationRecord too short';
  if (b[0] !== 1) return `AVCDecoderConfigurationRecord version ${b[0]}`;
  const nalLengthSize = (b[4]! & 0x03) + 1;
  let p = 5;
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const numSps = b[p++]! & 0x1f;
  for (let i = 0; i < numSps; i++) {
    if (p + 2 > b.length) return 'AVCDecoderConfigurationRecord truncated in SPS';
    const len = b.readUInt16BE(p);
    p += 2;
    if (p + len > b.length) return 'AVCDecoderConfigurationRecord truncated in SPS';
    if (len > 0) sps.push(b.subarray(p, p + len));
    p += len;
  }
  if (p + 1 > b.length) return 'AVCDecoderConfigurationRecord has no PPS count';
  const numPps = b[p++]!;
  for (let i = 0; i < numPps; i++) {
    if (p + 2 > b.length) return 'AVCDecoderConfigurationRecord truncated in PPS';
    const len = b.readUInt16BE(p);
    p += 2;
    if (p + len > b.length) return 'AVCDecoderConfigurationRecord truncated in PPS';
    if (len > 0) pps.push(b.subarray(p, p + len));
    p += len;
  }
  if (sps.length === 0) return 'AVCDecoderConfigurationRecord without SPS';
  return {
    codec: 'h264',
    profile: b[1]!,
    compatibility: b[2]!,
    level: b[3]!,
    nalLengthSize,
    sps,
    pps,
    parameterSets: [...sps, ...pps],
  };
}

/** ISO/IEC 14496-15 §8.3.3.1. Returns the config or a reason string. */
export function parseHevcDecoderConfigurationRecord(b: Buffer): HevcConfig | string {
  if (b.length < 23) return 'HEVCDecoderConfigurationRecord too short';
  if (b[0] !== 1) return `HEVCDecoderConfigurationRecord version ${b[0]}`;
  const nalLengthSize = (b[21]! & 0x03) + 1;
  const numArrays = b[22]!;
  let p = 23;
  const vps: Buffer[] = [];
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  const other: Buffer[] = [];
  for (let a = 0; a < numArrays; a++) {
    if (p + 3 > b.length) return 'HEVCDecoderConfigurationRecord truncated';
    const nalType = b[p]! & 0x3f;
    const count = b.readUInt16BE(p + 1);
    p += 3;
    for (let i = 0; i < count; i++) {
      if (p + 2 > b.length) return 'HEVCDecoderConfigurationRecord truncated';
      const len = b.readUInt16BE(p);
      p += 2;
      if (p + len > b.length) return 'HEVCDecoderConfigurationRecord truncated';
      const nal = b.subarray(p, p + len);
      p += len;
      if (len === 0) continue;
      if (nalType === 32) vps.push(nal);
      else if (nalType === 33) sps.push(nal);
      else if (nalType === 34) pps.push(nal);
      else other.push(nal);
    }
  }
  if (sps.length === 0) return 'HEVCDecoderConfigurationRecord without SPS';
  return {
    codec: 'h265',
    profile: b[1]! & 0x1f,
    tier: (b[1]! >> 5) & 1,
    level: b[12]!,
    nalLengthSize,
    vps,
    sps,
    pps,
    other,
    parameterSets: [...vps, ...sps, ...pps],
  };
}

/** Builds an AVCDecoderConfigurationRecord (tests, remuxing). */
export function buildAvcDecoderConfigurationRecord(sps: Buffer[], pps: Buffer[], nalLengthSize = 4): Buffer {
  const first = sps[0];
  let size = 7;
  for (const s of sps) size += 2 + s.length;
  for (const s of pps) size += 2 + s.length;
  const out = Buffer.alloc(size);
  out[0] = 1;
  out[1] = first !== undefined && first.length > 1 ? first[1]! : 66;
  out[2] = first !== undefined && first.length > 2 ? first[2]! : 0;
  out[3] = first !== undefined && first.length > 3 ? first[3]! : 30;
  out[4] = 0xfc | ((nalLengthSize - 1) & 3);
  out[5] = 0xe0 | (sps.length & 0x1f);
  let p = 6;
  for (const s of sps) {
    out.writeUInt16BE(s.length, p);
    s.copy(out, p + 2);
    p += 2 + s.length;
  }
  out[p++] = pps.length;
  for (const s of pps) {
    out.writeUInt16BE(s.length, p);
    s.copy(out, p + 2);
    p += 2 + s.length;
  }
  return out;
}
