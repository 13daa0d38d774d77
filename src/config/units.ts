/**
 * Units are parsed in this one module: durations (`2s`, `90m`, `7d`, `500ms`), sizes (`500M`, `2T`),
 * bitrates (`4000k`, `2.5M`), frame sizes (`1920x1080`) and percentages (`90%`).
 * Every parser returns a number in base units or throws UnitError with a one-line reason.
 */
export class UnitError extends Error {
  readonly code = 'E_UNIT';
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const NUM = '(\\d+(?:\\.\\d+)?|\\.\\d+)';

/** Milliseconds. A bare number means seconds (as in Flussonic's config). */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new UnitError(`invalid duration ${input}: expected a non-negative number of seconds`);
    return Math.round(input * 1000);
  }
  const s = String(input).trim();
  const m = new RegExp(`^${NUM}\\s*(ms|s|min|m|h|d|w)?$`, 'i').exec(s);
  if (!m) throw new UnitError(`invalid duration "${input}": expected a number with a unit (ms, s, m, h, d, w), e.g. 2s, 90m, 7d`);
  const unit = (m[2] ?? 's').toLowerCase();
  return Math.round(Number(m[1]) * DURATION_UNITS[unit]!);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** Bytes (binary multiples: `1K` = 1024, `500G`, `2T`, `1.5GB`, `10MiB`). */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new UnitError(`invalid size ${input}: expected a non-negative number of bytes`);
    return Math.round(input);
  }
  const s = String(input).trim();
  const m = new RegExp(`^${NUM}\\s*([kmgtp]?)(?:i?b)?$`, 'i').exec(s);
  if (!m) throw new UnitError(`invalid size "${input}": expected a number with a unit (K, M, G, T), e.g. 500M, 2T`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

/** Bits per second (decimal multiples: `4000k` = 4,000,000, `2.5M`). A bare number is bit/s. */
export function parseBitrate(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input <= 0) throw new UnitError(`invalid bitrate ${input}: expected a positive number of bit/s`);
    return Math.round(input);
  }
  const s = String(input).trim();
  const m = new RegExp(`^${NUM}\\s*([kmg]?)(?:bps|b)?$`, 'i').exec(s);
  if (!m) throw new UnitError(`invalid bitrate "${input}": expected a number with k or M, e.g. 4000k, 2.5M`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const v = Math.round(Number(m[1]) * mult);
  if (v <= 0) throw new UnitError(`invalid bitrate "${input}": must be positive`);
  return v;
}

export interface FrameSize {
  width: number;
  height: number;
}

/** `1920x1080`; either side may be -1/-2 (keep aspect, as ffmpeg's scale) but not both. */
export function parseFrameSize(input: string): FrameSize {
  const m = /^\s*(-?\d+)\s*[xX]\s*(-?\d+)\s*$/.exec(String(input));
  if (!m) throw new UnitError(`invalid frame size "${input}": expected WIDTHxHEIGHT, e.g. 1280x720`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  const ok = (v: number) => (v >= 16 && v <= 8192) || v === -1 || v === -2;
  if (!ok(width) || !ok(height) || (width < 0 && height < 0)) {
    throw new UnitError(`invalid frame size "${input}": each side must be 16..8192 (or -1/-2 for one side to keep aspect)`);
  }
  return { width, height };
}

/** `90%` → 90. */
export function parsePercent(input: string | number): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(input));
  const v = m ? Number(m[1]) : NaN;
  if (!m || v <= 0 || v > 100) throw new UnitError(`invalid percentage "${input}": expected 1..100, e.g. 90%`);
  return v;
}

/** Human formatting for output (tables). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${+s.toFixed(1)}s`;
  const parts: string[] = [];
  let rest = Math.floor(s);
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return parts.slice(0, 2).join('');
}

export function formatSize(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${+v.toFixed(i === 0 ? 0 : 1)}${units[i]}`;
}

export function formatBitrate(bps: number): string {
  if (bps >= 1e6) return `${+(bps / 1e6).toFixed(2)}M`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)}k`;
  return `${Math.round(bps)}`;
}

/** `failover_on` cc_errors threshold: `COUNT/WINDOW`, e.g. `20/10s`. */
export function parseCcThreshold(v: string): { count: number; windowMs: number } {
  const m = /^(\d{1,6})\/(.+)$/.exec(v.trim());
  if (!m || Number(m[1]) < 1) throw new UnitError(`invalid cc_errors threshold "${v}": expected COUNT/WINDOW, e.g. 20/10s`);
  const windowMs = parseDuration(/^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!);
  if (windowMs < 1000) throw new UnitError(`invalid cc_errors threshold "${v}": the window must be at least 1s`);
  return { count: Number(m[1]), windowMs };
}

