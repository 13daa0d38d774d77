/**
 * What `flux dvr ls` reports (and its human rendering), plus the export progress bar and summary line.
 */
import { statfs } from 'node:fs/promises';
import Table from 'cli-table3';
import { formatDuration, formatSize } from '../config/units.js';
import { Archive } from './archive.js';
import type { LocatedStream } from './locate.js';
import type { ExportResult } from './export.js';
import type { ConcatProgress } from './concat.js';

export interface ListingRange {
  from: string;
  to: string;
  duration: number;
  segments: number;
  bytes: number;
}

export interface ListingGap {
  from: string;
  to: string;
  duration: number;
  reason: 'missing' | 'discontinuity';
}

export interface ListingRendition {
  name: string;
  segments: number;
  bytes: number;
  oldest: string | null;
  newest: string | null;
  /** recorded seconds (gaps excluded) */
  recorded: number;
  ranges: ListingRange[];
  gaps: ListingGap[];
  /** hours read from file names because their index is missing or damaged (the recorder rebuilds them) */
  unindexedHours: number;
}

export interface Listing {
  stream: string;
  root: string;
  window: { from: string | null; to: string | null };
  dvr: { retention: number | null; maxSize: number | null; diskUsageLimit: number | null } | null;
  renditions: ListingRendition[];
  disk: {
    /** bytes of the listed window (the whole archive without --from/--to) */
    archiveBytes: number;
    /** bytes of the whole archive, all renditions */
    totalBytes: number;
    /** the whole archive is larger than dvr max_size (retention trims it on the next segment recorded) */
    overCap: boolean;
    filesystem: { totalBytes: number; availableBytes: number; usedPercent: number } | null;
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export async function listArchive(
  s: LocatedStream,
  opts: { fromMs?: number; toMs?: number; rendition?: string; archive?: Archive } = {},
): Promise<Listing> {
  const archive = opts.archive ?? new Archive(s.root);
  const names = opts.rendition ? [opts.rendition] : s.renditions;
  const renditions: ListingRendition[] = [];
  let archiveBytes = 0;
  for (const name of names) {
    const sum = await archive.summary(name, opts.fromMs, opts.toMs);
    archiveBytes += sum.bytes;
    renditions.push({
      name,
      segments: sum.segments,
      bytes: sum.bytes,
      oldest: sum.oldestMs !== undefined ? iso(sum.oldestMs) : null,
      newest: sum.newestMs !== undefined ? iso(sum.newestMs) : null,
      recorded: sum.ranges.reduce((a, r) => a + r.durationMs, 0) / 1000,
      ranges: sum.ranges.map((r) => ({ from: iso(r.fromMs), to: iso(r.toMs), duration: r.durationMs / 1000, segments: r.segments, bytes: r.bytes })),
      gaps: sum.gaps.map((g) => ({ from: iso(g.fromMs), to: iso(g.toMs), duration: g.durationMs / 1000, reason: g.reason })),
      unindexedHours: sum.unindexedHours,
    });
  }
  // the cap is on the whole archive: with a window, sum the whole of it too
  let totalBytes = archiveBytes;
  if (opts.fromMs !== undefined || opts.toMs !== undefined || opts.rendition) {
    totalBytes = 0;
    for (const name of s.renditions) totalBytes += (await archive.summary(name)).bytes;
  }
  const maxSize = s.dvr?.maxSizeBytes;
  let filesystem: Listing['disk']['filesystem'] = null;
  try {
    const st = await statfs(s.root);
    const used = (st.blocks - st.bfree) * st.bsize;
    const avail = st.bavail * st.bsize;
    filesystem = { totalBytes: st.blocks * st.bsize, availableBytes: avail, usedPercent: Math.round((used / Math.max(1, used + avail)) * 1000) / 10 };
  } catch {
    /* root missing */
  }
  return {
    stream: s.name,
    root: s.root,
    window: { from: opts.fromMs !== undefined ? iso(opts.fromMs) : null, to: opts.toMs !== undefined ? iso(opts.toMs) : null },
    dvr: s.dvr
      ? { retention: s.dvr.retentionMs ?? null, maxSize: s.dvr.maxSizeBytes ?? null, diskUsageLimit: s.dvr.diskUsageLimitPercent ?? null }
      : null,
    renditions,
    disk: { archiveBytes, totalBytes, overCap: maxSize !== undefined && totalBytes > maxSize, filesystem },
  };
}

export function renderListing(l: Listing, opts: { color?: boolean } = {}): string {
  const style = opts.color ? {} : { head: [], border: [] };
  const lines: string[] = [];
  const limits = l.dvr
    ? [
        l.dvr.retention !== null ? `retention ${formatDuration(l.dvr.retention)}` : '',
        l.dvr.maxSize !== null ? `max size ${formatSize(l.dvr.maxSize)}` : '',
        l.dvr.diskUsageLimit !== null ? `disk limit ${l.dvr.diskUsageLimit}%` : '',
      ].filter(Boolean).join(', ')
    : 'dvr not configured';
  lines.push(`${l.stream}  ${l.root}${limits ? `  (${limits})` : ''}`);
  const fs = l.disk.filesystem;
  lines.push(
    `disk: archive ${formatSize(l.disk.archiveBytes)}` +
      (fs ? `; filesystem ${fs.usedPercent}% used, ${formatSize(fs.availableBytes)} free of ${formatSize(fs.totalBytes)}` : ''),
  );
  if (l.disk.overCap && l.dvr?.maxSize != null) {
    lines.push(`OVER CAP: the archive holds ${formatSize(l.disk.totalBytes)}, more than its max_size ${formatSize(l.dvr.maxSize)} (trimmed on the next segment recorded)`);
  }
  if (l.window.from || l.window.to) lines.push(`window: ${l.window.from ?? '…'} → ${l.window.to ?? '…'}`);
  for (const r of l.renditions) {
    lines.push('');
    if (!r.segments) {
      lines.push(`${r.name}: nothing recorded${l.window.from ? ' in this window' : ''}`);
      continue;
    }
    lines.push(
      `${r.name}: ${r.segments} segments, ${formatSize(r.bytes)}, ${formatDuration(r.recorded * 1000)} recorded, ${r.ranges.length} range${r.ranges.length === 1 ? '' : 's'}, ${r.gaps.length} gap${r.gaps.length === 1 ? '' : 's'}` +
        (r.unindexedHours ? ` (${r.unindexedHours} hours not indexed yet)` : ''),
    );
    const t = new Table({ head: ['from', 'to', 'duration', 'segments', 'size'], style });
    for (const x of r.ranges) t.push([x.from, x.to, formatDuration(x.duration * 1000), x.segments, formatSize(x.bytes)]);
    lines.push(t.toString());
    if (r.gaps.length) {
      const g = new Table({ head: ['gap from', 'to', 'missing', 'reason'], style });
      for (const x of r.gaps) g.push([x.from, x.to, formatDuration(Math.max(0, x.duration) * 1000), x.reason]);
      lines.push(g.toString());
    }
  }
  return lines.join('\n');
}

export function renderExport(r: ExportResult): string {
  const gaps = r.gaps.length ? `, ${r.gaps.length} gap${r.gaps.length === 1 ? '' : 's'} skipped` : '';
  return `${r.file}: ${formatDuration(r.durationMs)} (${r.segments} segments, ${formatSize(r.bytes)}) from ${iso(r.fromMs)} to ${iso(r.toMs)}${gaps}`;
}

/** A one-line progress bar redrawn in place on a TTY (at most ~10 times a second). */
export function progressBar(out: NodeJS.WriteStream): {
  update: (p: ConcatProgress & { totalBytes: number; totalMs: number }) => void;
  done: () => void;
} {
  let last = 0;
  let drawn = false;
  const width = 30;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100 && p.segments < p.total) return;
      last = now;
      const frac = p.totalMs > 0 ? Math.min(1, p.mediaMs / p.totalMs) : p.segments / Math.max(1, p.total);
      const fill = Math.round(frac * width);
      out.write(
        `\r[${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${formatDuration(p.mediaMs)}/${formatDuration(p.totalMs)}  ${formatSize(p.bytes)}  `,
      );
      drawn = true;
    },
    done() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
