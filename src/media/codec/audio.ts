/**
 * MPEG-1/2 audio (MP2/MP3) and AC-3 / E-AC-3 frame headers: sample rate, channels, codec strings.
 * Pure byte-level code: never throws (returns null on anything that is not a valid header).
 */

export interface MpegAudioHeader {
  /** 1 (MPEG-1), 2 (MPEG-2), 2.5 (MPEG-2.5). */
  version: number;
  layer: number;
  bitrateKbps: number;
  sampleRate: number;
  channels: number;
  samplesPerFrame: number;
  codecString: string;
}

const MPA_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};
const MPA_BITRATES_V1: Record<number, readonly number[]> = {
  1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
};
const MPA_BITRATES_V2: Record<number, readonly number[]> = {
  1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  3: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

export function parseMpegAudioHeader(buf: Uint8Array, off = 0, end = buf.length): MpegAudioHeader | null {
  if (end > buf.length) end = buf.length;
  if (off < 0 || end - off < 4) return null;
  if (buf[off] !== 0xff || (buf[off + 1]! & 0xe0) !== 0xe0) return null;
  const verBits = (buf[off + 1]! >> 3) & 3;
  const layerBits = (buf[off + 1]! >> 1) & 3;
  if (verBits === 1 || layerBits === 0) return null;
  const layer = 4 - layerBits;
  const brIdx = buf[off + 2]! >> 4;
  const srIdx = (buf[off + 2]! >> 2) & 3;
  if (brIdx === 15 || srIdx === 3) return null;
  const sampleRate = MPA_RATES[verBits]![srIdx]!;
  const bitrateKbps = (verBits === 3 ? MPA_BITRATES_V1 : MPA_BITRATES_V2)[layer]![brIdx]!;
  const mode = buf[off + 3]! >> 6;
  const version = verBits === 3 ? 1 : verBits === 2 ? 2 : 2.5;
  const samplesPerFrame = layer === 1 ? 384 : layer === 3 && version !== 1 ? 576 : 1152;
  return {
    version,
    layer,
    bitrateKbps,
    sampleRate,
    channels: mode === 3 ? 1 : 2,
    samplesPerFrame,
    codecString: layer === 3 ? 'mp4a.40.34' : layer === 2 ? 'mp4a.40.33' : 'mp4a.40.32',
  };
}

export interface Ac3Header {
  /** true for E-AC-3 (bsid 11..16). */
  enhanced: boolean;
  sampleRate: number;
  channels: number;
  /** Samples per syncframe (1536 for AC-3, 256 × blocks for E-AC-3). */
  samplesPerFrame: number;
  codecString: 'ac-3' | 'ec-3';
}

const AC3_RATES = [48000, 44100, 32000];
const AC3_ACMOD_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];

export function parseAc3Header(buf: Uint8Array, off = 0, end = buf.length): Ac3Header | null {
  if (end > buf.length) end = buf.length;
  if (off < 0 || end - off < 7) return null;
  if (buf[off] !== 0x0b || buf[off + 1] !== 0x77) return null;
  const bsid = buf[off + 5]! >> 3;
  if (bsid <= 10) {
    const fscod = buf[off + 4]! >> 6;
    if (fscod === 3) return null;
    // byte 6: acmod(3) then optional mix levels (2 bits each), then lfeon
    const bits = (buf[off + 6]! << 8) | (off + 7 < end ? buf[off + 7]! : 0);
    const acmod = bits >> 13;
    let pos = 3;
    if ((acmod & 1) && acmod !== 1) pos += 2; // cmixlev
    if (acmod & 4) pos += 2; // surmixlev
    if (acmod === 2) pos += 2; // dsurmod
    const lfe = (bits >> (15 - pos)) & 1;
    return {
      enhanced: false,
      sampleRate: AC3_RATES[fscod]!,
      channels: AC3_ACMOD_CHANNELS[acmod]! + lfe,
      samplesPerFrame: 1536,
      codecString: 'ac-3',
    };
  }
  if (bsid <= 16) {
    const b4 = buf[off + 4]!;
    const fscod = b4 >> 6;
    let sampleRate: number;
    let blocks = 6;
    if (fscod === 3) {
      const fscod2 = (b4 >> 4) & 3;
      if (fscod2 === 3) return null;
      sampleRate = AC3_RATES[fscod2]! / 2;
    } else {
      sampleRate = AC3_RATES[fscod]!;
      blocks = [1, 2, 3, 6][(b4 >> 4) & 3]!;
    }
    const acmod = (b4 >> 1) & 7;
    const lfe = b4 & 1;
    return {
      enhanced: true,
      sampleRate,
      channels: AC3_ACMOD_CHANNELS[acmod]! + lfe,
      samplesPerFrame: 256 * blocks,
      codecString: 'ec-3',
    };
  }
  return null;
}
