/**
 * `/<stream>/preview.jpg` (streams with `thumbnails: true`): the one-frame preview.mp4 of the newest
 * segment decoded by ffmpeg into a JPEG, at most once per segment and width (`?width=`), cached until
 * a newer segment comes. Concurrent requests share one decode; at most MAX_WIDTHS widths per segment.
 */
import { Child } from '../../core/child.js';
import type { ResolvedStream } from '../../config/model.js';
import { resolveFfmpeg } from '../../ffmpeg/resolve.js';
import { thumbnailArgs } from '../../ffmpeg/thumbnail.js';
import { previewFromTs } from '../../media/mp4/preview.js';
import type { PreviewCache } from './preview.js';

/** DVR thumbnails: the nearest recorded segment must start within this of the asked time. */
const ARCHIVE_NEAREST_MS = 60 * 60 * 1000;
const ARCHIVE_CACHE = 64;

const MAX_WIDTHS = 8;
const DECODE_TIMEOUT_MS = 10_000;
const MAX_JPEG_BYTES = 16 * 1024 * 1024;

export class ThumbnailCache {
  private readonly byStream = new Map<string, { uri: string; jpegs: Map<number, Promise<Buffer | null>> }>();
  private ffmpeg: Promise<string> | null = null;
  private readonly archive = new Map<string, Promise<Buffer | null>>();

  constructor(
    private readonly previews: PreviewCache,
    private readonly configuredFfmpeg: () => string | undefined,
  ) {}

  /** JPEG of the newest keyframe (0 = native width); null when there is no keyframe yet or decoding failed. */
  async get(stream: ResolvedStream, width: number): Promise<Buffer | null> {
    const p = await this.previews.getEntry(stream);
    if (p === null) return null;
    let e = this.byStream.get(stream.name);
    if (e === undefined || e.uri !== p.uri) {
      e = { uri: p.uri, jpegs: new Map() };
      this.byStream.set(stream.name, e);
    }
    let job = e.jpegs.get(width);
    if (job === undefined) {
      if (e.jpegs.size >= MAX_WIDTHS) return null;
      job = this.decode(p.body, width);
      e.jpegs.set(width, job);
    }
    return job;
  }

  /**
   * DVR `/<stream>/<unix>-preview.jpg`: the keyframe that starts the recorded segment nearest to `ms`
   * (first rendition), decoded once per segment and width and kept in a small LRU.
   */
  async archiveAt(stream: ResolvedStream, ms: number, width: number): Promise<Buffer | null> {
    const rendition = stream.renditions[0];
    if (rendition === undefined || !stream.dvr) return null;
    const { archiveFor } = await import('../../dvr/archive.js');
    const { hourOf } = await import('../../protocol/layout.js');
    const archive = archiveFor(stream.root);
    let best: { start: number; dur: number; dist: number } | undefined;
    const h = hourOf(ms);
    for (const hour of [h, h - 1, h + 1]) {
      const { table } = await archive.hour(rendition, hour);
      for (let i = 0; i < table.length; i++) {
        const start = table.start[i]!;
        const dur = table.dur[i]!;
        const dist = ms < start ? start - ms : ms > start + dur ? ms - (start + dur) : 0;
        if (best === undefined || dist < best.dist) best = { start, dur, dist };
      }
      if (best !== undefined && best.dist === 0) break;
    }
    if (best === undefined || best.dist > ARCHIVE_NEAREST_MS) return null;
    const file = archive.segmentPath(rendition, best.start, best.dur);
    const key = `${file}\u0000${width}`;
    let job = this.archive.get(key);
    if (job === undefined) {
      job = (async () => {
        const { readFile } = await import('node:fs/promises');
        const ts = await readFile(file).catch(() => null);
        const mp4 = ts === null ? null : previewFromTs(ts);
        return mp4 === null ? null : this.decode(mp4, width);
      })();
      this.archive.set(key, job);
      if (this.archive.size > ARCHIVE_CACHE) this.archive.delete(this.archive.keys().next().value!);
    } else {
      // LRU: most recently asked last
      this.archive.delete(key);
      this.archive.set(key, job);
    }
    return job;
  }

  private async decode(mp4: Buffer, width: number): Promise<Buffer | null> {
    this.ffmpeg ??= resolveFfmpeg(this.configuredFfmpeg()).then((r) => r.path);
    let bin: string;
    try {
      bin = await this.ffmpeg;
    } catch {
      this.ffmpeg = null;
      return null;
    }
    const child = new Child(bin, thumbnailArgs(width > 0 ? width : undefined), { stdin: true, stdout: true, stderrTail: 0 });
    const out: Buffer[] = [];
    let n = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), DECODE_TIMEOUT_MS);
    child.stdout?.on('data', (d: Buffer) => {
      n += d.length;
      if (n > MAX_JPEG_BYTES) child.kill('SIGKILL');
      else out.push(d);
    });
    child.stdin?.end(mp4);
    const exit = await child.exited;
    clearTimeout(timer);
    const jpeg = Buffer.concat(out);
    return exit.code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8 ? jpeg : null;
  }
}
