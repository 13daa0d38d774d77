/**
 * FLV / RTMP audio tag bodies.
 *
 * Legacy layout: byte 0 = soundFormat:4 | rate:2 | size:1 | type:1. soundFormat 10 = AAC, then
 * byte 1 = AACPacketType (0 = AudioSpecificConfig, 1 = raw frame). soundFormat 2/14 = MP3 (raw
 * MPEG audio frames follow byte 0).
 * Enhanced RTMP audio (soundFormat 9 = ExHeader): byte 0 low nibble = packet type, bytes 1..4 =
 * FourCC; 'mp4a' (AAC) and '.mp3' are recognized.
 *
 * Never throws: malformed input gives { type: 'skip', reason }.
 */
import { Buffer } from 'node:buffer';

export type AudioCodec = 'aac' | 'mp3';

export interface AacConfig {
  /**
   * Audio object type suitable for ADTS (1 Main, 2 LC, 3 SSR, 4 LTP): for HE-AAC (5/29) this is the
   * underlying core type so the decoder finds SBR/PS implicitly.
   */
  objectType: number;
  /** audio object type as signalled (5 = SBR, 29 = PS, 2 = LC, …) */
  signalledObjectType: number;
  /** ADTS sampling frequency index of the core (0..12) */
  sampleRateIndex: number;
  /** core sample rate in Hz */
  sampleRate: number;
  /** output sample rate in Hz (doubled by SBR) */
  outputSampleRate: number;
  /** channel configuration (0 = defined in a PCE) */
  channelConfig: number;
  /** the AudioSpecificConfig bytes */
  raw: Buffer;
}

export type AudioTag =
  | { type: 'config'; codec: 'aac'; config: AacConfig }
  | { type: 'frame'; codec: AudioCodec; data: Buffer }
  | { type: 'skip'; reason: string };

export const SoundFormat = { MP3: 2, ExHeader: 9, AAC: 10, MP3_8k: 14 } as const;

export const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

const FOURCC_MP4A = 0x6d703461; // 'mp4a'
const FOURCC_MP3 = 0x2e6d7033; // '.mp3'

export function parseAudioTag(tag: Buffer): AudioTag {
  if (tag.length < 1) return { type: 'skip', reason: 'empty audio tag' };
  const format = tag[0]! >> 4;
  if (format === SoundFormat.AAC) {
    if (tag.length < 2) return { type: 'skip', reason: 'truncated AAC audio tag' };
    if (tag[1] === 0) return aacConfigTag(tag.subarray(2));
    if (tag[1] === 1) return tag.length > 2 ? { type: 'frame', codec: 'aac', data: tag.subarray(2) } : { type: 'skip', reason: 'empty AAC frame' };
    return { type: 'skip', reason: `unknown AAC packet type ${tag[1]}` };
  }
  if (format === SoundFormat.MP3 || format === SoundFormat.MP3_8k) {
    return tag.length > 1 ? { type: 'frame', codec: 'mp3', data: tag.subarray(1) } : { type: 'skip', reason: 'empty MP3 frame' };
  }
  if (format === SoundFormat.ExHeader) {
    if (tag.length < 5) return { type: 'skip', reason: 'truncated enhanced audio tag' };
    const packetType = tag[0]! & 0x0f;
    const fourcc = tag.readUInt32BE(1);
    if (fourcc === FOURCC_MP4A) {
      if (packetType === 0) return aacConfigTag(tag.subarray(5));
      if (packetType === 1) return { type: 'frame', codec: 'aac', data: tag.subarray(5) };
    } else if (fourcc === FOURCC_MP3) {
      if (packetType === 1) return { type: 'frame', codec: 'mp3', data: tag.subarray(5) };
      if (packetType === 0) return { type: 'skip', reason: 'MP3 sequence start' };
    }
    return { type: 'skip', reason: `unsupported enhanced audio ${tag.toString('latin1', 1, 5)} packet type ${packetType}` };
  }
  return { type: 'skip', reason: `unsupported sound format ${format}` };
}

function aacConfigTag(body: Buffer): AudioTag {
  const config = parseAudioSpecificConfig(body);
  if (typeof config === 'string') return { type: 'skip', reason: config };
  return { type: 'config', codec: 'aac', config };
}

class Bits {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.b[this.pos >> 3];
      if (byte === undefined) throw new RangeError('eof');
      v = v * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
}

function nearestRateIndex(rate: number): number {
  let best = 4;
  let bestDiff = Infinity;
  AAC_SAMPLE_RATES.forEach((r, i) => {
    const d = Math.abs(r - rate);
    if (d < bestDiff) {
      bestDiff = d;
      best = i;
    }
  });
  return best;
}

/** ISO/IEC 14496-3 §1.6.2.1 (the parts ADTS needs). Returns the config or a reason string. */
export function parseAudioSpecificConfig(asc: Buffer): AacConfig | string {
  if (asc.length < 2) return 'AudioSpecificConfig shorter than 2 bytes';
  const r = new Bits(asc);
  try {
    const aot = (): number => {
      const t = r.read(5);
      return t === 31 ? 32 + r.read(6) : t;
    };
    const rate = (): [number, number] => {
      const idx = r.read(4);
      if (idx === 15) {
        const hz = r.read(24);
        return [nearestRateIndex(hz), hz];
      }
      const hz = AAC_SAMPLE_RATES[idx];
      if (hz === undefined) throw new RangeError(`reserved sampling frequency index ${idx}`);
      return [idx, hz];
    };
    const signalled = aot();
    if (signalled === 0) return 'AudioSpecificConfig with object type 0';
    const [sampleRateIndex, sampleRate] = rate();
    const channelConfig = r.read(4);
    let objectType = signalled;
    let outputSampleRate = sampleRate;
    if (signalled === 5 || signalled === 29) {
      const [, extRate] = rate();
      outputSampleRate = extRate;
      objectType = aot();
    }
    return {
      objectType,
      signalledObjectType: signalled,
      sampleRateIndex,
      sampleRate,
      outputSampleRate,
      channelConfig,
      raw: asc,
    };
  } catch (err) {
    return `bad AudioSpecificConfig: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export const ADTS_HEADER_SIZE = 7;

/**
 * Writes a 7-byte ADTS header (MPEG-4, no CRC) for a raw AAC frame of `rawLength` bytes at buf[pos].
 * Object types above 4 cannot be expressed in ADTS and are written as LC. Returns false when the
 * frame is too long for ADTS (13-bit length).
 */
export function writeAdtsHeader(buf: Buffer, pos: number, config: AacConfig, rawLength: number): boolean {
  const len = rawLength + ADTS_HEADER_SIZE;
  if (len > 0x1fff) return false;
  const profile = (config.objectType >= 1 && config.objectType <= 4 ? config.objectType : 2) - 1;
  const freq = config.sampleRateIndex & 0x0f;
  const ch = config.channelConfig & 0x07;
  buf[pos] = 0xff;
  buf[pos + 1] = 0xf1;
  buf[pos + 2] = (profile << 6) | (freq << 2) | (ch >> 2);
  buf[pos + 3] = ((ch & 3) << 6) | (len >> 11);
  buf[pos + 4] = (len >> 3) & 0xff;
  buf[pos + 5] = ((len & 7) << 5) | 0x1f;
  buf[pos + 6] = 0xfc;
  return true;
}

/** Builds a 2-byte AudioSpecificConfig (tests). */
export function buildAudioSpecificConfig(objectType: number, sampleRateIndex: number, channelConfig: number): Buffer {
  const v = (objectType << 11) | (sampleRateIndex << 7) | (channelConfig << 3);
  return Buffer.from([v >> 8, v & 0xff]);
}
