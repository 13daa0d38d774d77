/**
 * Human renderings shared by commands (tables with cli-table3, no colour; durations, bitrates).
 */
import { formatBitrate, formatDuration } from '../config/units.js';
import type { StreamDoc } from './index.js';

/**
 * Column-aligned rows under a header, two spaces between columns, no borders. (A plain aligner
 * rather than cli-table3: cli-table3 spends ~50-150 ms laying out 50 rows, a third of the budget of
 * `flux stream list`.) Widths count UTF-16 code units: names and URLs here are ASCII.
 */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => String(c).replace(/[\r\n\t]/g, ' ')))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** key/value lines aligned on the key column. */
export function kv(rows: [string, string | number | null | undefined][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k.padEnd(w)}  ${v ?? '-'}`)
    .join('\n');
}

export const bitrate = (bps: number | null | undefined): string => (bps ? `${formatBitrate(bps)}bit/s` : '-');
export const duration = (ms: number | null | undefined): string => (ms ? formatDuration(ms) : '-');

export function ago(at: number | null | undefined, now = Date.now()): string {
  if (!at) return '-';
  return `${formatDuration(Math.max(0, now - at))} ago`;
}

/** The input a stream is on (active one), else its first configured input. */
export function currentInput(s: StreamDoc): string {
  const st = s.stats;
  const active = st?.active_input ?? null;
  const i = active !== null ? st.inputs.find((x) => x.index === active) : undefined;
  return i?.url ?? s.inputs?.[0]?.url ?? '-';
}

export function streamRows(streams: StreamDoc[]): (string | number)[][] {
  return streams.map((s) => [
    s.name,
    s.stats?.status ?? '-',
    currentInput(s),
    bitrate(s.stats?.bitrate),
    s.stats?.alive ? duration(s.stats.lifetime) : '-',
    s.stats?.retry_count ?? 0,
  ]);
}

export const STREAM_HEAD = ['NAME', 'STATUS', 'INPUT', 'BITRATE', 'UPTIME', 'RESTARTS'];
