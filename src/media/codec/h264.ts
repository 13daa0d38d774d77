/**
 * H.264 / AVC: NAL unit types, keyframe detection and SPS parsing (ITU-T H.264 §7.3.2.1.1, Annex E).
 * Pure byte-level code: never throws on bad input (parsers return null).
 */
import { BitReader, hex2, unescapeRbsp } from './bits.js';

export const H264_NAL = {
  SLICE: 1,
  SLICE_DPA: 2,
  SLICE_DPB: 3,
  SLICE_DPC: 4,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_SEQ: 10,
  END_STREAM: 11,
  FILLER: 12,
  SPS_EXT: 13,
  PREFIX: 14,
  SUBSET_SPS: 15,
} as const;

/** NAL unit type from the first NAL header byte. */
export function h264NalType(headerByte: number): number {
  return headerByte & 0x1f;
}

/** Coded slice NAL types (1..5): the first of these in an access unit tells whether it is a keyframe. */
export function isH264Vcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

/** IDR picture. */
export function isH264Keyframe(type: number): boolean {
  return type === 5;
}

export interface H264Sps {
  profileIdc: number;
  /** constraint_set0..5 flags and the 2 reserved bits, as the byte that follows profile_idc. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  frameMbsOnly: boolean;
  /** Display size after cropping. */
  width: number;
  height: number;
  /** Coded size (macroblock aligned). */
  codedWidth: number;
  codedHeight: number;
  /** Sample aspect ratio, when the VUI gives it. */
  sarWidth?: number;
  sarHeight?: number;
  /** time_scale / (2 * num_units_in_tick) from the VUI timing info, when present. */
  fps?: number;
  fixedFrameRate?: boolean;
  /** RFC 6381 codec string, `avc1.PPCCLL`. */
  codecString: string;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Table E-1 sample aspect ratios (index = aspect_ratio_idc). */
export const SAR_TABLE: ReadonlyArray<readonly [number, number]> = [
  [0, 0], [1, 1], [12, 11], [10, 11], [16, 11], [40, 33], [24, 11], [20, 11], [32, 11],
  [80, 33], [18, 11], [15, 11], [64, 33], [160, 99], [4, 3], [3, 2], [2, 1],
];

/** `avc1.PPCCLL` (lower-case hex). */
export function h264CodecString(profileIdc: number, constraintFlags: number, levelIdc: number): string {
  return `avc1.${hex2(profileIdc)}${hex2(constraintFlags)}${hex2(levelIdc)}`;
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      next = (last + delta + 256) % 256;
      if (r.overrun) return;
    }
    last = next === 0 ? last : next;
  }
}

/**
 * Parses an SPS NAL unit (`nal` starts with the NAL header byte, emulation prevention still in place).
 * Returns null when it is not an SPS or is truncated/invalid.
 */
export function parseH264Sps(nal: Uint8Array): H264Sps | null {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== H264_NAL.SPS) return null;
  const rbsp = unescapeRbsp(nal, 1, nal.length);
  const r = new BitReader(rbsp);
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const spsId = r.ue();
  if (spsId > 31) return null;
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) return null;
    if (chromaFormatIdc === 3) separateColourPlane = r.bit();
    bitDepthLuma = 8 + r.ue();
    bitDepthChroma = 8 + r.ue();
    r.bit(); // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) {
      const n = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < n && !r.overrun; i++) {
        if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.bit(); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const n = r.ue();
    if (n > 255) return null;
    for (let i = 0; i < n && !r.overrun; i++) r.se();
  } else if (pocType !== 2) {
    return null;
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit() === 1;
  if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field_flag
  r.bit(); // direct_8x8_inference_flag
  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.bit()) {
    cropLeft = r.ue();
    cropRight = r.ue();
    cropTop = r.ue();
    cropBottom = r.ue();
  }
  if (r.overrun) return null;
  const codedWidth = widthMbs * 16;
  const codedHeight = (2 - (frameMbsOnly ? 1 : 0)) * heightMapUnits * 16;
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 3 ? 1 : 2;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - (frameMbsOnly ? 1 : 0));
  const width = codedWidth - cropUnitX * (cropLeft + cropRight);
  const height = codedHeight - cropUnitY * (cropTop + cropBottom);
  if (width <= 0 || height <= 0 || codedWidth > 16384 || codedHeight > 16384) return null;

  const sps: H264Sps = {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    width,
    height,
    codedWidth,
    codedHeight,
    codecString: h264CodecString(profileIdc, constraintFlags, levelIdc),
  };

  if (r.bit()) {
    // vui_parameters()
    readVuiPrefix(r, sps);
    if (r.bit()) {
      const unitsInTick = r.u(32);
      const timeScale = r.u(32);
      const fixed = r.bit();
      if (!r.overrun && unitsInTick > 0 && timeScale > 0) {
        const fps = timeScale / (2 * unitsInTick);
        if (fps > 0 && fps <= 1000) {
          sps.fps = Math.round(fps * 1000) / 1000;
          sps.fixedFrameRate = fixed === 1;
        }
      }
    }
  }
  return sps;
}

/**
 * The start of vui_parameters() that H.264 (E.1.1) and H.265 (E.2.1) share: aspect_ratio_info
 * (sample aspect ratio into `out`), overscan, video_signal_type and chroma_loc_info, skipped.
 */
export function readVuiPrefix(r: BitReader, out: { sarWidth?: number; sarHeight?: number }): void {
  if (r.bit()) {
    const idc = r.u(8);
    if (idc === 255) {
      out.sarWidth = r.u(16);
      out.sarHeight = r.u(16);
    } else if (idc > 0 && idc < SAR_TABLE.length) {
      out.sarWidth = SAR_TABLE[idc]![0];
      out.sarHeight = SAR_TABLE[idc]![1];
    }
  }
  if (r.bit()) r.bit(); // overscan_info_present → overscan_appropriate
  if (r.bit()) {
    r.u(4); // video_format, video_full_range_flag
    if (r.bit()) r.u(24); // colour description
  }
  if (r.bit()) {
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
}
