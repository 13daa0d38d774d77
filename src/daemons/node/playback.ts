/**
 * Playback HTTP: live HLS (master, media playlists, segments), the embed player page and its
 * hls.js asset, straight from what the stream writer put on disk. Flussonic-compatible URLs:
 *
 *   /<stream>/index.m3u8                                   master playlist (<root>/index.m3u8)
 *   /<stream>/tracks-<rendition>/index.m3u8 | mono.m3u8    live media playlist
 *   /<stream>/tracks-<rendition>/YYYY/MM/DD/HH/<ms>-<dur>.ts   segment
 *   /<stream>/embed.html                                   player page
 *   /flux/static/hls.min.js                                hls.js (from node_modules)
 *   anything else under a stream                           → the DVR handler when given
 *
 * Stream names contain `/`: the longest configured name that prefixes the path wins. Requests are
 * decoded once and refused (400) on dot segments, backslashes, control characters or empty
 * segments; file paths are then built with safeJoin. Playlists are held in memory, dropped as soon
 * as their directory's watch sees them replaced (watchPlaylists) and revalidated with one stat per
 * ~150 ms in any case; segments (immutable once named) are held in a bounded in-memory
 * cache and otherwise streamed from an fd opened before the headers are sent, so a reader never
 * sees a truncated or mixed file while the writer renames new versions into place.
 */
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createReadStream, open as openCb, fstat as fstatCb, close as closeCb } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { INIT_SEGMENT_NAME, isSegmentPathParts } from '../../protocol/layout.js';
import { safeJoin } from '../../core/paths.js';
import type { ResolvedStream } from '../../config/model.js';
import { parseRequestPath } from './http/request-path.js';
import { parseRange } from './http/range.js';
import { FileCache, etagOf, type CachedFile } from './http/file-cache.js';
import { DirWatch } from './http/dir-watch.js';
import { CONTENT_TYPES, contentTypeFor } from './http/content-types.js';
import { createMediaRoutes } from './media-routes.js';
import { addQueryToPlaylist } from '../../auth/playlist-uris.js';
import { KEY_NAME, type HlsEncryption } from '../../auth/hls-encrypt.js';

/** What a DVR handler gets besides the request: the matched stream and the rest of the path. */
export interface PlaybackContext {
  logger: Logger;
  /** parsed query string of the request */
  query: URLSearchParams;
  /** the id of the request's play session (auth/sessions.ts), when play authorization opened or found one */
  playSession?: string;
}

export type DvrRequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  stream: ResolvedStream,
  /** decoded path after `/<stream>/`, e.g. `archive-1700000000-3600.m3u8` */
  rest: string,
  ctx: PlaybackContext,
) => Promise<boolean>;

export interface PlaybackOptions {
  getStream(name: string): ResolvedStream | undefined;
  listStreams(): string[];
  dvr?: DvrRequestHandler;
  /** WHEP (`/<stream>/whep[/<id>]`, src/webrtc): answers true when it handled the request */
  webrtc?: DvrRequestHandler;
  logger?: Logger;
  /** how long a playlist body is trusted without a stat (default 150 ms) */
  playlistRevalidateMs?: number;
  /**
   * drop a cached playlist as soon as its directory says it was replaced (fs.watch, http/dir-watch.ts),
   * instead of trusting it for up to playlistRevalidateMs (which stays the fallback)
   */
  watchPlaylists?: boolean;
  /** bytes of recent segments held in memory (default 64 MiB; 0 = always stream from disk) */
  segmentCacheBytes?: number;
  /** larger segments are always streamed from disk (default 8 MiB) */
  segmentCacheMaxFileBytes?: number;
  /** directory holding embed.html (default: <package>/templates) */
  templatesDir?: string;
  /** HLS AES-128 of streams with hls.encrypt (auth/hls-encrypt.ts) */
  encryption?: HlsEncryption;
  /** play authorization and sessions (auth/protection.ts); `suffix` goes into playlist URIs */
  authorize?(req: IncomingMessage, stream: ResolvedStream, query: URLSearchParams, proto: string): Promise<{ ok: true; suffix?: string; session?: { id: string } } | { ok: false; status: number; reason: string }>;
  /** server.ffmpeg of the config (preview.jpg decodes with it) */
  ffmpeg?: () => string | undefined;
}

/** Resolves true when it answered the request; false = not a playback URL (the caller routes on / 404s). */
export type PlaybackHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) & {
  readonly caches: { playlists: FileCache; segments: FileCache; assets: FileCache };
};

export const PLAYLIST_CACHE_CONTROL = 'no-cache';
export const SEGMENT_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const ASSET_CACHE_CONTROL = 'public, max-age=3600';
const EMBED_CACHE_CONTROL = 'no-cache';
const CORS_EXPOSE = 'Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified';
const M3U8 = CONTENT_TYPES['.m3u8']!;
const TS = CONTENT_TYPES['.ts']!;

/** LL-HLS part file (`<segment start ms>-p<N>.m4s`): may be asked for before it exists (preload hint). */
const PART_FILE = /-p\d{1,4}\.m4s$/;

/** package root: this file is <root>/src/daemons/node/playback.ts or <root>/dist/daemons/node/playback.js */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const STATIC_PREFIX = ['flux', 'static'];

const openAsync = promisify(openCb);
const fstatAsync = promisify(fstatCb);
const closeAsync = promisify(closeCb);

function resolveStaticAssets(): Map<string, string> {
  const m = new Map<string, string>();
  const require = createRequire(import.meta.url);
  for (const f of ['hls.min.js', 'hls.js', 'hls.min.js.map', 'hls.js.map']) {
    try {
      m.set(f, require.resolve(`hls.js/dist/${f}`));
    } catch {
      /* not installed: that asset 404s */
    }
  }
  return m;
}

export function createPlaybackHandler(opts: PlaybackOptions): PlaybackHandler {
  const logger = opts.logger ?? silentLogger;
  let dirs: DirWatch | undefined;
  const playlists = new FileCache({
    revalidateMs: opts.playlistRevalidateMs ?? 150,
    maxBytes: 32 * 1024 * 1024,
    maxFileBytes: 4 * 1024 * 1024,
    onLoad: opts.watchPlaylists ? (p) => dirs!.ensure(p) : undefined,
  });
  if (opts.watchPlaylists) dirs = new DirWatch(playlists, /\.m3u8$/);
  const segCacheBytes = opts.segmentCacheBytes ?? 64 * 1024 * 1024;
  const segments = new FileCache({
    // segments never change once named; the stat only notices deletion (window/retention)
    revalidateMs: 1000,
    maxBytes: segCacheBytes,
    maxFileBytes: segCacheBytes > 0 ? Math.min(opts.segmentCacheMaxFileBytes ?? 8 * 1024 * 1024, segCacheBytes) : -1,
  });
  const assets = new FileCache({ revalidateMs: 2000, maxBytes: 16 * 1024 * 1024, maxFileBytes: 8 * 1024 * 1024 });
  const staticAssets = resolveStaticAssets();
  const embedPath = path.join(opts.templatesDir ?? path.join(PACKAGE_ROOT, 'templates'), 'embed.html');
  const media = createMediaRoutes({ playlists, segments, getStream: opts.getStream, ffmpeg: opts.ffmpeg });

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const parsed = parseRequestPath(req.url);
    if (!parsed.ok) {
      sendText(res, 400, parsed.reason, req.method === 'HEAD');
      return true;
    }
    const parts = parsed.parts;
    const method = req.method ?? 'GET';
    try {
      // /flux/static/<asset>
      if (parts.length === 3 && parts[0] === STATIC_PREFIX[0] && parts[1] === STATIC_PREFIX[1]) {
        const file = staticAssets.get(parts[2]!);
        if (!file) return notFound(res, 'no such asset', method);
        if (preflightOrReject(req, res, method)) return true;
        await serveSmall(req, res, assets, file, parts[2]!.endsWith('.map') ? CONTENT_TYPES['.map']! : CONTENT_TYPES['.js']!, ASSET_CACHE_CONTROL, 'no such asset');
        return true;
      }
      const match = matchStream(parts, opts.getStream);
      if (!match) return false;
      const { stream, restParts, nameDepth } = match;
      const root = stream.root;
      // protocols allow list: without hls / ll-hls nothing HLS is served (playlists, segments, parts,
      // DVR playlists, the hls.js player page); thumbnails are not a protocol and stay
      const hlsOff = stream.protocols !== undefined && !stream.protocols.includes('hls') && !stream.protocols.includes('ll-hls');
      const n = restParts.length;
      const fixed = fixedPaths(stream);
      const first = restParts[0]!;
      if (hlsOff && (first === 'embed.html' || first.startsWith('tracks-') || restParts[n - 1]!.endsWith('.m3u8'))) {
        return notFound(res, `stream ${stream.name} is not served over HLS (protocols)`, method);
      }
      let rewrite: ((body: Buffer) => Buffer) | undefined;
      let playSession: string | undefined;
      // WHIP is publishing, authorized as a publisher (src/webrtc/whip.ts); everything else is play
      if (opts.authorize && first !== 'embed.html' && first !== 'whip' && method !== 'OPTIONS') {
        const v = await opts.authorize(req, stream, new URLSearchParams(parsed.query), first === 'whep' ? 'webrtc' : protoOf(restParts[n - 1]!));
        if (!v.ok) {
          sendText(res, v.status, v.reason, method === 'HEAD');
          return true;
        }
        playSession = v.session?.id;
        const suffix = v.suffix;
        if (suffix) rewrite = (body) => addQueryToPlaylist(body, suffix);
      }

      if (n === 1 && first === 'index.m3u8') {
        if (preflightOrReject(req, res, method)) return true;
        await serveSmall(req, res, playlists, fixed('index.m3u8', () => safeJoin(root, 'index.m3u8')), M3U8, PLAYLIST_CACHE_CONTROL,
          `stream ${stream.name} has no master playlist yet (no segment written)`, rewrite);
        return true;
      }
      if (media.matches(stream, restParts)) {
        if (preflightOrReject(req, res, method)) return true;
        await media.serve(req, res, stream, restParts, new URLSearchParams(parsed.query));
        return true;
      }
      if (n === 1 && first === 'embed.html') {
        if (preflightOrReject(req, res, method)) return true;
        await serveEmbed(req, res, stream, nameDepth);
        return true;
      }
      if (first.startsWith('tracks-') && (n === 2 || n === 6)) {
        const rendition = first.slice(7);
        if (!stream.renditions.includes(rendition)) return notFound(res, `stream ${stream.name} has no rendition ${rendition}`, method);
        const enc = opts.encryption?.enabled(stream) ? opts.encryption : undefined;
        if (n === 2 && INIT_SEGMENT_NAME.test(restParts[1]!)) {
          if (preflightOrReject(req, res, method)) return true;
          await serveSegment(req, res, safeJoin(root, rendition, restParts[1]!));
          return true;
        }
        if (n === 2) {
          const keyMatch = enc ? KEY_NAME.exec(restParts[1]!) : null;
          if (keyMatch) {
            if (preflightOrReject(req, res, method)) return true;
            const key = enc!.key(stream, rendition, Number(keyMatch[1]));
            res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': key.length, 'Cache-Control': 'private, max-age=3600', 'Access-Control-Allow-Origin': '*' });
            res.end(method === 'HEAD' ? undefined : key);
            return true;
          }
          if (restParts[1] !== 'index.m3u8' && restParts[1] !== 'mono.m3u8') return notFound(res, 'not found', method);
          if (preflightOrReject(req, res, method)) return true;
          if (stream.hls.lowLatency) {
            await media.llPlaylist(req, res, stream, rendition, fixed(first, () => safeJoin(root, rendition, 'index.m3u8')), new URLSearchParams(parsed.query));
            return true;
          }
          const plain = rewrite;
          const withKeys = enc ? (b: Buffer) => (plain ? plain(enc.playlist(stream, b)) : enc.playlist(stream, b)) : plain;
          await serveSmall(req, res, playlists, fixed(first, () => safeJoin(root, rendition, 'index.m3u8')), M3U8, PLAYLIST_CACHE_CONTROL,
            `rendition ${rendition} of ${stream.name} has no live playlist yet`, withKeys);
          return true;
        }
        if (!isSegmentPathParts(restParts.slice(1, 6))) return notFound(res, 'not found', method);
        if (preflightOrReject(req, res, method)) return true;
        const file = safeJoin(root, rendition, restParts[1]!, restParts[2]!, restParts[3]!, restParts[4]!, restParts[5]!);
        if (PART_FILE.test(file)) {
          if (!stream.hls.lowLatency) return notFound(res, 'not found', method);
          if (!(await media.awaitPart(req, res, stream, file))) return true;
        }
        if (enc) {
          const name = restParts.slice(1).join('/');
          await serveSegment(req, res, file, (body) => enc.segment(stream, rendition, name, body));
        } else await serveSegment(req, res, file);
        return true;
      }
      if (opts.webrtc && (first === 'whep' || first === 'whip') && (await opts.webrtc(req, res, stream, restParts.join('/'), { logger, query: new URLSearchParams(parsed.query), playSession }))) return true;
      if (opts.dvr) {
        if (method === 'OPTIONS') {
          preflight(req, res);
          return true;
        }
        return await opts.dvr(req, res, stream, restParts.join('/'), { logger, query: new URLSearchParams(parsed.query) });
      }
      return false;
    } catch (err) {
      logger.error({ err, url: req.url }, 'playback request failed');
      if (!res.headersSent) sendText(res, 500, 'internal error', method === 'HEAD');
      else res.destroy();
      return true;
    }
  };

  async function serveSmall(req: IncomingMessage, res: ServerResponse, cache: FileCache, file: string, type: string, cacheControl: string, missing: string, rewrite?: (body: Buffer) => Buffer): Promise<void> {
    let e = cache.peek(file);
    if (e === undefined) e = await cache.load(file);
    if (e === null) {
      notFound(res, missing, req.method);
      return;
    }
    if (e.body === null) {
      // larger than the cache allows (not expected for playlists): stream it
      await streamFromDisk(req, res, file, type, cacheControl);
      return;
    }
    sendCached(req, res, e, rewrite ? rewrite(e.body) : e.body, type, cacheControl, false);
  }

  async function serveSegment(req: IncomingMessage, res: ServerResponse, file: string, transform?: (body: Buffer) => Buffer): Promise<void> {
    let e = segments.peek(file);
    if (e === undefined) e = await segments.load(file);
    if (e === null) {
      notFound(res, 'no such segment', req.method);
      return;
    }
    const type = file.endsWith('.ts') ? TS : contentTypeFor(file);
    if (transform) {
      // encrypted: the whole body is needed (larger segments are read once, not streamed)
      const body = e.body ?? (await readFile(file).catch(() => null));
      if (body === null) {
        notFound(res, 'no such segment', req.method);
        return;
      }
      sendCached(req, res, e, transform(body), type, SEGMENT_CACHE_CONTROL, false);
      return;
    }
    if (e.body === null) {
      await streamFromDisk(req, res, file, type, SEGMENT_CACHE_CONTROL);
      return;
    }
    sendCached(req, res, e, e.body, type, SEGMENT_CACHE_CONTROL, true);
  }

  async function serveEmbed(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, nameDepth: number): Promise<void> {
    let e = assets.peek(embedPath);
    if (e === undefined) e = await assets.load(embedPath);
    if (e === null || e.body === null) {
      notFound(res, 'embed.html template is missing', req.method);
      return;
    }
    // embed.html is served at /<stream>/embed.html: reach /flux/static relative to it
    const up = '../'.repeat(nameDepth);
    const body = Buffer.from(
      e.body.toString('utf8').replaceAll('{{STATIC}}', `${up}flux/static`).replaceAll('{{STREAM}}', escapeHtml(stream.title ?? stream.name)),
    );
    sendCached(req, res, e, body, CONTENT_TYPES['.html']!, EMBED_CACHE_CONTROL, false);
  }

  function sendCached(req: IncomingMessage, res: ServerResponse, e: CachedFile, body: Buffer, type: string, cacheControl: string, ranges: boolean): void {
    const head = req.method === 'HEAD';
    const own = body === e.body; // false for bodies derived from the file (embed page)
    const inm = req.headers['if-none-match'];
    if (inm !== undefined && own && etagMatches(inm, e.etag)) {
      res.writeHead(304, ['ETag', e.etag, 'Cache-Control', cacheControl, 'Access-Control-Allow-Origin', '*']);
      res.end();
      return;
    }
    const range = ranges ? req.headers.range : undefined;
    if (range === undefined && own) {
      // the hot path: one prebuilt header list per cached file and response kind
      const key = cacheControl + type;
      e.memo ??= new Map();
      let headers = e.memo.get(key) as string[] | undefined;
      if (!headers) {
        headers = ['Content-Type', type, 'Content-Length', String(body.length), 'Cache-Control', cacheControl, 'Access-Control-Allow-Origin', '*', 'ETag', e.etag];
        if (ranges) headers.push('Accept-Ranges', 'bytes', 'Last-Modified', e.lastModified, 'Access-Control-Expose-Headers', CORS_EXPOSE);
        e.memo.set(key, headers);
      }
      res.writeHead(200, headers);
      res.end(head ? undefined : body);
      return;
    }
    const headers: OutgoingHttpHeaders = {
      'Content-Type': type,
      'Cache-Control': cacheControl,
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': CORS_EXPOSE,
      'Last-Modified': e.lastModified,
    };
    if (own) headers.ETag = e.etag;
    if (ranges) {
      headers['Accept-Ranges'] = 'bytes';
      const r = parseRange(range, body.length);
      if (r.kind === 'unsatisfiable') {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}`, 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 });
        res.end();
        return;
      }
      if (r.kind === 'partial') {
        headers['Content-Range'] = `bytes ${r.start}-${r.end}/${body.length}`;
        headers['Content-Length'] = r.end - r.start + 1;
        res.writeHead(206, headers);
        res.end(head ? undefined : body.subarray(r.start, r.end + 1));
        return;
      }
    }
    headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    res.end(head ? undefined : body);
  }

  /**
   * Serve a file from disk (too large for the memory cache, or the cache is off): the fd is opened
   * and fstat'ed before any header goes out, so the body is exactly that inode even if the name is
   * replaced or removed meanwhile. A plain fd (not a FileHandle) so the read stream owns and
   * closes it however the response ends.
   */
  async function streamFromDisk(req: IncomingMessage, res: ServerResponse, file: string, type: string, cacheControl: string): Promise<void> {
    let fd: number;
    try {
      fd = await openAsync(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        notFound(res, 'not found', req.method);
        return;
      }
      throw err;
    }
    let handedOff = false;
    try {
      const st = await fstatAsync(fd);
      if (!st.isFile()) {
        notFound(res, 'not found', req.method);
        return;
      }
      const etag = etagOf(st);
      const inm = req.headers['if-none-match'];
      if (inm !== undefined && etagMatches(inm, etag)) {
        res.writeHead(304, { ETag: etag, 'Cache-Control': cacheControl, 'Access-Control-Allow-Origin': '*' });
        res.end();
        return;
      }
      const r = parseRange(req.headers.range, st.size);
      if (r.kind === 'unsatisfiable') {
        res.writeHead(416, { 'Content-Range': `bytes */${st.size}`, 'Access-Control-Allow-Origin': '*', 'Content-Length': 0 });
        res.end();
        return;
      }
      const start = r.kind === 'partial' ? r.start : 0;
      const end = r.kind === 'partial' ? r.end : st.size - 1;
      const headers: OutgoingHttpHeaders = {
        'Content-Type': type,
        'Content-Length': st.size === 0 ? 0 : end - start + 1,
        'Cache-Control': cacheControl,
        'Accept-Ranges': 'bytes',
        ETag: etag,
        'Last-Modified': st.mtime.toUTCString(),
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Expose-Headers': CORS_EXPOSE,
      };
      if (r.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
      res.writeHead(r.kind === 'partial' ? 206 : 200, headers);
      if (req.method === 'HEAD' || st.size === 0) {
        res.end();
        return;
      }
      if (res.destroyed) return; // the client left while we opened the file
      const rs = createReadStream(file, { fd, start, end, autoClose: true, highWaterMark: 256 * 1024 });
      handedOff = true;
      // pipeline destroys the read stream (closing the fd) however the response ends, including a
      // client that disconnects mid-body
      await new Promise<void>((resolve) => {
        pipeline(rs, res, (err) => {
          if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') logger.warn({ err, file }, 'segment streaming failed');
          resolve();
        });
      });
    } finally {
      if (!handedOff) await closeAsync(fd).catch(() => undefined);
    }
  }

  return Object.assign(handler, { caches: { playlists, segments, assets } });
}

/**
 * Paths that do not depend on the request beyond the stream and rendition (playlists), built once
 * per stream object through safeJoin and remembered (a reloaded config brings new stream objects).
 */
const fixedPathMemo = new WeakMap<ResolvedStream, Map<string, string>>();
function fixedPaths(stream: ResolvedStream): (key: string, build: () => string) => string {
  let m = fixedPathMemo.get(stream);
  if (!m) {
    m = new Map();
    fixedPathMemo.set(stream, m);
  }
  const memo = m;
  return (key, build) => {
    let p = memo.get(key);
    if (p === undefined) {
      p = build();
      memo.set(key, p);
    }
    return p;
  };
}

/** Longest configured stream name that is a proper prefix of the path. */
function matchStream(parts: string[], getStream: (name: string) => ResolvedStream | undefined): { stream: ResolvedStream; restParts: string[]; nameDepth: number } | undefined {
  if (parts.length < 2) return undefined;
  const prefixes: string[] = new Array(parts.length - 1);
  let acc = parts[0]!;
  prefixes[0] = acc;
  for (let i = 1; i < parts.length - 1; i++) {
    acc = `${acc}/${parts[i]}`;
    prefixes[i] = acc;
  }
  for (let i = prefixes.length - 1; i >= 0; i--) {
    const s = getStream(prefixes[i]!);
    if (s) return { stream: s, restParts: parts.slice(i + 1), nameDepth: i + 1 };
  }
  return undefined;
}

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  for (const t of header.split(',')) {
    const v = t.trim();
    if (v === etag || v === `W/${etag}`) return true;
  }
  return false;
}

/** Handle OPTIONS (preflight) and refuse methods other than GET/HEAD. True when it answered. */
function preflightOrReject(req: IncomingMessage, res: ServerResponse, method: string): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  if (method === 'OPTIONS') {
    preflight(req, res);
    return true;
  }
  res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 19 });
  res.end('method not allowed\n');
  return true;
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  const asked = req.headers['access-control-request-headers'];
  res.writeHead(204, {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
    'Access-Control-Allow-Headers': typeof asked === 'string' && /^[\w\-, ]{0,500}$/.test(asked) ? asked : 'Range, If-None-Match, Accept, Origin',
    'Access-Control-Max-Age': '86400',
    'Content-Length': 0,
  });
  res.end();
}

function notFound(res: ServerResponse, reason: string, method: string | undefined): true {
  sendText(res, 404, reason, method === 'HEAD');
  return true;
}

function sendText(res: ServerResponse, status: number, text: string, head: boolean): void {
  const body = Buffer.from(text + '\n');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-cache',
    'Access-Control-Allow-Origin': '*',
  });
  res.end(head ? undefined : body);
}

/** Session protocol name (Flussonic's `proto`) from the last path segment. */
export function protoOf(last: string): string {
  if (last.endsWith('.m3u8') || last.endsWith('.ts') || last.endsWith('.aac')) return 'hls';
  if (last.endsWith('.mpd') || last.endsWith('.m4s')) return 'dash';
  if (last.endsWith('.mp4')) return 'mp4';
  if (last === 'mpegts') return 'mpegts';
  return 'http';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
