/**
 * Master playlist writer: `<root>/index.m3u8`, one variant per rendition that has produced a
 * segment (URIs `tracks-<rendition>/index.m3u8`, config order). BANDWIDTH is the measured peak
 * segment bit rate, AVERAGE-BANDWIDTH the average over the live window, RESOLUTION / CODECS /
 * FRAME-RATE come from the demuxed media info. The file is rewritten (tmp + rename, serialized)
 * only when the variant set or a value changes materially, not on every segment.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { safeJoin, streamNameProblem } from '../../core/paths.js';
import { renderMasterPlaylist } from '../../media/hls/playlist.js';
import type { MediaInfo } from '../../media/ts/types.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { NO_FSYNC, type HlsWriter } from './hls-writer.js';

export interface MasterWriterOptions {
  /** stream root; the master goes to `<root>/index.m3u8` */
  root: string;
  /** rendition names in the order variants are listed */
  renditions: string[];
  logger?: Logger;
  /** relative increase of the measured peak that triggers a rewrite (default 0.02 = 2 %; BANDWIDTH is an upper bound) */
  bandwidthTolerance?: number;
  /** relative change of AVERAGE-BANDWIDTH that triggers a rewrite (default 0.25) */
  averageTolerance?: number;
}

/** What one rendition reports (e.g. from its HlsWriter after each segment). */
export interface RenditionReport {
  mediaInfo: MediaInfo | undefined | null;
  /** bit/s, the peak segment bit rate measured so far */
  peakBitrate: number;
  /** bit/s, average over recent segments */
  averageBitrate: number;
}

/** One variant line as written. */
export interface MasterVariant {
  rendition: string;
  uri: string;
  bandwidth: number;
  averageBandwidth?: number;
  resolution?: string;
  codecs?: string;
  frameRate?: number;
}

export class MasterWriter {
  readonly path: string;
  private readonly reports = new Map<string, RenditionReport>();
  private written: MasterVariant[] | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  readonly stats = { writes: 0, errors: 0, lastError: null as string | null, lastWriteAt: null as number | null };

  constructor(private readonly opts: MasterWriterOptions) {
    for (const r of opts.renditions) {
      const problem = streamNameProblem(r);
      if (problem || r.includes('/')) throw new RangeError(`bad rendition name ${JSON.stringify(r)}`);
    }
    this.path = safeJoin(opts.root, 'index.m3u8');
    this.log = opts.logger ?? silentLogger;
  }

  /** The variants last written (null before the first write). */
  get variants(): readonly MasterVariant[] | null {
    return this.written;
  }

  /**
   * Record a rendition's figures. Rewrites the master when something changed materially;
   * resolves when that write is done (errors are kept in stats.lastError, never thrown).
   */
  update(rendition: string, report: RenditionReport): Promise<void> {
    if (!this.opts.renditions.includes(rendition)) return Promise.resolve();
    this.reports.set(rendition, { mediaInfo: report.mediaInfo, peakBitrate: report.peakBitrate, averageBitrate: report.averageBitrate });
    const next = this.compute();
    if (!this.materiallyDifferent(this.written, next)) return this.chain;
    this.written = next;
    const text = this.render(next);
    this.chain = this.chain.then(async () => {
      try {
        await fsp.mkdir(path.dirname(this.path), { recursive: true });
        await writeFileAtomic(this.path, text, NO_FSYNC);
        this.stats.writes++;
        this.stats.lastWriteAt = Date.now();
      } catch (err) {
        this.stats.errors++;
        this.stats.lastError = (err as Error).message;
        this.written = null; // try again on the next update
        this.log.error({ err }, 'master playlist write failed');
      }
    });
    return this.chain;
  }

  /** Convenience: report from a writer's current stats and media info. */
  updateFrom(writer: HlsWriter): Promise<void> {
    const s = writer.stats;
    return this.update(writer.rendition, { mediaInfo: writer.mediaInfo, peakBitrate: s.peakBitrate || s.bitrate, averageBitrate: s.averageBitrate || s.bitrate });
  }

  /** Wait for pending writes. */
  flush(): Promise<void> {
    return this.chain;
  }

  /** The master text for the current reports (what would be written). */
  render(variants: MasterVariant[] = this.compute()): string {
    return renderMasterPlaylist(
      variants.map((v) => {
        const o: { uri: string; bandwidth: number; averageBandwidth?: number; resolution?: string; codecs?: string; frameRate?: number } = { uri: v.uri, bandwidth: v.bandwidth };
        if (v.averageBandwidth !== undefined) o.averageBandwidth = v.averageBandwidth;
        if (v.resolution !== undefined) o.resolution = v.resolution;
        if (v.codecs !== undefined) o.codecs = v.codecs;
        if (v.frameRate !== undefined) o.frameRate = v.frameRate;
        return o;
      }),
    );
  }

  private compute(): MasterVariant[] {
    const out: MasterVariant[] = [];
    for (const r of this.opts.renditions) {
      const rep = this.reports.get(r);
      if (!rep || !(rep.peakBitrate > 0)) continue; // nothing measured yet: not listed
      const mi = rep.mediaInfo ?? undefined;
      const v: MasterVariant = { rendition: r, uri: `tracks-${r}/index.m3u8`, bandwidth: Math.ceil(rep.peakBitrate) };
      if (rep.averageBitrate > 0) v.averageBandwidth = Math.min(Math.round(rep.averageBitrate), v.bandwidth);
      if (mi?.width && mi.height) v.resolution = `${mi.width}x${mi.height}`;
      if (mi?.codecs) v.codecs = mi.codecs;
      if (mi?.fps && Number.isFinite(mi.fps) && mi.fps > 0) v.frameRate = Math.round(mi.fps * 1000) / 1000;
      out.push(v);
    }
    return out;
  }

  private materiallyDifferent(a: MasterVariant[] | null, b: MasterVariant[]): boolean {
    if (b.length === 0) return false;
    if (!a || a.length !== b.length) return true;
    const bwTol = this.opts.bandwidthTolerance ?? 0.02;
    const avgTol = this.opts.averageTolerance ?? 0.25;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (x.rendition !== y.rendition || x.resolution !== y.resolution || x.codecs !== y.codecs) return true;
      if ((x.frameRate ?? 0) !== (y.frameRate ?? 0) && Math.abs((x.frameRate ?? 0) - (y.frameRate ?? 0)) >= 0.01) return true;
      // a higher peak must be announced (BANDWIDTH is an upper bound); lower only when far off
      if (y.bandwidth > x.bandwidth * (1 + bwTol) || y.bandwidth < x.bandwidth * 0.5) return true;
      const xa = x.averageBandwidth ?? 0;
      const ya = y.averageBandwidth ?? 0;
      if ((xa === 0) !== (ya === 0) || Math.abs(ya - xa) > xa * avgTol) return true;
    }
    return false;
  }
}
