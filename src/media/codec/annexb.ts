/**
 * Annex-B byte-stream scanning (H.264 / H.265): start codes, NAL unit ranges, first VCL NAL of an access unit.
 * Pure byte-level code: never throws.
 */
import { isH264Keyframe, isH264Vcl } from './h264.js';
import { h265NalType, isH265Irap, isH265Vcl } from './h265.js';

export type VideoCodec = 'h264' | 'h265';

/** A NAL unit inside a buffer: [start, end) includes the NAL header, excludes the start code and trailing zeros. */
export interface NalRange {
  type: number;
  start: number;
  end: number;
}

/**
 * Offset of the first byte after the next 00 00 01 start code in [from, end), or -1.
 * (A 4-byte start code 00 00 00 01 is found too: its leading zero is a trailing zero of the previous NAL.)
 */
export function findStartCode(buf: Uint8Array, from = 0, end = buf.length): number {
  if (end > buf.length) end = buf.length;
  for (let i = Math.max(0, from) + 2; i < end; i++) {
    const b = buf[i]!;
    if (b > 1) {
      i += 2; // neither of the next two positions can end a start code at a byte > 1 ... skip ahead
      continue;
    }
    if (b === 1 && buf[i - 1] === 0 && buf[i - 2] === 0) return i + 1;
  }
  return -1;
}

/** NAL type of a NAL header byte for the codec. */
export function nalType(codec: VideoCodec, headerByte: number): number {
  return codec === 'h264' ? headerByte & 0x1f : h265NalType(headerByte);
}

/** Splits an Annex-B buffer into NAL units. */
export function splitAnnexB(buf: Uint8Array, codec: VideoCodec = 'h264', start = 0, end = buf.length): NalRange[] {
  if (end > buf.length) end = buf.length;
  const out: NalRange[] = [];
  let s = findStartCode(buf, start, end);
  while (s >= 0 && s < end) {
    const next = findStartCode(buf, s, end);
    let e = next < 0 ? end : next - 3;
    while (e > s && buf[e - 1] === 0) e--;
    if (e > s) out.push({ type: nalType(codec, buf[s]!), start: s, end: e });
    s = next;
  }
  return out;
}

/** The first VCL (coded slice) NAL unit of an access unit, or null when there is none. */
export function firstVclNal(buf: Uint8Array, codec: VideoCodec = 'h264', start = 0, end = buf.length): NalRange | null {
  for (const nal of splitAnnexB(buf, codec, start, end)) {
    if (codec === 'h264' ? isH264Vcl(nal.type) : isH265Vcl(nal.type)) return nal;
  }
  return null;
}

/**
 * True when the access unit's first VCL NAL is an IDR (H.264) or IRAP (H.265) picture, or (H.264) an I slice
 * preceded by a recovery-point SEI in the same access unit (open GOP). Same rule as the TS demuxer.
 */
export function isKeyframeAccessUnit(buf: Uint8Array, codec: VideoCodec = 'h264', start = 0, end = buf.length): boolean {
  let recovery = false;
  for (const nal of splitAnnexB(buf, codec, start, end)) {
    if (codec === 'h265') {
      if (isH265Vcl(nal.type)) return isH265Irap(nal.type);
      continue;
    }
    if (nal.type === 6 && nal.end > nal.start + 1 && buf[nal.start + 1] === 6) recovery = true;
    if (isH264Vcl(nal.type)) {
      if (isH264Keyframe(nal.type)) return true;
      if (nal.type !== 1 || !recovery || nal.end <= nal.start + 1) return false;
      const b = buf[nal.start + 1]!;
      return (b & 0xf0) === 0xb0 || b === 0x88;
    }
  }
  return false;
}
