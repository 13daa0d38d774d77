/**
 * `/<stream>/preview.jpg` (streams with `thumbnails: true`): the one-frame preview.mp4 of the newest
 * segment decoded by ffmpeg into a JPEG, at most once per segment and width (`?width=`), cached until
 * a newer segment comes. Concurrent requests share one decode; at most MAX_WIDTHS widths per segment.
 */
import { spawn } from 'node:child_process';
import type { ResolvedStream } from '../../config/model.js';
import { resolveFfmpeg } from '../../ffmpeg/resolve.js';
import { thumbnailArgs } from '../../ffmpeg/thumbnail.js';
import type { PreviewCache } from './preview.js';

const MAX_WIDTHS = 8;
const DECODE_TIMEOUT_MS = 10_000;
const MAX_JPEG_BYTES = 16 * 1024 * 1024;

export class ThumbnailCache {
  private readonly byStream = new Map<string, { uri: string; jpegs: Map<number, Promise<Buffer | null>> }>();
  private ffmpeg: Promise<string> | null = null;

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

  private async decode(mp4: Buffer, width: number): Promise<Buffer | null> {
    this.ffmpeg ??= resolveFfmpeg(this.configuredFfmpeg()).then((r) => r.path);
    let bin: string;
    try {
      bin = await this.ffmpeg;
    } catch {
      this.ffmpeg = null;
      return null;
    }
    return new Promise((resolve) => {
      const child = spawn(bin, thumbnailArgs(width > 0 ? width : undefined), { stdio: ['pipe', 'pipe', 'ignore'] });
      const out: Buffer[] = [];
      let n = 0;
      const timer = setTimeout(() => child.kill('SIGKILL'), DECODE_TIMEOUT_MS);
      child.stdout.on('data', (d: Buffer) => {
        n += d.length;
        if (n > MAX_JPEG_BYTES) child.kill('SIGKILL');
        else out.push(d);
      });
      child.stdin.on('error', () => undefined); // ffmpeg may exit before reading everything
      child.on('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const jpeg = Buffer.concat(out);
        resolve(code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8 ? jpeg : null);
      });
      child.stdin.end(mp4);
    });
  }
}
