/**
 * Timeline breaks, recorded ranges and gaps of a segment list.
 *
 * A break sits before segment `next` when the writer flagged a discontinuity there, or when `next` does not
 * start where `prev` ended: it starts more than 1.5× prev's duration after prev started (time is missing),
 * or it starts more than half a segment before prev ended (the clock went back).
 */
import { FLAG_DISCONTINUITY, type SegTable } from './table.js';

/** Tolerance factor: a gap is missing time > (GAP_FACTOR - 1) × duration, i.e. start-to-start > 1.5 × duration. */
export const GAP_FACTOR = 1.5;

export function isBreak(prevStart: number, prevDur: number, nextStart: number, nextFlags: number): boolean {
  if (nextFlags & FLAG_DISCONTINUITY) return true;
  const delta = nextStart - prevStart;
  return delta > GAP_FACTOR * prevDur || delta < (2 - GAP_FACTOR) * prevDur;
}

/** Is there a break before row i of t (i >= 1)? */
export function breakBefore(t: SegTable, i: number): boolean {
  return isBreak(t.start[i - 1]!, t.dur[i - 1]!, t.start[i]!, t.flags[i]!);
}

export interface RecordedRange {
  fromMs: number;
  toMs: number;
  durationMs: number;
  segments: number;
  bytes: number;
}

export interface Gap {
  /** end of the last segment before the gap */
  fromMs: number;
  /** start of the first segment after it */
  toMs: number;
  /** missing time (0 for a discontinuity without missing time; negative when the clock went back) */
  durationMs: number;
  reason: 'missing' | 'discontinuity';
}

/** Maximal runs of segments without a break. */
export function computeRanges(t: SegTable, a = 0, b = t.length): RecordedRange[] {
  const out: RecordedRange[] = [];
  if (b <= a) return out;
  let runStart = a;
  let bytes = t.bytes[a]!;
  const close = (end: number) => {
    const fromMs = t.start[runStart]!;
    const toMs = t.start[end - 1]! + t.dur[end - 1]!;
    out.push({ fromMs, toMs, durationMs: toMs - fromMs, segments: end - runStart, bytes });
  };
  for (let i = a + 1; i < b; i++) {
    if (breakBefore(t, i)) {
      close(i);
      runStart = i;
      bytes = 0;
    }
    bytes += t.bytes[i]!;
  }
  close(b);
  return out;
}

export function computeGaps(t: SegTable, a = 0, b = t.length): Gap[] {
  const out: Gap[] = [];
  for (let i = a + 1; i < b; i++) {
    if (!breakBefore(t, i)) continue;
    const fromMs = t.start[i - 1]! + t.dur[i - 1]!;
    const toMs = t.start[i]!;
    const missing = toMs - t.start[i - 1]! > GAP_FACTOR * t.dur[i - 1]!;
    out.push({ fromMs, toMs, durationMs: toMs - fromMs, reason: missing ? 'missing' : 'discontinuity' });
  }
  return out;
}
