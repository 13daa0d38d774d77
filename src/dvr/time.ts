/**
 * TIME arguments of `flux dvr …`: ISO-8601 (`2026-11-24T23:00:00Z`; without an offset it is local time),
 * unix seconds (`1764028800`, Flussonic's unit), relative to now (`-1h`, `-30m`, `-90s`, `-2d`), or `now`.
 */
import { InputError } from '../core/errors.js';
import { parseDuration } from '../config/units.js';

export function parseTime(input: string, now: number = Date.now()): number {
  const s = input.trim();
  if (s === 'now') return now;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (/^-/.test(s)) {
    try {
      return now - parseDuration(s.slice(1).trim());
    } catch {
      throw new InputError(`invalid time "${input}": a relative time is -<number><unit>, e.g. -1h, -30m, -90s`, { code: 'E_TIME' });
    }
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    // a date alone is local midnight too (JavaScript would read it as UTC)
    const text = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00` : s.replace(' ', 'T');
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new InputError(`invalid time "${input}": expected ISO-8601 (2026-11-24T23:00:00Z), unix seconds, or relative (-1h, -30m)`, {
    code: 'E_TIME',
  });
}

/** `--duration`: a duration with a unit (`20s`, `1h`); a bare number is seconds. */
export function parseDurationArg(input: string): number {
  try {
    const ms = parseDuration(input.trim());
    if (ms <= 0) throw new Error('zero');
    return ms;
  } catch {
    throw new InputError(`invalid duration "${input}": expected e.g. 20s, 30m, 1h (a bare number is seconds)`, { code: 'E_DURATION' });
  }
}
