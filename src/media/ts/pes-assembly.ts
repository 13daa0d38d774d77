/**
 * Whole-PES reassembly for listeners that want payloads (`TsDemuxListener.pes`): one growable
 * buffer per track, reused from PES to PES, handed out as a subarray (no copy per PES).
 */
import { Buffer } from 'node:buffer';
import type { TsTrack } from './track.js';

/** First size of a track's reassembly buffer; it doubles as needed up to the configured maximum. */
export const ASM_INITIAL_BYTES = 64 * 1024;
/** `appendPes`: more bytes are expected. */
export const ASM_MORE = 0;
/** `appendPes`: the announced length is reached; take the payload with `takePes`. */
export const ASM_COMPLETE = 1;
/** `appendPes`: the PES outgrew the maximum and was dropped (a format error for the caller to count). */
export const ASM_OVERFLOW = 2;

/** Starts assembling the track's current PES; `expect` is its payload length, -1 when unbounded. */
export function beginPes(t: TsTrack, expect: number): void {
  t.asmActive = true;
  t.asmLen = 0;
  t.asmExpect = expect;
}

/** Appends buf[p, end) to the track's PES. */
export function appendPes(t: TsTrack, buf: Buffer, p: number, end: number, maxBytes: number): number {
  const n = end - p;
  if (n <= 0) return ASM_MORE;
  let a = t.asm;
  if (a === null || t.asmLen + n > a.length) {
    const need = t.asmLen + n;
    if (need > maxBytes) {
      t.asmActive = false;
      t.asmLen = 0;
      return ASM_OVERFLOW;
    }
    const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(need, a === null ? ASM_INITIAL_BYTES : a.length * 2)));
    if (a !== null) a.copy(grown, 0, 0, t.asmLen);
    t.asm = a = grown;
  }
  buf.copy(a, t.asmLen, p, end);
  t.asmLen += n;
  return t.asmExpect >= 0 && t.asmLen >= t.asmExpect ? ASM_COMPLETE : ASM_MORE;
}

/**
 * Ends the track's PES and returns its payload (cut to the announced length). The buffer is the
 * track's own: valid until the next `appendPes` on that track.
 */
export function takePes(t: TsTrack): Buffer {
  t.asmActive = false;
  const len = t.asmExpect >= 0 && t.asmExpect < t.asmLen ? t.asmExpect : t.asmLen;
  const data = t.asm === null ? Buffer.alloc(0) : t.asm.subarray(0, len);
  t.asmLen = 0;
  return data;
}

/** Drops the PES in progress (source switch). */
export function abortPes(t: TsTrack): void {
  t.asmActive = false;
  t.asmLen = 0;
}
