/**
 * 90 kHz MPEG timestamps: reading PTS/DTS/PCR fields and unwrapping the 33-bit counter into a
 * monotonic-enough number (the nearest representative of each value to the previous one).
 */

export const PTS_WRAP = 2 ** 33;
const HALF_WRAP = 2 ** 32;

/** Reads a 5-byte PTS/DTS field (marker bits ignored). */
export function readPts(buf: Uint8Array, off: number): number {
  return (
    ((buf[off]! >> 1) & 7) * 1073741824 +
    ((buf[off + 1]! << 7) | (buf[off + 2]! >> 1)) * 32768 +
    ((buf[off + 3]! << 7) | (buf[off + 4]! >> 1))
  );
}

/** Reads the 33-bit PCR base (90 kHz) from the 6-byte PCR field. */
export function readPcrBase(buf: Uint8Array, off: number): number {
  return buf[off]! * 33554432 + ((buf[off + 1]! << 17) | (buf[off + 2]! << 9) | (buf[off + 3]! << 1) | (buf[off + 4]! >> 7));
}

/** Reads the 9-bit PCR extension (27 MHz remainder). */
export function readPcrExt(buf: Uint8Array, off: number): number {
  return ((buf[off + 4]! & 1) << 8) | buf[off + 5]!;
}

/**
 * Unwraps 33-bit timestamps. All timestamps of a program go through one instance, so audio, video and
 * PCR stay on one timeline across the wrap (they are always within 2^32 ticks, ~13 h, of each other).
 */
export class TimestampUnwrapper {
  private ref = Number.NaN;

  /** Unwrapped value of a raw 33-bit timestamp. The first value is returned as is. */
  unwrap(raw: number): number {
    const ref = this.ref;
    if (ref !== ref) {
      this.ref = raw;
      return raw;
    }
    let d = (raw - (ref % PTS_WRAP) + PTS_WRAP) % PTS_WRAP; // [0, 2^33)
    if (d >= HALF_WRAP) d -= PTS_WRAP;
    const v = ref + d;
    this.ref = v;
    return v;
  }

  reset(): void {
    this.ref = Number.NaN;
  }
}
