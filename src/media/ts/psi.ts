/**
 * PSI: PAT/PMT section parsing and building, descriptor → codec classification, section packetization.
 * Pure byte-level code: parsers return null on malformed input and never throw.
 */
import { Buffer } from 'node:buffer';
import { crc32Mpeg2 } from './crc32.js';
import { STREAM_TYPE, TS_PACKET_SIZE, type TrackCodec, type TrackKind } from './types.js';

export interface PatProgram {
  programNumber: number;
  /** PMT PID (or the network PID for program 0). */
  pid: number;
}

export interface PatSection {
  transportStreamId: number;
  version: number;
  currentNext: boolean;
  programs: PatProgram[];
}

export interface PmtStream {
  streamType: number;
  pid: number;
  /** ES_info descriptors (a view into the section). */
  descriptors: Uint8Array;
}

export interface PmtSection {
  programNumber: number;
  version: number;
  currentNext: boolean;
  pcrPid: number;
  programDescriptors: Uint8Array;
  streams: PmtStream[];
}

/** Total length (header included) of the section starting at buf[off], or -1 when unknown. */
export function sectionLength(buf: Uint8Array, off: number, end = buf.length): number {
  if (off + 3 > end) return -1;
  return 3 + (((buf[off + 1]! & 0x0f) << 8) | buf[off + 2]!);
}

/** Parses a complete PAT section buf[off, off+len) (CRC not checked here). */
export function parsePat(buf: Uint8Array, off: number, len: number): PatSection | null {
  if (len < 12 || off + len > buf.length || buf[off] !== 0x00) return null;
  if (sectionLength(buf, off) !== len) return null;
  const programs: PatProgram[] = [];
  for (let j = off + 8; j + 4 <= off + len - 4; j += 4) {
    programs.push({ programNumber: (buf[j]! << 8) | buf[j + 1]!, pid: ((buf[j + 2]! & 0x1f) << 8) | buf[j + 3]! });
  }
  return {
    transportStreamId: (buf[off + 3]! << 8) | buf[off + 4]!,
    version: (buf[off + 5]! >> 1) & 0x1f,
    currentNext: (buf[off + 5]! & 1) === 1,
    programs,
  };
}

/** Parses a complete PMT section buf[off, off+len) (CRC not checked here). */
export function parsePmt(buf: Uint8Array, off: number, len: number): PmtSection | null {
  if (len < 16 || off + len > buf.length || buf[off] !== 0x02) return null;
  if (sectionLength(buf, off) !== len) return null;
  const end = off + len - 4;
  const progInfoLen = ((buf[off + 10]! & 0x0f) << 8) | buf[off + 11]!;
  let j = off + 12 + progInfoLen;
  if (j > end) return null;
  const streams: PmtStream[] = [];
  while (j + 5 <= end) {
    const esInfoLen = ((buf[j + 3]! & 0x0f) << 8) | buf[j + 4]!;
    if (j + 5 + esInfoLen > end) return null;
    streams.push({
      streamType: buf[j]!,
      pid: ((buf[j + 1]! & 0x1f) << 8) | buf[j + 2]!,
      descriptors: buf.subarray(j + 5, j + 5 + esInfoLen),
    });
    j += 5 + esInfoLen;
  }
  return {
    programNumber: (buf[off + 3]! << 8) | buf[off + 4]!,
    version: (buf[off + 5]! >> 1) & 0x1f,
    currentNext: (buf[off + 5]! & 1) === 1,
    pcrPid: ((buf[off + 8]! & 0x1f) << 8) | buf[off + 9]!,
    programDescriptors: buf.subarray(off + 12, off + 12 + progInfoLen),
    streams,
  };
}

export interface StreamClass {
  kind: TrackKind;
  codec: TrackCodec;
  /** Carried in PES packets (false for section-based streams such as SCTE-35). */
  pes: boolean;
  language?: string;
}

function fourcc(d: Uint8Array, off: number): string {
  return String.fromCharCode(d[off]!, d[off + 1]!, d[off + 2]!, d[off + 3]!);
}

/** Decides kind/codec of an elementary stream from its stream_type and descriptors. */
export function classifyStream(streamType: number, descriptors: Uint8Array): StreamClass {
  let language: string | undefined;
  let registration = '';
  const tags = new Set<number>();
  for (let i = 0; i + 2 <= descriptors.length; ) {
    const tag = descriptors[i]!;
    const len = descriptors[i + 1]!;
    if (i + 2 + len > descriptors.length) break;
    tags.add(tag);
    if (tag === 0x0a && len >= 3) {
      const s = String.fromCharCode(descriptors[i + 2]!, descriptors[i + 3]!, descriptors[i + 4]!);
      if (/^[a-zA-Z]{3}$/.test(s)) language = s.toLowerCase();
    } else if (tag === 0x05 && len >= 4) {
      registration = fourcc(descriptors, i + 2);
    }
    i += 2 + len;
  }
  const c = (kind: TrackKind, codec: TrackCodec, pes = true): StreamClass =>
    language === undefined ? { kind, codec, pes } : { kind, codec, pes, language };
  switch (streamType) {
    case STREAM_TYPE.MPEG1_VIDEO:
    case STREAM_TYPE.MPEG2_VIDEO:
      return c('video', 'mpeg2video');
    case STREAM_TYPE.MPEG4_VIDEO:
      return c('video', 'mpeg4video');
    case STREAM_TYPE.H264:
      return c('video', 'h264');
    case STREAM_TYPE.H265:
      return c('video', 'h265');
    case STREAM_TYPE.AAC_ADTS:
      return c('audio', 'aac');
    case STREAM_TYPE.AAC_LATM:
      return c('audio', 'aac_latm');
    case STREAM_TYPE.MPEG1_AUDIO:
    case STREAM_TYPE.MPEG2_AUDIO:
      return c('audio', 'mp3');
    case STREAM_TYPE.AC3:
      return c('audio', 'ac3');
    case STREAM_TYPE.EAC3:
      return c('audio', 'eac3');
    case STREAM_TYPE.METADATA:
      return c('data', 'id3');
    case STREAM_TYPE.SCTE35:
      return c('data', 'scte35', false);
    case STREAM_TYPE.PRIVATE_SECTIONS:
      return c('data', 'private', false);
    case STREAM_TYPE.PRIVATE_DATA:
      if (tags.has(0x6a) || registration === 'AC-3') return c('audio', 'ac3');
      if (tags.has(0x7a) || registration === 'EAC3') return c('audio', 'eac3');
      if (tags.has(0x7b) || registration.startsWith('DTS')) return c('audio', 'dts');
      if (registration === 'Opus') return c('audio', 'opus');
      if (registration === 'HEVC') return c('video', 'h265');
      if (tags.has(0x59)) return c('subtitle', 'dvb_subtitle');
      if (tags.has(0x56) || tags.has(0x46)) return c('subtitle', 'teletext');
      if (registration === 'KLVA') return c('data', 'klv');
      if (registration === 'ID3 ') return c('data', 'id3');
      return c('data', 'private');
    default:
      // Unknown types: passed through, not parsed (they may be section-based).
      return c('data', 'private', false);
  }
}

/** Builds a PAT section (with CRC). */
export function buildPatSection(programs: PatProgram[], transportStreamId = 1, version = 0): Buffer {
  const len = 8 + programs.length * 4 + 4;
  const s = Buffer.alloc(len);
  s[0] = 0x00;
  s[1] = 0xb0 | (((len - 3) >> 8) & 0x0f);
  s[2] = (len - 3) & 0xff;
  s.writeUInt16BE(transportStreamId & 0xffff, 3);
  s[5] = 0xc1 | ((version & 0x1f) << 1);
  s[6] = 0;
  s[7] = 0;
  let j = 8;
  for (const p of programs) {
    s.writeUInt16BE(p.programNumber & 0xffff, j);
    s[j + 2] = 0xe0 | ((p.pid >> 8) & 0x1f);
    s[j + 3] = p.pid & 0xff;
    j += 4;
  }
  s.writeUInt32BE(crc32Mpeg2(s, 0, len - 4), len - 4);
  return s;
}

export interface PmtStreamSpec {
  streamType: number;
  pid: number;
  descriptors?: Uint8Array;
}

/** Builds a PMT section (with CRC). */
export function buildPmtSection(
  programNumber: number,
  pcrPid: number,
  streams: PmtStreamSpec[],
  version = 0,
  programDescriptors: Uint8Array = new Uint8Array(0),
): Buffer {
  let len = 12 + programDescriptors.length + 4;
  for (const st of streams) len += 5 + (st.descriptors?.length ?? 0);
  const s = Buffer.alloc(len);
  s[0] = 0x02;
  s[1] = 0xb0 | (((len - 3) >> 8) & 0x0f);
  s[2] = (len - 3) & 0xff;
  s.writeUInt16BE(programNumber & 0xffff, 3);
  s[5] = 0xc1 | ((version & 0x1f) << 1);
  s[6] = 0;
  s[7] = 0;
  s[8] = 0xe0 | ((pcrPid >> 8) & 0x1f);
  s[9] = pcrPid & 0xff;
  s[10] = 0xf0 | ((programDescriptors.length >> 8) & 0x0f);
  s[11] = programDescriptors.length & 0xff;
  s.set(programDescriptors, 12);
  let j = 12 + programDescriptors.length;
  for (const st of streams) {
    const d = st.descriptors ?? new Uint8Array(0);
    s[j] = st.streamType;
    s[j + 1] = 0xe0 | ((st.pid >> 8) & 0x1f);
    s[j + 2] = st.pid & 0xff;
    s[j + 3] = 0xf0 | ((d.length >> 8) & 0x0f);
    s[j + 4] = d.length & 0xff;
    s.set(d, j + 5);
    j += 5 + d.length;
  }
  s.writeUInt32BE(crc32Mpeg2(s, 0, len - 4), len - 4);
  return s;
}

/**
 * Packetizes one section into whole TS packets on `pid` (pointer_field 0, 0xFF stuffing).
 * `cc` is the continuity counter of the first packet; the next ones increment it.
 * Writes into `out` at `outOffset` when given (must have room), else allocates. Returns the packets.
 */
export function packetizeSection(section: Uint8Array, pid: number, cc: number, out?: Buffer, outOffset = 0): Buffer {
  const count = Math.max(1, Math.ceil((section.length + 1) / 184));
  const buf = out ? out.subarray(outOffset, outOffset + count * TS_PACKET_SIZE) : Buffer.allocUnsafe(count * TS_PACKET_SIZE);
  buf.fill(0xff);
  let src = 0;
  for (let k = 0; k < count; k++) {
    const o = k * TS_PACKET_SIZE;
    buf[o] = 0x47;
    buf[o + 1] = (k === 0 ? 0x40 : 0) | ((pid >> 8) & 0x1f);
    buf[o + 2] = pid & 0xff;
    buf[o + 3] = 0x10 | ((cc + k) & 0x0f);
    let p = o + 4;
    if (k === 0) buf[p++] = 0; // pointer_field
    const n = Math.min(section.length - src, o + TS_PACKET_SIZE - p);
    buf.set(section.subarray(src, src + n), p);
    src += n;
  }
  return buf;
}

/** Number of TS packets `packetizeSection` produces for a section of this length. */
export function sectionPacketCount(sectionLength: number): number {
  return Math.max(1, Math.ceil((sectionLength + 1) / 184));
}
