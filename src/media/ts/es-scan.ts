/**
 * Elementary-stream scanning of a PES payload: H.264/H.265 Annex-B bytes up to the first VCL NAL (is
 * the access unit a keyframe? parameter sets met on the way) and the audio header at a PES start.
 * Per-track state lives in TsTrack; the demuxer calls these for the packets of the PES being scanned.
 */
import type { Buffer } from 'node:buffer';
import { parseAdtsHeader } from '../codec/aac.js';
import { parseAc3Header, parseMpegAudioHeader } from '../codec/audio.js';
import { parseH264Sps } from '../codec/h264.js';
import { parseH265Sps, parseH265Vps } from '../codec/h265.js';
import * as track from './track.js';
import type { TsTrack } from './track.js';
import type { TrackCodec } from './types.js';

// Module-local copies (see demuxer.ts): the scan reads them for every byte of a video PES start.
const C_AAC = track.C_AAC;
const C_H264 = track.C_H264;
const C_H265 = track.C_H265;
const C_MPA = track.C_MPA;
const NAL_CAP = track.NAL_CAP;
const PEEK_NONE = track.PEEK_NONE;
const PEEK_SEI = track.PEEK_SEI;
const PEEK_SLICE = track.PEEK_SLICE;

/** What scanAnnexB reports to the demuxer. */
export interface EsScanHost {
  /** the keyframe decision of the track's current PES is made (t.keyframe) */
  ready(t: TsTrack): void;
  /** a whole SPS/VPS (NAL type `type`) is in t.nal[0, t.nalLen) */
  paramSet(t: TsTrack, type: number): void;
}

export const PARAM_BAD = -1;
export const PARAM_SAME = 0;
export const PARAM_CHANGED = 1;

/** H.264 nal_unit_type: coded slice of a non-IDR picture, of an IDR picture, SEI, SPS. */
const H264_NAL_SLICE = 1;
const H264_NAL_IDR = 5;
const H264_NAL_SEI = 6;
const H264_NAL_SPS = 7;
/** H.264 VCL NAL types are 1..5; H.265 VCL types are 0..31, IRAP pictures 16..23. */
const H264_NAL_VCL_LAST = 5;
const H265_NAL_VCL_LAST = 31;
const H265_NAL_IRAP_FIRST = 16;
const H265_NAL_IRAP_LAST = 23;
/** H.265 nal_unit_type: VPS, SPS. */
const H265_NAL_VPS = 32;
const H265_NAL_SPS = 33;
/** SEI payloadType of a recovery point (an I slice after it is a random access point). */
const SEI_RECOVERY_POINT = 6;

/**
 * Scans Annex-B bytes for the first VCL NAL; collects SPS/VPS met on the way.
 * Keyframe: H.265 IRAP (16..23); H.264 IDR, or an I slice preceded by a recovery-point SEI in the same
 * access unit (open-GOP / broadcast streams that have no IDR after the first picture).
 */
export function scanAnnexB(t: TsTrack, buf: Buffer, p: number, end: number, maxScan: number, host: EsScanHost): void {
  const h265 = t.codecId === C_H265;
  let limit = end;
  if (limit - p > maxScan - t.scanned) limit = p + (maxScan - t.scanned);
  t.scanned += limit - p;
  let zeros = t.zeros;
  let nalNext = t.nalNext;
  let collect = t.collect;
  let peek = t.peek;
  for (let k = p; k < limit; k++) {
    const b = buf[k]!;
    if (peek !== PEEK_NONE) {
      if (peek === PEEK_SLICE) {
        // first_mb_in_slice = 0 ('1') then slice_type 2 ('011') or 7 ('0001000'): an I slice.
        t.keyframe = (b & 0xf0) === 0xb0 || b === 0x88;
        t.peek = PEEK_NONE;
        t.collect = -1;
        host.ready(t);
        return;
      }
      if (b === SEI_RECOVERY_POINT) t.recovery = true;
      peek = PEEK_NONE;
    }
    if (nalNext) {
      nalNext = false;
      const type = h265 ? (b >> 1) & 0x3f : b & 0x1f;
      if (h265 ? type <= H265_NAL_VCL_LAST : type >= H264_NAL_SLICE && type <= H264_NAL_VCL_LAST) {
        if (!h265 && type === H264_NAL_SLICE && t.recovery) {
          peek = PEEK_SLICE;
          collect = -1;
          zeros = 0;
          continue;
        }
        t.keyframe = h265 ? type >= H265_NAL_IRAP_FIRST && type <= H265_NAL_IRAP_LAST : type === H264_NAL_IDR;
        t.collect = -1;
        t.peek = PEEK_NONE;
        host.ready(t);
        return;
      }
      if (h265 ? type === H265_NAL_SPS || type === H265_NAL_VPS : type === H264_NAL_SPS) {
        if (t.nal === null) t.nal = new Uint8Array(NAL_CAP);
        collect = type;
        t.nal[0] = b;
        t.nalLen = 1;
      } else {
        collect = -1;
        if (!h265 && type === H264_NAL_SEI) peek = PEEK_SEI;
      }
      zeros = b === 0 ? 1 : 0;
      continue;
    }
    if (b === 1 && zeros >= 2) {
      if (collect >= 0) {
        t.nalLen -= zeros < t.nalLen ? zeros : t.nalLen;
        host.paramSet(t, collect);
        collect = -1;
      }
      nalNext = true;
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    if (collect >= 0) {
      if (t.nalLen < NAL_CAP) t.nal![t.nalLen++] = b;
      else collect = -1;
    }
  }
  t.zeros = zeros;
  t.nalNext = nalNext;
  t.collect = collect;
  t.peek = peek;
  if (t.scanned >= maxScan) {
    t.keyframe = false;
    t.collect = -1;
    t.peek = PEEK_NONE;
    host.ready(t);
  }
}

/** A parameter set collected by the scan: the track's info from it. PARAM_SAME, PARAM_CHANGED or PARAM_BAD. */
export function applyParamSet(t: TsTrack, type: number): number {
  const nal = t.nal!.subarray(0, t.nalLen);
  const vps = t.codecId === C_H265 && type === H265_NAL_VPS;
  const last = vps ? t.lastVps : t.lastSps;
  if (last !== null && last.length === nal.length) {
    let same = true;
    for (let k = 0; k < nal.length; k++) {
      if (last[k] !== nal[k]) {
        same = false;
        break;
      }
    }
    if (same) return PARAM_SAME;
  }
  const copy = nal.slice();
  const info = t.info;
  if (vps) {
    const v = parseH265Vps(copy);
    if (v === null) return PARAM_BAD;
    t.lastVps = copy;
    if (v.fps !== undefined && !t.vuiFps) {
      info.fps = v.fps;
      t.vuiFps = true;
    }
    return PARAM_CHANGED;
  }
  // H.264 and H.265 SPS carry the same facts the track needs
  const sps = t.codecId === C_H264 ? parseH264Sps(copy) : parseH265Sps(copy);
  if (sps === null) return PARAM_BAD;
  t.lastSps = copy;
  info.codecString = sps.codecString;
  info.width = sps.width;
  info.height = sps.height;
  info.profile = sps.profileIdc;
  info.level = sps.levelIdc;
  if (sps.fps !== undefined) {
    info.fps = sps.fps;
    t.vuiFps = true;
  }
  return PARAM_CHANGED;
}

/** The audio header at the start of a PES payload: true when it changed the track's info. */
export function applyAudioHeader(t: TsTrack, buf: Buffer, p: number, end: number): boolean {
  t.audioParse = false;
  if (end - p < 7) return false;
  let key: number;
  if (t.codecId === C_AAC) key = ((buf[p + 1]! & 0xf6) << 16) | (buf[p + 2]! << 8) | (buf[p + 3]! & 0xc0);
  else if (t.codecId === C_MPA) key = (buf[p + 1]! << 16) | ((buf[p + 2]! & 0x0c) << 8) | (buf[p + 3]! & 0xc0);
  else key = (buf[p + 4]! << 16) | (buf[p + 5]! << 8) | buf[p + 6]!;
  if (key === t.audioKey) return false;
  const info = t.info;
  if (t.codecId === C_AAC) {
    const h = parseAdtsHeader(buf, p, end);
    if (h === null) return false;
    info.codecString = `mp4a.40.${h.objectType}`;
    info.sampleRate = h.sampleRate;
    info.channels = h.channels;
  } else if (t.codecId === C_MPA) {
    const h = parseMpegAudioHeader(buf, p, end);
    if (h === null) return false;
    info.codecString = h.codecString;
    info.sampleRate = h.sampleRate;
    info.channels = h.channels;
    (info as { codec: TrackCodec }).codec = h.layer === 3 ? 'mp3' : 'mp2';
  } else {
    const h = parseAc3Header(buf, p, end);
    if (h === null) return false;
    info.codecString = h.codecString;
    info.sampleRate = h.sampleRate;
    info.channels = h.channels;
  }
  t.audioKey = key;
  return true;
}
