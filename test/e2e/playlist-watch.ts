/**
 * Live playlist continuity for fault tests: poll a media playlist file (any process may be down:
 * the file is read directly), keep every entry seen by media sequence, then check that the
 * sequence has no hole or reset and that EXT-X-PROGRAM-DATE-TIME chains with EXTINF (exactly
 * where there is no discontinuity, never backwards where there is one).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

export interface PdtEntry {
  msn: number;
  pdt: number;
  durationMs: number;
  discontinuity: boolean;
}

export function pdtEntries(text: string): PdtEntry[] {
  const msn0 = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  const out: PdtEntry[] = [];
  let pdt = NaN;
  let dur = 0;
  let disc = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line === '#EXT-X-DISCONTINUITY') disc = true;
    else if (line.startsWith('#EXTINF:')) dur = Math.round(parseFloat(line.slice(8)) * 1000);
    else if (line && !line.startsWith('#')) {
      out.push({ msn: msn0 + out.length, pdt, durationMs: dur, discontinuity: disc });
      disc = false;
    }
  }
  return out;
}

export interface PlaylistWatch {
  seen: Map<number, PdtEntry>;
  /** the newest media sequence seen so far (-1 before any) */
  last(): number;
  stop(): void;
}

/** Poll the playlist file every `everyMs`, collecting every entry seen, by media sequence. */
export function watchPlaylist(file: () => string, everyMs = 200): PlaylistWatch {
  const seen = new Map<number, PdtEntry>();
  let last = -1;
  const timer = setInterval(() => {
    readFile(file(), 'utf8').then(
      (text) => {
        for (const e of pdtEntries(text)) {
          if (!seen.has(e.msn)) seen.set(e.msn, e);
          if (e.msn > last) last = e.msn;
        }
      },
      () => {},
    );
  }, everyMs);
  return { seen, last: () => last, stop: () => clearInterval(timer) };
}

/**
 * From media sequence `from` (to `to`): consecutive sequences, PDT = previous PDT + previous
 * duration (±1 ms) unless marked discontinuous, never earlier than that. `strict`: no
 * discontinuity at all in the range.
 */
export function assertContinuous(seen: Map<number, PdtEntry>, from: number, opts: { to?: number; strict?: boolean } = {}): void {
  const msns = [...seen.keys()].filter((m) => m >= from && (opts.to === undefined || m <= opts.to)).sort((a, b) => a - b);
  assert.ok(msns.length >= 2, `only ${msns.length} segments seen from ${from}`);
  for (let i = 1; i < msns.length; i++) {
    const a = seen.get(msns[i - 1]!)!;
    const b = seen.get(msns[i]!)!;
    assert.equal(b.msn, a.msn + 1, `media sequence jumps ${a.msn} → ${b.msn}`);
    const expected = a.pdt + a.durationMs;
    if (b.discontinuity) {
      assert.ok(!opts.strict, `discontinuity at ${b.msn}`);
      assert.ok(b.pdt >= expected - 1, `PDT of ${b.msn} goes back ${expected - b.pdt} ms`);
    } else {
      assert.ok(Math.abs(b.pdt - expected) <= 1, `PDT of ${b.msn}: ${b.pdt - a.pdt} ms after ${a.msn} (duration ${a.durationMs})`);
    }
  }
}

/** Some entry after `after` (up to `upTo`) carries EXT-X-DISCONTINUITY. */
export function hasDiscontinuity(seen: Map<number, PdtEntry>, after: number, upTo = Infinity): boolean {
  for (const [m, e] of seen) if (m > after && m <= upTo && e.discontinuity) return true;
  return false;
}
