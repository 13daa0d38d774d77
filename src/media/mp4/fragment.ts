/**
 * CMAF media fragments: moof (mfhd, one traf per track with tfhd, tfdt v1, trun v1) + mdat, written into
 * one exactly-sized buffer (no intermediate copies of sample data).
 *
 * trun carries, per sample: duration, size, flags (sync / non-sync, depends-on) and a signed composition
 * offset (version 1), so B-frames need no edit list.
 */
import { Buffer } from 'node:buffer';

export interface Mp4Sample {
  /** Decode time in the track's timescale. */
  dts: number;
  /** Composition (presentation) time minus decode time, in the track's timescale. */
  cto: number;
  /** In the track's timescale, > 0. */
  duration: number;
  /** A sync sample (IDR/IRAP picture; every AAC frame). */
  key: boolean;
  /**
   * The sample's bytes. For a length-prefixed track each chunk is one NAL unit and gets a 4-byte length
   * in front; otherwise the chunks are written as they are.
   */
  chunks: Uint8Array[];
}

export interface FragmentTrack {
  id: number;
  /** Video tracks: NAL units written with 4-byte lengths (avcC/hvcC lengthSizeMinusOne = 3). */
  lengthPrefixed: boolean;
  samples: readonly Mp4Sample[];
}

/** trun flags: data-offset, sample duration, size, flags, composition time offset present. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;
/** tfhd flag: default-base-is-moof (CMAF requires it; no base_data_offset). */
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
/** sample_depends_on = 2 (does not depend on others). */
export const SAMPLE_FLAGS_SYNC = 0x02000000;
/** sample_depends_on = 1, sample_is_non_sync_sample = 1. */
export const SAMPLE_FLAGS_NON_SYNC = 0x01010000;

function sampleSize(s: Mp4Sample, prefixed: boolean): number {
  let n = 0;
  const c = s.chunks;
  for (let k = 0; k < c.length; k++) n += c[k]!.length + (prefixed ? 4 : 0);
  return n;
}

/** moof + mdat for one fragment. Tracks without samples get no traf. */
export function buildFragment(sequence: number, tracks: readonly FragmentTrack[]): Buffer {
  let moofSize = 8 + 16;
  let dataSize = 0;
  for (const t of tracks) {
    const n = t.samples.length;
    if (n === 0) continue;
    moofSize += 8 + 16 + 20 + 20 + 16 * n;
    for (let k = 0; k < n; k++) dataSize += sampleSize(t.samples[k]!, t.lengthPrefixed);
  }
  const mdatHeader = 8;
  const total = moofSize + mdatHeader + dataSize;
  const b = Buffer.allocUnsafe(total);
  let o = 0;
  const box = (size: number, type: string): void => {
    b.writeUInt32BE(size, o);
    b.write(type, o + 4, 4, 'latin1');
    o += 8;
  };
  box(moofSize, 'moof');
  box(16, 'mfhd');
  b.writeUInt32BE(0, o);
  b.writeUInt32BE(sequence >>> 0, o + 4);
  o += 8;
  let dataOffset = moofSize + mdatHeader;
  for (const t of tracks) {
    const n = t.samples.length;
    if (n === 0) continue;
    box(8 + 16 + 20 + 20 + 16 * n, 'traf');
    box(16, 'tfhd');
    b.writeUInt32BE(TFHD_DEFAULT_BASE_IS_MOOF, o);
    b.writeUInt32BE(t.id, o + 4);
    o += 8;
    box(20, 'tfdt');
    b.writeUInt32BE(0x01000000, o);
    b.writeBigUInt64BE(BigInt(Math.max(0, Math.round(t.samples[0]!.dts))), o + 4);
    o += 12;
    box(20 + 16 * n, 'trun');
    b.writeUInt32BE(0x01000000 | TRUN_FLAGS, o);
    b.writeUInt32BE(n, o + 4);
    b.writeInt32BE(dataOffset, o + 8);
    o += 12;
    for (let k = 0; k < n; k++) {
      const s = t.samples[k]!;
      const size = sampleSize(s, t.lengthPrefixed);
      b.writeUInt32BE(Math.max(1, Math.round(s.duration)) >>> 0, o);
      b.writeUInt32BE(size, o + 4);
      b.writeUInt32BE(s.key ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC, o + 8);
      b.writeInt32BE(Math.round(s.cto) | 0, o + 12);
      o += 16;
      dataOffset += size;
    }
  }
  box(mdatHeader + dataSize, 'mdat');
  for (const t of tracks) {
    for (const s of t.samples) {
      for (const c of s.chunks) {
        if (t.lengthPrefixed) {
          b.writeUInt32BE(c.length, o);
          o += 4;
        }
        b.set(c, o);
        o += c.length;
      }
    }
  }
  return b;
}
