/**
 * AAC in ADTS (ISO/IEC 13818-7 / 14496-3): header parsing and the RFC 6381 codec string.
 * Pure byte-level code: never throws (returns null on anything that is not a valid header).
 */

export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

export interface AdtsHeader {
  /** MPEG-4 audio object type (ADTS profile + 1): 1 Main, 2 LC, 3 SSR, 4 LTP. */
  objectType: number;
  samplingIndex: number;
  sampleRate: number;
  /** channel_configuration (0 = defined in-band; 7 means 8 channels). */
  channelConfig: number;
  channels: number;
  /** Whole ADTS frame length in bytes (header included). */
  frameLength: number;
  headerLength: number;
  /** Number of AAC raw data blocks (frames of 1024 samples) in this ADTS frame. */
  rawBlocks: number;
  /** Duration in 90 kHz ticks. */
  duration90k: number;
}

/** True when `buf[off..]` starts with an ADTS sync word (0xFFF, layer 0). */
export function isAdtsSync(buf: Uint8Array, off: number): boolean {
  return off + 1 < buf.length && buf[off] === 0xff && (buf[off + 1]! & 0xf6) === 0xf0;
}

export function parseAdtsHeader(buf: Uint8Array, off = 0, end = buf.length): AdtsHeader | null {
  if (end > buf.length) end = buf.length;
  if (off < 0 || end - off < 7 || !isAdtsSync(buf, off)) return null;
  const protectionAbsent = buf[off + 1]! & 1;
  const b2 = buf[off + 2]!;
  const b3 = buf[off + 3]!;
  const objectType = ((b2 >> 6) & 3) + 1;
  const samplingIndex = (b2 >> 2) & 0xf;
  const sampleRate = AAC_SAMPLE_RATES[samplingIndex];
  if (sampleRate === undefined) return null;
  const channelConfig = ((b2 & 1) << 2) | (b3 >> 6);
  const frameLength = ((b3 & 3) << 11) | (buf[off + 4]! << 3) | (buf[off + 5]! >> 5);
  const headerLength = protectionAbsent ? 7 : 9;
  if (frameLength < headerLength) return null;
  const rawBlocks = (buf[off + 6]! & 3) + 1;
  return {
    objectType,
    samplingIndex,
    sampleRate,
    channelConfig,
    channels: channelConfig === 7 ? 8 : channelConfig,
    frameLength,
    headerLength,
    rawBlocks,
    duration90k: (rawBlocks * 1024 * 90000) / sampleRate,
  };
}

/** `mp4a.40.<aot>` (RFC 6381). */
export function aacCodecString(objectType: number): string {
  return `mp4a.40.${objectType}`;
}
