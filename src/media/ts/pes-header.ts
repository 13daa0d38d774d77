/**
 * PES header reading (ISO/IEC 13818-1 2.4.3.6), also when the header is split across TS packets.
 * Pure functions over a track's preallocated header buffer: no allocation except the one header
 * buffer a track gets the first time its header straddles packets.
 */
import { Buffer } from 'node:buffer';
import { PES_FIXED_HEADER, PES_SHORT_HEADER, PTS_AND_DTS, PTS_ONLY, TIMESTAMP_BYTES } from './packet.js';
import type { TimestampUnwrapper } from './timestamp.js';
import { readPts } from './timestamp.js';
import { noOptionalHeader, type TsTrack } from './track.js';

/** `startPesHeader`: the bytes are not a PES header. */
export const HEADER_BAD = -1;
/** `startPesHeader`: the header continues in the next packet(s); its first bytes are in `track.hdr`. */
export const HEADER_PENDING = -2;
/** PES_header_data_length is one byte: the largest header is the fixed part plus 255. */
export const PES_MAX_HEADER = PES_FIXED_HEADER + 255;
/** Bytes counted by PES_packet_length before the optional fields: the two flag bytes and PES_header_data_length. */
const PES_LENGTH_FIXED = PES_FIXED_HEADER - PES_SHORT_HEADER;

/**
 * The PES starting at buf[p] (payload_unit_start packet, payload up to `end`). Returns the header
 * length (PES_SHORT_HEADER for a stream without optional header, else PES_FIXED_HEADER plus
 * PES_header_data_length: the elementary stream starts at p + that), HEADER_BAD, or HEADER_PENDING
 * (the bytes so far are copied into `t.hdr`, `t.hdrLen/hdrNeed` set; feed the next packets to
 * `continuePesHeader`).
 */
export function startPesHeader(t: TsTrack, buf: Buffer, p: number, end: number): number {
  const avail = end - p;
  if (avail >= PES_FIXED_HEADER && buf[p] === 0 && buf[p + 1] === 0 && buf[p + 2] === 1) {
    if (noOptionalHeader(buf[p + 3]!)) return PES_SHORT_HEADER;
    const need = PES_FIXED_HEADER + buf[p + 8]!;
    if (avail >= need) return need;
  } else if (!((avail < 1 || buf[p] === 0) && (avail < 2 || buf[p + 1] === 0) && (avail < 3 || buf[p + 2] === 1)) || avail >= PES_FIXED_HEADER) {
    return HEADER_BAD;
  }
  if (t.hdr === null) t.hdr = Buffer.allocUnsafe(PES_MAX_HEADER);
  buf.copy(t.hdr, 0, p, end);
  t.hdrLen = avail;
  t.hdrNeed = avail >= PES_FIXED_HEADER ? PES_FIXED_HEADER + buf[p + 8]! : PES_FIXED_HEADER;
  return HEADER_PENDING;
}

/**
 * Appends the next packet's payload buf[p, end) to a pending header. Returns the bytes consumed, or
 * HEADER_BAD. The header is complete when `t.hdrLen === t.hdrNeed`: then it has no optional header
 * when `t.hdrNeed === PES_FIXED_HEADER && noOptionalHeader(t.hdr[3])` (the elementary stream starts at
 * t.hdr[PES_SHORT_HEADER]), else it is a full header of `t.hdrNeed` bytes.
 */
export function continuePesHeader(t: TsTrack, buf: Buffer, p: number, end: number): number {
  const h = t.hdr!;
  const start = p;
  for (;;) {
    const take = Math.min(end - p, t.hdrNeed - t.hdrLen);
    buf.copy(h, t.hdrLen, p, p + take);
    t.hdrLen += take;
    p += take;
    if (t.hdrLen < t.hdrNeed) return p - start;
    if (t.hdrNeed !== PES_FIXED_HEADER) return p - start;
    if (h[0] !== 0 || h[1] !== 0 || h[2] !== 1) return HEADER_BAD;
    if (noOptionalHeader(h[3]!)) return p - start;
    t.hdrNeed = PES_FIXED_HEADER + h[8]!;
    if (t.hdrNeed === PES_FIXED_HEADER) return p - start;
  }
}

/**
 * Reads stream_id, PTS and DTS (unwrapped; NaN when absent) of the full header at h[o] into the track.
 * Returns PTS_DTS_flags (PTS_FORBIDDEN is a format error for the caller to count).
 */
export function readPesTimestamps(t: TsTrack, h: Buffer, o: number, unwrapper: TimestampUnwrapper): number {
  t.streamId = h[o + 3]!;
  const ptsDts = h[o + 7]! >> 6;
  const hl = h[o + 8]!;
  t.pts = Number.NaN;
  t.dts = Number.NaN;
  if (ptsDts & PTS_ONLY && hl >= TIMESTAMP_BYTES) {
    t.pts = unwrapper.unwrap(readPts(h, o + PES_FIXED_HEADER));
    if (ptsDts === PTS_AND_DTS && hl >= 2 * TIMESTAMP_BYTES) t.dts = unwrapper.unwrap(readPts(h, o + PES_FIXED_HEADER + TIMESTAMP_BYTES));
  }
  return ptsDts;
}

/** Elementary-stream bytes the full header at h[o] announces, -1 when unbounded (PES_packet_length 0, video). */
export function pesPayloadLength(h: Buffer, o: number): number {
  const pesLen = (h[o + 4]! << 8) | h[o + 5]!;
  return pesLen > 0 ? pesLen - PES_LENGTH_FIXED - h[o + 8]! : -1;
}
