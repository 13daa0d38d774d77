/**
 * HTTP for `vod:` locations (Flussonic's VOD URLs):
 *   /vod/<location>/<dir/…/file>.mp4/index.m3u8   HLS media playlist (VOD, ended)
 *   /vod/<location>/<dir/…/file>.mp4/seg-<n>.ts   segment n, cut on keyframes, no transcoding
 *   /vod/<location>/<dir/…/file>.mp4              the file itself (Range requests)
 * File paths are built with safeJoin under the location's directory. A file that cannot be served
 * (truncated, no index, codec TS cannot carry) answers 422 with the reason; a missing one 404.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import { PathError } from '../../core/errors.js';
import { safeJoin } from '../../core/paths.js';
import { readFile } from 'node:fs/promises';
import { masterPlaylist, parseSmil, VodFileError, VodService } from '../../vod/vod.js';
import { streamNameProblem } from '../../core/paths.js';
import { parseRequestPath } from './http/request-path.js';
import { parseRange } from './http/range.js';

export interface VodHttpOptions {
  location(name: string): { path: string } | undefined;
  ffmpeg(): string;
  logger: Logger;
}

const MEDIA_FILE = /\.(mp4|m4v|mov|smil)$/i;
const SEG = /^seg-(\d{1,6})\.ts$/;
const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges' };

/** Resolves false for URLs outside /vod/ (the caller goes on with live playback). */
export function createVodHandler(opts: VodHttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const service = new VodService(() => opts.ffmpeg());
  return async (req, res) => {
    if (!req.url?.startsWith('/vod/')) return false;
    const parsed = parseRequestPath(req.url);
    if (!parsed.ok || parsed.parts[0] !== 'vod') return false;
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const text = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache', ...CORS });
      res.end(head ? undefined : body + '\n');
      return true;
    };
    if (method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Max-Age': '600' });
      res.end();
      return true;
    }
    if (method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD, OPTIONS');
      return text(405, 'method not allowed');
    }
    const [, locName, ...rest] = parsed.parts;
    const loc = locName ? opts.location(locName) : undefined;
    if (!loc) return text(404, `no vod location "${locName ?? ''}"`);
    // the media file is the last part ending in .mp4; after it: index.m3u8 or seg-N.ts
    const fileEnd = rest.findIndex((p) => MEDIA_FILE.test(p));
    if (fileEnd < 0 || rest.length - fileEnd > 2) return text(404, 'not found');
    const tail = rest[fileEnd + 1];
    try {
      const file = safeJoin(loc.path, ...rest.slice(0, fileEnd + 1));
      if (/\.smil$/i.test(file)) {
        if (tail !== 'index.m3u8') return text(404, 'not found');
        return await serveSmil(res, service, file, head);
      }
      if (tail === undefined) return await serveFile(req, res, file, head);
      if (tail === 'index.m3u8') {
        const vf = await service.file(file);
        const body = Buffer.from(VodService.playlist(vf));
        res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl', 'Content-Length': body.length, 'Cache-Control': 'public, max-age=60', ...CORS });
        res.end(head ? undefined : body);
        return true;
      }
      const m = SEG.exec(tail);
      if (!m) return text(404, 'not found');
      const vf = await service.file(file);
      const n = Number(m[1]);
      if (n >= vf.segments.length) return text(404, `segment ${n} is past the end (${vf.segments.length} segments)`);
      const body = await service.segment(file, vf, n);
      res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Content-Length': body.length, 'Cache-Control': 'public, max-age=3600', ...CORS });
      res.end(head ? undefined : body);
      return true;
    } catch (e) {
      if (e instanceof VodFileError) return text(422, `${rest.slice(0, fileEnd + 1).join('/')}: ${e.message}`);
      if (e instanceof PathError) return text(400, e.message);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return text(404, 'no such file');
      if (code === 'EACCES') return text(403, 'permission denied');
      opts.logger.error({ err: (e as Error).message, url: req.url }, 'vod request failed');
      if (res.headersSent) res.destroy();
      else text(500, 'internal error');
      return true;
    }
  };
}

/** A multi-bitrate list: the master playlist over its files (each checked like a single file). */
async function serveSmil(res: ServerResponse, service: VodService, list: string, head: boolean): Promise<boolean> {
  const text = await readFile(list, 'utf8');
  const entries = parseSmil(text);
  if (!entries.length) throw new VodFileError('the SMIL list names no <video src="…"/>');
  const dir = list.slice(0, list.lastIndexOf('/'));
  const variants = [];
  for (const e of entries) {
    const parts = e.src.split('/');
    const bad = parts.map(streamNameProblem).find(Boolean);
    if (bad || !/\.(mp4|m4v|mov)$/i.test(e.src)) throw new VodFileError(`SMIL source "${e.src}": ${bad ?? 'not an MP4 file name'}`);
    const file = safeJoin(dir, ...parts);
    let vf;
    try {
      vf = await service.file(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new VodFileError(`SMIL source "${e.src}" does not exist`);
      if (err instanceof VodFileError) throw new VodFileError(`SMIL source "${e.src}": ${err.message}`);
      throw err;
    }
    variants.push({ src: e.src, vf, size: (await stat(file)).size, bitrate: e.bitrate });
  }
  const body = Buffer.from(masterPlaylist(variants));
  res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl', 'Content-Length': body.length, 'Cache-Control': 'public, max-age=60', ...CORS });
  res.end(head ? undefined : body);
  return true;
}

async function serveFile(req: IncomingMessage, res: ServerResponse, file: string, head: boolean): Promise<boolean> {
  const st = await stat(file);
  if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
  const r = parseRange(req.headers.range, st.size);
  if (r.kind === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${st.size}`, 'Content-Length': 0, ...CORS });
    res.end();
    return true;
  }
  const start = r.kind === 'partial' ? r.start : 0;
  const end = r.kind === 'partial' ? r.end : st.size - 1;
  res.writeHead(r.kind === 'partial' ? 206 : 200, {
    'Content-Type': 'video/mp4',
    'Content-Length': st.size === 0 ? 0 : end - start + 1,
    'Accept-Ranges': 'bytes',
    'Last-Modified': st.mtime.toUTCString(),
    'Cache-Control': 'public, max-age=60',
    ...(r.kind === 'partial' ? { 'Content-Range': `bytes ${start}-${end}/${st.size}` } : {}),
    ...CORS,
  });
  if (head || st.size === 0) {
    res.end();
    return true;
  }
  await new Promise<void>((resolve) => pipeline(createReadStream(file, { start, end }), res, () => resolve()));
  return true;
}
