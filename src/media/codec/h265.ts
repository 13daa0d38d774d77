/**
 * H.265 / HEVC: NAL unit types, IRAP detection, VPS/SPS parsing enough for the RFC 6381 / ISO 14496-15
 * codec string (`hvc1.<profile>.<compat>.<tier><level>.<constraints>`), resolution and frame rate.
 * Pure byte-level code: never throws on bad input (parsers return null).
 */
import { BitReader, hex2, unescapeRbsp } from './bits.js';
import { readVuiPrefix } from './h264.js';

export const H265_NAL = {
  TRAIL_N: 0,
  TRAIL_R: 1,
  BLA_W_LP: 16,
  BLA_W_RADL: 17,
  BLA_N_LP: 18,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA: 21,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  SEI_PREFIX: 39,
  SEI_SUFFIX: 40,
} as const;

/** NAL unit type from the first of the two NAL header bytes. */
export function h265NalType(headerByte0: number): number {
  return (headerByte0 >> 1) & 0x3f;
}

/** VCL NAL unit types are 0..31. */
export function isH265Vcl(type: number): boolean {
  return type >= 0 && type <= 31;
}

/** Intra random access point picture (BLA, IDR, CRA and reserved IRAP 22/23): NAL types 16..23. */
export function isH265Irap(type: number): boolean {
  return type >= 16 && type <= 23;
}

export interface H265ProfileTierLevel {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  /** general_profile_compatibility_flag[0..31], as read (flag 0 is the MSB). */
  compatibilityFlags: number;
  /** The 48 bits starting at general_progressive_source_flag, as 6 bytes. */
  constraintBytes: number[];
  levelIdc: number;
}

export interface H265Sps extends H265ProfileTierLevel {
  spsId: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  width: number;
  height: number;
  codedWidth: number;
  codedHeight: number;
  sarWidth?: number;
  sarHeight?: number;
  /** From vui_timing_info (time_scale / num_units_in_tick), when present. */
  fps?: number;
  codecString: string;
}

export interface H265Vps extends H265ProfileTierLevel {
  vpsId: number;
  fps?: number;
  codecString: string;
}

/** Reverses the bit order of a 32-bit value. */
function reverse32(v: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) {
    r = r * 2 + (v % 2);
    v = Math.floor(v / 2);
  }
  return r;
}

/** `hvc1.<A|B|C|''><profile>.<compat reversed, hex>.<L|H><level>[.<constraint bytes>]` (ISO/IEC 14496-15 E.3). */
export function h265CodecString(ptl: H265ProfileTierLevel, fourcc: 'hvc1' | 'hev1' = 'hvc1'): string {
  const space = ['', 'A', 'B', 'C'][ptl.profileSpace & 3];
  const compat = reverse32(ptl.compatibilityFlags).toString(16).toUpperCase();
  const tier = ptl.tierFlag ? 'H' : 'L';
  const bytes = ptl.constraintBytes.slice();
  while (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes.pop();
  let s = `${fourcc}.${space}${ptl.profileIdc}.${compat}.${tier}${ptl.levelIdc}`;
  for (const b of bytes) s += `.${hex2(b).toUpperCase()}`;
  return s;
}

function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): H265ProfileTierLevel {
  const profileSpace = r.u(2);
  const tierFlag = r.bit();
  const profileIdc = r.u(5);
  const compatibilityFlags = r.u(32);
  const constraintBytes: number[] = [];
  for (let i = 0; i < 6; i++) constraintBytes.push(r.u(8));
  const levelIdc = r.u(8);
  const subProfile: number[] = [];
  const subLevel: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.bit());
    subLevel.push(r.bit());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.u(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  return { profileSpace, tierFlag, profileIdc, compatibilityFlags, constraintBytes, levelIdc };
}

function skipScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!r.bit()) {
        r.ue(); // scaling_list_pred_matrix_id_delta
      } else {
        const coefNum = Math.min(64, 1 << (4 + (sizeId << 1)));
        if (sizeId > 1) r.se();
        for (let i = 0; i < coefNum && !r.overrun; i++) r.se();
      }
      if (r.overrun) return;
    }
  }
}

/** Parses st_ref_pic_sets of the SPS; returns false on invalid data. */
function skipShortTermRefPicSets(r: BitReader, count: number): boolean {
  const numDeltaPocs: number[] = [];
  for (let idx = 0; idx < count; idx++) {
    let inter = 0;
    if (idx !== 0) inter = r.bit();
    if (inter) {
      r.bit(); // delta_rps_sign
      r.ue(); // abs_delta_rps_minus1
      const ref = numDeltaPocs[idx - 1] ?? 0;
      let n = 0;
      for (let j = 0; j <= ref; j++) {
        const used = r.bit();
        const useDelta = used ? 1 : r.bit();
        if (used || useDelta) n++;
      }
      numDeltaPocs.push(n);
    } else {
      const neg = r.ue();
      const pos = r.ue();
      if (neg > 16 || pos > 16) return false;
      for (let i = 0; i < neg + pos; i++) {
        r.ue();
        r.bit();
      }
      numDeltaPocs.push(neg + pos);
    }
    if (r.overrun) return false;
  }
  return true;
}

/** Parses an SPS NAL unit (`nal` starts with the 2-byte NAL header). Returns null when invalid/truncated. */
export function parseH265Sps(nal: Uint8Array): H265Sps | null {
  if (nal.length < 16 || h265NalType(nal[0]!) !== H265_NAL.SPS) return null;
  const rbsp = unescapeRbsp(nal, 2, nal.length);
  const r = new BitReader(rbsp);
  r.u(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  r.bit(); // sps_temporal_id_nesting_flag
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = r.ue();
  if (spsId > 15) return null;
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc > 3) return null;
  let separateColourPlane = 0;
  if (chromaFormatIdc === 3) separateColourPlane = r.bit();
  const codedWidth = r.ue();
  const codedHeight = r.ue();
  let confLeft = 0;
  let confRight = 0;
  let confTop = 0;
  let confBottom = 0;
  if (r.bit()) {
    confLeft = r.ue();
    confRight = r.ue();
    confTop = r.ue();
    confBottom = r.ue();
  }
  const bitDepthLuma = 8 + r.ue();
  const bitDepthChroma = 8 + r.ue();
  if (r.overrun) return null;
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const width = codedWidth - subWidthC * (confLeft + confRight);
  const height = codedHeight - subHeightC * (confTop + confBottom);
  if (width <= 0 || height <= 0 || codedWidth > 16888 || codedHeight > 16888) return null;
  const sps: H265Sps = {
    ...ptl,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    width,
    height,
    codedWidth,
    codedHeight,
    codecString: h265CodecString(ptl),
  };

  // The rest is only needed to reach the VUI (frame rate, aspect ratio).
  const log2MaxPocLsb = r.ue() + 4;
  const subLayerOrderingInfo = r.bit();
  for (let i = subLayerOrderingInfo ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    r.ue();
    r.ue();
    r.ue();
  }
  r.ue(); // log2_min_luma_coding_block_size_minus3
  r.ue(); // log2_diff_max_min_luma_coding_block_size
  r.ue(); // log2_min_luma_transform_block_size_minus2
  r.ue(); // log2_diff_max_min_luma_transform_block_size
  r.ue(); // max_transform_hierarchy_depth_inter
  r.ue(); // max_transform_hierarchy_depth_intra
  if (r.bit() && r.bit()) skipScalingListData(r);
  r.bit(); // amp_enabled_flag
  r.bit(); // sample_adaptive_offset_enabled_flag
  if (r.bit()) {
    r.u(8); // pcm bit depths
    r.ue();
    r.ue();
    r.bit();
  }
  const numStRps = r.ue();
  if (numStRps > 64 || !skipShortTermRefPicSets(r, numStRps)) return sps;
  if (r.bit()) {
    const n = r.ue();
    if (n > 32) return sps;
    for (let i = 0; i < n; i++) {
      r.skip(log2MaxPocLsb);
      r.bit();
    }
  }
  r.bit(); // sps_temporal_mvp_enabled_flag
  r.bit(); // strong_intra_smoothing_enabled_flag
  if (r.overrun || !r.bit()) return sps;
  // vui_parameters()
  readVuiPrefix(r, sps);
  r.bit(); // neutral_chroma_indication_flag
  r.bit(); // field_seq_flag
  r.bit(); // frame_field_info_present_flag
  if (r.bit()) {
    r.ue();
    r.ue();
    r.ue();
    r.ue();
  }
  if (r.bit()) {
    const unitsInTick = r.u(32);
    const timeScale = r.u(32);
    if (!r.overrun && unitsInTick > 0 && timeScale > 0) {
      const fps = timeScale / unitsInTick;
      if (fps > 0 && fps <= 1000) sps.fps = Math.round(fps * 1000) / 1000;
    }
  }
  return sps;
}

/** Parses a VPS NAL unit (profile/tier/level and timing info). Returns null when invalid. */
export function parseH265Vps(nal: Uint8Array): H265Vps | null {
  if (nal.length < 16 || h265NalType(nal[0]!) !== H265_NAL.VPS) return null;
  const rbsp = unescapeRbsp(nal, 2, nal.length);
  const r = new BitReader(rbsp);
  const vpsId = r.u(4);
  r.u(2); // vps_base_layer_internal_flag, vps_base_layer_available_flag
  r.u(6); // vps_max_layers_minus1
  const maxSubLayersMinus1 = r.u(3);
  r.bit(); // vps_temporal_id_nesting_flag
  r.u(16); // vps_reserved_0xffff_16bits
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  if (r.overrun) return null;
  const vps: H265Vps = { ...ptl, vpsId, codecString: h265CodecString(ptl) };
  const orderingInfo = r.bit();
  for (let i = orderingInfo ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    r.ue();
    r.ue();
    r.ue();
  }
  const maxLayerId = r.u(6);
  const numLayerSets = r.ue() + 1;
  if (numLayerSets > 1024) return vps;
  for (let i = 1; i < numLayerSets; i++) r.skip(maxLayerId + 1);
  if (r.bit()) {
    const unitsInTick = r.u(32);
    const timeScale = r.u(32);
    if (!r.overrun && unitsInTick > 0 && timeScale > 0) {
      const fps = timeScale / unitsInTick;
      if (fps > 0 && fps <= 1000) vps.fps = Math.round(fps * 1000) / 1000;
    }
  }
  return vps;
}
