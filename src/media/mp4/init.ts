/**
 * CMAF / fragmented MP4 init segment (ISO/IEC 14496-12, 14496-15, 14496-14, ISO/IEC 23000-19):
 * ftyp + moov (mvhd, one trak per track with avc1/avcC, hvc1/hvcC or mp4a/esds, empty sample tables)
 * + mvex (trex per track). Durations are 0: every sample lives in movie fragments.
 */
import { Buffer } from 'node:buffer';
import { parseH264Sps } from '../codec/h264.js';
import { parseH265Sps } from '../codec/h265.js';
import { AAC_SAMPLE_RATES } from '../codec/aac.js';
import { BoxWriter } from './boxes.js';

export interface Mp4VideoTrack {
  kind: 'video';
  id: number;
  codec: 'h264' | 'h265';
  /** 90000 keeps MPEG-TS timestamps exact. */
  timescale: number;
  width: number;
  height: number;
  /** Parameter set NAL units without start codes (VPS only for H.265). */
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** RFC 6381 codec string (avc1.64001f, hvc1.1.6.L93.B0). */
  codecString: string;
  sarWidth?: number;
  sarHeight?: number;
}

export interface Mp4AudioTrack {
  kind: 'audio';
  id: number;
  codec: 'aac';
  /** The sample rate: one AAC frame is 1024 ticks. */
  timescale: number;
  sampleRate: number;
  channels: number;
  /** MPEG-4 audio object type (2 = LC). */
  objectType: number;
  /** AudioSpecificConfig (2 bytes for ADTS-derived configs). */
  asc: Uint8Array;
  codecString: string;
}

export type Mp4Track = Mp4VideoTrack | Mp4AudioTrack;

/** AudioSpecificConfig from ADTS fields: objectType(5) samplingIndex(4) channelConfig(4) 000. */
export function audioSpecificConfig(objectType: number, sampleRate: number, channelConfig: number): Uint8Array {
  let idx = AAC_SAMPLE_RATES.indexOf(sampleRate);
  if (idx < 0) idx = 4; // 44100: never reached for rates parsed from ADTS
  return Uint8Array.of(((objectType & 0x1f) << 3) | (idx >> 1), ((idx & 1) << 7) | ((channelConfig & 0xf) << 3));
}

/**
 * A video track description from parameter sets, or null when the SPS does not parse.
 * `codecString`, size and SAR come from the SPS.
 */
export function videoTrackFromParams(
  id: number,
  codec: 'h264' | 'h265',
  vps: Uint8Array[],
  sps: Uint8Array[],
  pps: Uint8Array[],
): Mp4VideoTrack | null {
  if (sps.length === 0 || pps.length === 0 || (codec === 'h265' && vps.length === 0)) return null;
  const p = codec === 'h264' ? parseH264Sps(sps[0]!) : parseH265Sps(sps[0]!);
  if (p === null) return null;
  const t: Mp4VideoTrack = {
    kind: 'video',
    id,
    codec,
    timescale: 90000,
    width: p.width,
    height: p.height,
    vps,
    sps,
    pps,
    codecString: p.codecString,
  };
  if (p.sarWidth !== undefined && p.sarHeight !== undefined && p.sarWidth > 0 && p.sarHeight > 0) {
    t.sarWidth = p.sarWidth;
    t.sarHeight = p.sarHeight;
  }
  return t;
}

export function audioTrack(id: number, objectType: number, sampleRate: number, channelConfig: number): Mp4AudioTrack {
  return {
    kind: 'audio',
    id,
    codec: 'aac',
    timescale: sampleRate,
    sampleRate,
    channels: channelConfig === 7 ? 8 : channelConfig || 2,
    objectType,
    asc: audioSpecificConfig(objectType, sampleRate, channelConfig),
    codecString: `mp4a.40.${objectType}`,
  };
}

const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

function matrix(w: BoxWriter): void {
  for (const v of MATRIX) w.u32(v);
}

/** The init segment for these tracks (track ids must be unique and > 0). */
export function buildInitSegment(tracks: readonly Mp4Track[]): Buffer {
  const w = new BoxWriter(1024);
  // CMAF brands: cmfc (CMAF), iso6 (ISO BMFF with fragments), mp41 for older parsers.
  w.begin('ftyp').ascii('iso6').u32(0).ascii('iso6').ascii('cmfc').ascii('mp41').end();
  w.begin('moov');
  w.begin('mvhd', 0).u32(0).u32(0).u32(1000).u32(0).u32(0x00010000).u16(0x0100).zeros(10);
  matrix(w);
  w.zeros(24).u32(tracks.reduce((m, t) => Math.max(m, t.id), 0) + 1).end();
  for (const t of tracks) trak(w, t);
  w.begin('mvex');
  for (const t of tracks) {
    w.begin('trex', 0).u32(t.id).u32(1).u32(0).u32(0).u32(0).end();
  }
  w.end(); // mvex
  w.end(); // moov
  return w.finish();
}

function trak(w: BoxWriter, t: Mp4Track): void {
  const video = t.kind === 'video';
  w.begin('trak');
  // tkhd flags: enabled | in movie | in preview
  w.begin('tkhd', 0, 7).u32(0).u32(0).u32(t.id).u32(0).u32(0).zeros(8).u16(0).u16(video ? 0 : 1);
  w.u16(video ? 0 : 0x0100).u16(0);
  matrix(w);
  if (video) {
    const dispW = t.sarWidth !== undefined && t.sarHeight !== undefined ? Math.round((t.width * t.sarWidth) / t.sarHeight) : t.width;
    w.u32(dispW * 65536).u32(t.height * 65536);
  } else {
    w.u32(0).u32(0);
  }
  w.end();
  w.begin('mdia');
  // language 'und' packed as 5-bit letters
  w.begin('mdhd', 0).u32(0).u32(0).u32(t.timescale).u32(0).u16(0x55c4).u16(0).end();
  w.begin('hdlr', 0).u32(0).ascii(video ? 'vide' : 'soun').zeros(12).ascii(video ? 'VideoHandler' : 'SoundHandler').u8(0).end();
  w.begin('minf');
  if (video) w.begin('vmhd', 0, 1).zeros(8).end();
  else w.begin('smhd', 0).zeros(4).end();
  w.begin('dinf').begin('dref', 0).u32(1).begin('url ', 0, 1).end().end().end();
  w.begin('stbl');
  w.begin('stsd', 0).u32(1);
  if (t.kind === 'video') videoSampleEntry(w, t);
  else audioSampleEntry(w, t);
  w.end(); // stsd
  w.begin('stts', 0).u32(0).end();
  w.begin('stsc', 0).u32(0).end();
  w.begin('stsz', 0).u32(0).u32(0).end();
  w.begin('stco', 0).u32(0).end();
  w.end(); // stbl
  w.end(); // minf
  w.end(); // mdia
  w.end(); // trak
}

function videoSampleEntry(w: BoxWriter, t: Mp4VideoTrack): void {
  w.begin(t.codec === 'h264' ? 'avc1' : 'hvc1');
  w.zeros(6).u16(1); // reserved, data_reference_index
  w.zeros(16); // pre_defined, reserved, pre_defined[3]
  w.u16(t.width).u16(t.height);
  w.u32(0x00480000).u32(0x00480000).u32(0).u16(1);
  w.u8(0).zeros(31); // compressorname (empty Pascal string)
  w.u16(0x0018).u16(0xffff);
  if (t.codec === 'h264') avcC(w, t);
  else hvcC(w, t);
  if (t.sarWidth !== undefined && t.sarHeight !== undefined) w.begin('pasp').u32(t.sarWidth).u32(t.sarHeight).end();
  w.end();
}

function avcC(w: BoxWriter, t: Mp4VideoTrack): void {
  const sps = t.sps[0]!;
  w.begin('avcC').u8(1).u8(sps[1]!).u8(sps[2]!).u8(sps[3]!).u8(0xff); // lengthSizeMinusOne = 3
  w.u8(0xe0 | Math.min(31, t.sps.length));
  for (const s of t.sps.slice(0, 31)) w.u16(s.length).bytes(s);
  w.u8(Math.min(255, t.pps.length));
  for (const p of t.pps.slice(0, 255)) w.u16(p.length).bytes(p);
  const profile = sps[1]!;
  if (profile === 100 || profile === 110 || profile === 122 || profile === 144) {
    const parsed = parseH264Sps(sps);
    w.u8(0xfc | ((parsed?.chromaFormatIdc ?? 1) & 3));
    w.u8(0xf8 | (((parsed?.bitDepthLuma ?? 8) - 8) & 7));
    w.u8(0xf8 | (((parsed?.bitDepthChroma ?? 8) - 8) & 7));
    w.u8(0); // numOfSequenceParameterSetExt
  }
  w.end();
}

function hvcC(w: BoxWriter, t: Mp4VideoTrack): void {
  const p = parseH265Sps(t.sps[0]!);
  w.begin('hvcC').u8(1);
  if (p !== null) {
    w.u8(((p.profileSpace & 3) << 6) | ((p.tierFlag & 1) << 5) | (p.profileIdc & 0x1f));
    w.u32(p.compatibilityFlags);
    for (let k = 0; k < 6; k++) w.u8(p.constraintBytes[k] ?? 0);
    w.u8(p.levelIdc);
  } else {
    w.u8(1).u32(0x60000000).zeros(6).u8(93);
  }
  w.u16(0xf000); // min_spatial_segmentation_idc = 0
  w.u8(0xfc); // parallelismType = 0
  w.u8(0xfc | ((p?.chromaFormatIdc ?? 1) & 3));
  w.u8(0xf8 | (((p?.bitDepthLuma ?? 8) - 8) & 7));
  w.u8(0xf8 | (((p?.bitDepthChroma ?? 8) - 8) & 7));
  w.u16(0); // avgFrameRate unknown
  w.u8((1 << 3) | (1 << 2) | 3); // constantFrameRate 0, numTemporalLayers 1, temporalIdNested 1, lengthSizeMinusOne 3
  w.u8(3);
  const arrays: [number, Uint8Array[]][] = [
    [32, t.vps],
    [33, t.sps],
    [34, t.pps],
  ];
  for (const [type, nals] of arrays) {
    w.u8(0x80 | type).u16(nals.length);
    for (const n of nals) w.u16(n.length).bytes(n);
  }
  w.end();
}

/** Writes an MPEG-4 descriptor header with a 4-byte (0x80-continued) size, as most muxers do. */
function descr(w: BoxWriter, tag: number, size: number): void {
  w.u8(tag).u8(0x80 | ((size >> 21) & 0x7f)).u8(0x80 | ((size >> 14) & 0x7f)).u8(0x80 | ((size >> 7) & 0x7f)).u8(size & 0x7f);
}

function audioSampleEntry(w: BoxWriter, t: Mp4AudioTrack): void {
  w.begin('mp4a');
  w.zeros(6).u16(1);
  w.zeros(8).u16(t.channels).u16(16).u16(0).u16(0);
  w.u32((t.sampleRate < 65536 ? t.sampleRate : 0) * 65536);
  w.begin('esds', 0);
  const asc = t.asc;
  const dsi = 5 + asc.length;
  const dcd = 5 + 13 + dsi;
  const sl = 5 + 1;
  descr(w, 0x03, 3 + dcd + sl);
  w.u16(t.id).u8(0); // ES_ID, flags
  descr(w, 0x04, 13 + dsi);
  w.u8(0x40).u8(0x15).u24(0).u32(0).u32(0); // AAC, audio stream, bufferSize, max/avg bitrate unknown
  descr(w, 0x05, asc.length);
  w.bytes(asc);
  descr(w, 0x06, 1);
  w.u8(0x02);
  w.end(); // esds
  w.end(); // mp4a
}

/** `avc1.64001f,mp4a.40.2` for an HLS CODECS attribute. */
export function codecsOf(tracks: readonly Mp4Track[]): string {
  return tracks.map((t) => t.codecString).join(',');
}
