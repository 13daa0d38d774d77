/**
 * `/<stream>/preview.mp4`: the first keyframe of the newest live segment of the stream's first rendition,
 * remuxed into a one-frame MP4 (no decode, src/media/mp4/preview.ts). Built once per segment and kept
 * (one per stream) until a newer segment is named by the live playlist.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { safeJoin } from '../../core/paths.js';
import type { ResolvedStream } from '../../config/model.js';
import { previewFromCmaf, previewFromTs } from '../../media/mp4/preview.js';
import type { FileCache } from './http/file-cache.js';

/** Newest segment URI and the EXT-X-MAP in force for it (fMP4), from a media playlist. */
export function newestSegment(text: string): { uri: string; map?: string } | null {
  let map: string | undefined;
  let last: { uri: string; map?: string } | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-MAP:')) {
      const m = /URI="([^"]+)"/.exec(line);
      map = m?.[1];
    } else if (line !== '' && !line.startsWith('#')) {
      last = map !== undefined ? { uri: line.trim(), map } : { uri: line.trim() };
    }
  }
  return last;
}

export class PreviewCache {
  private readonly byStream = new Map<string, { uri: string; body: Buffer }>();

  constructor(
    private readonly playlists: FileCache,
    private readonly segments: FileCache,
  ) {}

  /** The preview of the stream's newest segment; null when there is none (no segment, no keyframe). */
  async get(stream: ResolvedStream): Promise<Buffer | null> {
    return (await this.getEntry(stream))?.body ?? null;
  }

  /** The preview and the URI of the segment it comes from. */
  async getEntry(stream: ResolvedStream): Promise<{ uri: string; body: Buffer } | null> {
    const rendition = stream.renditions[0];
    if (rendition === undefined) return null;
    const dir = safeJoin(stream.root, rendition);
    const pl = await this.read(this.playlists, path.join(dir, 'index.m3u8'));
    if (pl === null) return null;
    const seg = newestSegment(pl.toString('utf8'));
    // only names the writer makes (hour dirs + segment file): never a path out of the rendition dir
    if (seg === null || !/^\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{1,16}-\d{1,9}\.(?:ts|m4s)$/.test(seg.uri)) return null;
    const hit = this.byStream.get(stream.name);
    if (hit !== undefined && hit.uri === seg.uri) return hit;
    const data = await this.read(this.segments, safeJoin(dir, ...seg.uri.split('/')));
    if (data === null) return null;
    let body: Buffer | null;
    if (seg.uri.endsWith('.ts')) body = previewFromTs(data);
    else {
      if (seg.map === undefined || !/^init-[0-9a-f]{12}\.mp4$/.test(seg.map)) return null;
      const init = await this.read(this.segments, safeJoin(dir, seg.map));
      body = init === null ? null : previewFromCmaf(init, data);
    }
    if (body === null) return null;
    const entry = { uri: seg.uri, body };
    this.byStream.set(stream.name, entry);
    return entry;
  }

  private async read(cache: FileCache, file: string): Promise<Buffer | null> {
    const e = cache.peek(file) ?? (await cache.load(file));
    if (e === null) return null;
    if (e.body !== null) return e.body;
    return fsp.readFile(file).catch(() => null); // larger than the cache keeps
  }
}
