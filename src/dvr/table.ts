/**
 * A columnar, sorted list of segment records (typed arrays, no object per segment) — what index files
 * decode into and what archive queries return. A 7-day index of 2 s segments (302,400 records) is ~9 MB.
 */
export const FLAG_DISCONTINUITY = 1;
export const FLAG_KEYFRAME = 2;
/** the record was rebuilt from a file name (its mediaSequence/discontinuitySequence were inferred) */
export const FLAG_REBUILT = 4;

export interface SegmentRecord {
  /** epoch ms of the segment start (program date time) */
  startMs: number;
  durationMs: number;
  bytes: number;
  /** the writer's media sequence number (inferred when rebuilt) */
  mediaSequence: number;
  /** number of timeline breaks (discontinuities or gaps) before this segment since the recording began */
  discontinuitySequence: number;
  /** the writer marked a discontinuity before this segment */
  discontinuity: boolean;
  keyframe: boolean;
  rebuilt: boolean;
}

export class SegTable {
  start: Float64Array;
  dur: Uint32Array;
  bytes: Float64Array;
  seq: Uint32Array;
  dseq: Uint32Array;
  flags: Uint8Array;
  length = 0;

  constructor(capacity = 16) {
    const c = Math.max(1, capacity);
    this.start = new Float64Array(c);
    this.dur = new Uint32Array(c);
    this.bytes = new Float64Array(c);
    this.seq = new Uint32Array(c);
    this.dseq = new Uint32Array(c);
    this.flags = new Uint8Array(c);
  }

  get capacity(): number {
    return this.start.length;
  }

  private grow(min: number): void {
    let c = this.capacity * 2;
    while (c < min) c *= 2;
    const g = <T extends Float64Array | Uint32Array | Uint8Array>(a: T): T => {
      const n = new (a.constructor as new (n: number) => T)(c);
      n.set(a.subarray(0, this.length));
      return n;
    };
    this.start = g(this.start);
    this.dur = g(this.dur);
    this.bytes = g(this.bytes);
    this.seq = g(this.seq);
    this.dseq = g(this.dseq);
    this.flags = g(this.flags);
  }

  push(r: Pick<SegmentRecord, 'startMs' | 'durationMs' | 'bytes'> & Partial<SegmentRecord>): void {
    if (this.length === this.capacity) this.grow(this.length + 1);
    const i = this.length++;
    this.start[i] = r.startMs;
    this.dur[i] = r.durationMs;
    this.bytes[i] = r.bytes;
    this.seq[i] = (r.mediaSequence ?? 0) >>> 0;
    this.dseq[i] = (r.discontinuitySequence ?? 0) >>> 0;
    this.flags[i] = (r.discontinuity ? FLAG_DISCONTINUITY : 0) | (r.keyframe ? FLAG_KEYFRAME : 0) | (r.rebuilt ? FLAG_REBUILT : 0);
  }

  /** Copy row j of another table onto the end of this one. */
  pushFrom(t: SegTable, j: number): void {
    if (this.length === this.capacity) this.grow(this.length + 1);
    const i = this.length++;
    this.start[i] = t.start[j]!;
    this.dur[i] = t.dur[j]!;
    this.bytes[i] = t.bytes[j]!;
    this.seq[i] = t.seq[j]!;
    this.dseq[i] = t.dseq[j]!;
    this.flags[i] = t.flags[j]!;
  }

  get(i: number): SegmentRecord {
    const f = this.flags[i]!;
    return {
      startMs: this.start[i]!,
      durationMs: this.dur[i]!,
      bytes: this.bytes[i]!,
      mediaSequence: this.seq[i]!,
      discontinuitySequence: this.dseq[i]!,
      discontinuity: (f & FLAG_DISCONTINUITY) !== 0,
      keyframe: (f & FLAG_KEYFRAME) !== 0,
      rebuilt: (f & FLAG_REBUILT) !== 0,
    };
  }

  endMs(i: number): number {
    return this.start[i]! + this.dur[i]!;
  }

  /** First index whose start is >= ms (binary search; length when none). */
  lowerBound(ms: number): number {
    let lo = 0;
    let hi = this.length;
    const s = this.start;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index range [a, b) of segments overlapping [fromMs, toMs): start < to && start + dur > from. */
  overlapRange(fromMs: number, toMs: number): [number, number] {
    // segments are sorted by start and do not overlap much; the one before lowerBound(from) may still reach into it
    let a = this.lowerBound(fromMs);
    while (a > 0 && this.start[a - 1]! + this.dur[a - 1]! > fromMs) a--;
    const b = this.lowerBound(toMs);
    return [a, Math.max(a, b)];
  }

  /** A copy of rows [a, b). */
  slice(a = 0, b = this.length): SegTable {
    const n = Math.max(0, b - a);
    const t = new SegTable(n);
    t.start.set(this.start.subarray(a, b));
    t.dur.set(this.dur.subarray(a, b));
    t.bytes.set(this.bytes.subarray(a, b));
    t.seq.set(this.seq.subarray(a, b));
    t.dseq.set(this.dseq.subarray(a, b));
    t.flags.set(this.flags.subarray(a, b));
    t.length = n;
    return t;
  }

  /** Append rows [a, b) of another table (bulk copy). */
  append(t: SegTable, a = 0, b = t.length): void {
    const n = b - a;
    if (n <= 0) return;
    if (this.length + n > this.capacity) this.grow(this.length + n);
    const o = this.length;
    this.start.set(t.start.subarray(a, b), o);
    this.dur.set(t.dur.subarray(a, b), o);
    this.bytes.set(t.bytes.subarray(a, b), o);
    this.seq.set(t.seq.subarray(a, b), o);
    this.dseq.set(t.dseq.subarray(a, b), o);
    this.flags.set(t.flags.subarray(a, b), o);
    this.length += n;
  }

  totalBytes(a = 0, b = this.length): number {
    let s = 0;
    for (let i = a; i < b; i++) s += this.bytes[i]!;
    return s;
  }

  *records(): IterableIterator<SegmentRecord> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}
