/**
 * Playback routes of the low-latency and derived outputs, hooked into the playback handler
 * (src/daemons/node/playback.ts) so that file stays a router: LL-HLS media playlists (blocking
 * reload, delta updates, rendition reports) and held part requests (src/daemons/node/ll-hls.ts), DASH
 * (src/daemons/node/dash.ts), preview.mp4, preview.jpg and DVR <unix>-preview.jpg
 * (src/daemons/node/preview.ts, thumbnails.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedStream } from '../../config/model.js';
import { safeJoin } from '../../core/paths.js';
import { THUMBNAIL_MAX_WIDTH, THUMBNAIL_MIN_WIDTH } from '../../ffmpeg/thumbnail.js';
import { DashServer } from './dash.js';
import { DashArchive, MAX_ARCHIVE_MPD_MS } from './dash-archive.js';
import type { CachedFile, FileCache } from './http/file-cache.js';
import { CONTENT_TYPES } from './http/content-types.js';
import { deltaPlaylist, lastPartOf, llPlaylistState, parseBlockingQuery, readiness, WaitGroups, withRenditionReports, type LlPlaylistState } from './ll-hls.js';
import { PreviewCache } from './preview.js';
import { ThumbnailCache } from './thumbnails.js';

const M3U8 = CONTENT_TYPES['.m3u8']!;
const PLAYLIST_CACHE_CONTROL = 'no-cache';
const SEGMENT_CACHE_CONTROL = 'public, max-age=31536000, immutable';

function sendText(res: ServerResponse, status: number, text: string, head: boolean): void {
  const body = Buffer.from(text + '\n');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' });
  res.end(head ? undefined : body);
}

function notFound(res: ServerResponse, reason: string, method: string | undefined): true {
  sendText(res, 404, reason, method === 'HEAD');
  return true;
}

export interface MediaRoutesOptions {
  playlists: FileCache;
  segments: FileCache;
  getStream(name: string): ResolvedStream | undefined;
  ffmpeg?: (() => string | undefined) | undefined;
}

export interface MediaRoutes {
  /** `index.mpd`, `dash/<rep>/<file>`, `preview.mp4`, `preview.jpg`, `<unix>-preview.jpg` (the latter two with thumbnails). */
  matches(stream: ResolvedStream, restParts: readonly string[]): boolean;
  serve(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, restParts: readonly string[], query: URLSearchParams): Promise<void>;
  /** The media playlist of an LL-HLS stream. */
  llPlaylist(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, rendition: string, file: string, query: URLSearchParams): Promise<void>;
  /** A part file: true when it exists (now or after waiting); false when the response was sent. */
  awaitPart(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, file: string): Promise<boolean>;
}

export function createMediaRoutes(o: MediaRoutesOptions): MediaRoutes {
  const { playlists, segments } = o;
  const waits = new WaitGroups();
  const previews = new PreviewCache(playlists, segments);
  const dash = new DashServer(playlists, segments);
  const dashArchive = new DashArchive();
  const ARCHIVE_MPD = /^archive-(\d{1,12})-(\d{1,8})\.mpd$/;
  const REWIND_MPD = /^rewind-(\d{1,8})\.mpd$/;
  const DVR_DASH_DIR = /^dvr-dash-(\d{1,12})$/;
  const thumbnails = new ThumbnailCache(previews, o.ffmpeg ?? (() => undefined));
  const llStates = new WeakMap<CachedFile, LlPlaylistState>();
  const archiveThumbOf = (stream: ResolvedStream, restParts: readonly string[]) =>
    restParts.length === 1 && stream.thumbnails && stream.dvr ? /^(\d{1,12})-preview\.jpg$/.exec(restParts[0]!) : null;

  function matches(stream: ResolvedStream, restParts: readonly string[]): boolean {
    const n = restParts.length;
    const first = restParts[0];
    if (n === 1 && (first === 'index.mpd' || first === 'preview.mp4')) return true;
    if (n === 3 && first === 'dash') return true;
    if (stream.dvr && ((n === 1 && (ARCHIVE_MPD.test(first!) || REWIND_MPD.test(first!))) || (n === 3 && DVR_DASH_DIR.test(first!)))) return true;
    if (n === 1 && first === 'preview.jpg' && stream.thumbnails) return true;
    return archiveThumbOf(stream, restParts) !== null;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, restParts: readonly string[], query: URLSearchParams): Promise<void> {
    const method = req.method ?? 'GET';
    const n = restParts.length;
    const first = restParts[0]!;
    const archiveMpd = ARCHIVE_MPD.exec(first);
    const rewindMpd = REWIND_MPD.exec(first);
    const dvrDir = n === 3 ? DVR_DASH_DIR.exec(first) : null;
    if (stream.dvr && (archiveMpd || rewindMpd || dvrDir)) {
      if (stream.protocols !== undefined && !stream.protocols.includes('dash')) return void notFound(res, `stream ${stream.name} is not served over DASH (protocols)`, method);
      let body: Buffer | null = null;
      let type = 'application/dash+xml';
      if (dvrDir) {
        const fromS = Number(dvrDir[1]);
        const t = /^(\d{1,16})\.m4s$/.exec(restParts[2]!);
        type = CONTENT_TYPES['.mp4']!;
        const init = /^init-(\d{1,16})\.mp4$/.exec(restParts[2]!);
        if (init) body = await dashArchive.init(stream, Number(init[1]), restParts[1]!);
        else if (t) body = await dashArchive.segment(stream, fromS, restParts[1]!, Number(t[1]));
      } else {
        const fromS = archiveMpd ? Number(archiveMpd[1]) : Math.floor(Date.now() / 1000) - Number(rewindMpd![1]);
        const durMs = (archiveMpd ? Number(archiveMpd[2]) : Number(rewindMpd![1])) * 1000;
        if (durMs <= 0 || durMs > MAX_ARCHIVE_MPD_MS) return void sendText(res, 400, `an archive MPD spans 1 s to ${MAX_ARCHIVE_MPD_MS / 1000} s`, method === 'HEAD');
        const text = await dashArchive.mpd(stream, fromS, durMs, rewindMpd !== null);
        body = text === null ? null : Buffer.from(text);
      }
      if (body === null) return void notFound(res, dvrDir ? 'not found' : `nothing recorded in that range of ${stream.name}`, method);
      // archive media never changes; the MPD of a range still being recorded does (rewind, open ranges)
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': dvrDir ? SEGMENT_CACHE_CONTROL : PLAYLIST_CACHE_CONTROL, 'Access-Control-Allow-Origin': '*' });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if ((n === 1 && first === 'index.mpd') || (n === 3 && first === 'dash')) {
      if (stream.hls.container !== 'fmp4') return void notFound(res, `stream ${stream.name}: DASH needs hls.container: fmp4`, method);
      if (stream.protocols !== undefined && !stream.protocols.includes('dash')) return void notFound(res, `stream ${stream.name} is not served over DASH (protocols)`, method);
      let body: Buffer | null = null;
      let type = 'application/dash+xml';
      let cache = PLAYLIST_CACHE_CONTROL;
      if (n === 1) {
        const text = await dash.mpd(stream);
        body = text === null ? null : Buffer.from(text);
      } else {
        const file = restParts[2]!;
        const t = /^(\d{1,16})\.m4s$/.exec(file);
        type = CONTENT_TYPES['.mp4']!;
        cache = SEGMENT_CACHE_CONTROL;
        if (file === 'init.mp4') body = await dash.init(stream, restParts[1]!);
        else if (t) body = await dash.segment(stream, restParts[1]!, Number(t[1]));
      }
      if (body === null) return void notFound(res, n === 1 ? `stream ${stream.name} has no CMAF segment yet` : 'not found', method);
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': cache, 'Access-Control-Allow-Origin': '*' });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (n === 1 && first === 'preview.mp4') {
      const body = await previews.get(stream);
      if (body === null) return void notFound(res, `stream ${stream.name} has no keyframe to show yet`, method);
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES['.mp4']!, 'Content-Length': body.length, 'Cache-Control': PLAYLIST_CACHE_CONTROL, 'Access-Control-Allow-Origin': '*' });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    const archiveThumb = archiveThumbOf(stream, restParts);
    if ((n === 1 && first === 'preview.jpg' && stream.thumbnails) || archiveThumb) {
      const w = query.get('width');
      let width = 0;
      if (w !== null) {
        width = /^\d{1,4}$/.test(w) ? Number(w) : -1;
        if (width < THUMBNAIL_MIN_WIDTH || width > THUMBNAIL_MAX_WIDTH) {
          sendText(res, 400, `width must be a whole number ${THUMBNAIL_MIN_WIDTH}..${THUMBNAIL_MAX_WIDTH}`, method === 'HEAD');
          return;
        }
      }
      const jpeg = archiveThumb ? await thumbnails.archiveAt(stream, Number(archiveThumb[1]) * 1000, width) : await thumbnails.get(stream, width);
      if (jpeg === null) return void notFound(res, archiveThumb ? `nothing recorded near ${archiveThumb[1]}` : `stream ${stream.name} has no thumbnail yet`, method);
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES['.jpg']!, 'Content-Length': jpeg.length, 'Cache-Control': PLAYLIST_CACHE_CONTROL, 'Access-Control-Allow-Origin': '*' });
      res.end(method === 'HEAD' ? undefined : jpeg);
      return;
    }
    notFound(res, 'not found', method); // (matches() said yes: not reached)
  }

  function llState(e: CachedFile): LlPlaylistState {
    let st = llStates.get(e);
    if (st === undefined) {
      st = llPlaylistState(e.body!.toString('utf8'));
      llStates.set(e, st);
    }
    return st;
  }

  /**
   * LL-HLS media playlist: blocking reload (_HLS_msn/_HLS_part), delta update (_HLS_skip), and an
   * EXT-X-RENDITION-REPORT for every other rendition of the stream.
   */
  async function serveLlPlaylist(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, rendition: string, file: string, query: URLSearchParams): Promise<void> {
    const head = req.method === 'HEAD';
    const q = parseBlockingQuery(query);
    if (!q.ok) {
      sendText(res, 400, q.reason, head);
      return;
    }
    let e = playlists.peek(file);
    if (e === undefined) e = await playlists.load(file);
    if (e === null || e.body === null) {
      notFound(res, `rendition ${rendition} of ${stream.name} has no live playlist yet`, req.method);
      return;
    }
    if (q.msn !== undefined) {
      const st = llState(e);
      const r = readiness(st, q.msn, q.part);
      if (r === 'out-of-window') {
        sendText(res, 400, `_HLS_msn ${q.msn} is more than two segments ahead of the playlist (next ${st.mediaSequence + st.segments})`, head);
        return;
      }
      if (r === 'wait') {
        const msn = q.msn;
        const part = q.part;
        const ok = await waits.wait(
          file,
          async () => {
            await playlists.load(file);
          },
          () => {
            const cur = playlists.peek(file);
            return cur !== undefined && cur !== null && cur.body !== null && readiness(llState(cur), msn, part) === 'ready';
          },
          () => !res.destroyed && o.getStream(stream.name)?.disabled === false,
          3 * st.targetDurationS * 1000,
          (cb) => res.once('close', cb),
        );
        if (res.destroyed) return;
        if (ok === null) {
          res.setHeader('Retry-After', '1');
          sendText(res, 503, 'too many blocked playlist requests', head);
          return;
        }
        if (!ok) {
          if (o.getStream(stream.name)?.disabled !== false) notFound(res, `stream ${stream.name} stopped`, req.method);
          else sendText(res, 503, `segment ${msn}${part !== undefined ? ` part ${part}` : ''} did not come within three target durations`, head);
          return;
        }
        e = playlists.peek(file) ?? (await playlists.load(file));
        if (e === null || e.body === null) {
          notFound(res, 'playlist gone', req.method);
          return;
        }
      }
    }
    let text = e.body!.toString('utf8');
    if (q.skip) text = deltaPlaylist(text);
    const reports: { uri: string; msn: number; part: number }[] = [];
    for (const r of stream.renditions) {
      if (r === rendition) continue;
      const f = safeJoin(stream.root, r, 'index.m3u8');
      let o = playlists.peek(f);
      if (o === undefined) o = await playlists.load(f);
      if (o === null || o.body === null) continue;
      const last = lastPartOf(llState(o));
      reports.push({ uri: `../tracks-${r}/index.m3u8`, msn: last.msn, part: last.part });
    }
    text = withRenditionReports(text, reports);
    const body = Buffer.from(text);
    res.writeHead(200, {
      'Content-Type': M3U8,
      'Content-Length': body.length,
      'Cache-Control': PLAYLIST_CACHE_CONTROL,
      'Access-Control-Allow-Origin': '*',
    });
    res.end(head ? undefined : body);
  }

  /** LL-HLS part: a request for the preload hint comes before the part exists; hold it until it does. */
  async function awaitPart(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, file: string): Promise<boolean> {
    const e = segments.peek(file) ?? (await segments.load(file));
    if (e !== null) return true;
    const ok = await waits.wait(
      file,
      async () => {
        await segments.load(file);
      },
      () => {
        const c = segments.peek(file);
        return c !== undefined && c !== null;
      },
      () => !res.destroyed && o.getStream(stream.name)?.disabled === false,
      3 * stream.hls.segmentDurationMs,
      (cb) => res.once('close', cb),
    );
    if (res.destroyed) return false;
    if (ok === null) {
      res.setHeader('Retry-After', '1');
      sendText(res, 503, 'too many blocked part requests', req.method === 'HEAD');
      return false;
    }
    if (!ok) {
      notFound(res, 'no such part', req.method);
      return false;
    }
    return true;
  }

  return { matches, serve, llPlaylist: serveLlPlaylist, awaitPart };
}
