/**
 * Bit-level reading of codec headers (H.264/H.265 SPS/VPS, AAC, AC-3).
 * Pure: no I/O. Reading past the end never throws: it yields zeros and sets `overrun`.
 */

/**
 * Removes H.264/H.265 emulation-prevention bytes (00 00 03 → 00 00) from `src[start, end)`.
 * Returns a view of `src` when there is nothing to remove, else a new array.
 */
export function unescapeRbsp(src: Uint8Array, start = 0, end = src.length): Uint8Array {
  if (start < 0) start = 0;
  if (end > src.length) end = src.length;
  if (end <= start) return new Uint8Array(0);
  let first = -1;
  for (let i = start + 2; i < end; i++) {
    if (src[i] === 3 && src[i - 1] === 0 && src[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return src.subarray(start, end);
  const out = new Uint8Array(end - start);
  let n = 0;
  let zeros = 0;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b === 3 && zeros >= 2) {
      zeros = 0;
      continue; // drop the emulation-prevention byte
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

/** MSB-first bit reader. Never throws: reads past the end return 0 and set `overrun`. */
export class BitReader {
  private pos: number;
  private readonly end: number;
  /** True once a read went past the end of the data. */
  overrun = false;

  constructor(
    private readonly data: Uint8Array,
    startByte = 0,
    endByte = data.length,
  ) {
    this.pos = startByte * 8;
    this.end = Math.min(endByte, data.length) * 8;
  }

  /** Bits still available. */
  get bitsLeft(): number {
    return Math.max(0, this.end - this.pos);
  }

  /** Current position in bits from the start of `data`. */
  get bitPos(): number {
    return this.pos;
  }

  bit(): number {
    if (this.pos >= this.end) {
      this.overrun = true;
      this.pos++;
      return 0;
    }
    const b = (this.data[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  /** Unsigned read of n bits (0..53). */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.end) this.overrun = true;
  }

  /** Exp-Golomb unsigned. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (this.overrun || ++zeros > 31) {
        this.overrun = true;
        return 0;
      }
    }
    if (zeros === 0) return 0;
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** Exp-Golomb signed. */
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}

export function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}
