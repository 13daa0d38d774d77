/**
 * Archive playback on Flussonic's URLs (times in unix seconds), relative to `/<stream>/`:
 *
 *   archive-<from>-<duration>.m3u8      VOD playlist (EXT-X-PLAYLIST-TYPE:VOD, EXT-X-ENDLIST, PDT); a master
 *                                       pointing at tracks-<r>/archive-<from>-<duration>.m3u8 when the stream
 *                                       has several renditions
 *   index-<from>-<duration>.m3u8        the same (pre-4.7 name)
 *   archive-<from>-now.m3u8             EVENT playlist from <from>, grows, no ENDLIST (index-<from>-now too)
 *   rewind-<seconds>.m3u8               live-like sliding window over the last <seconds> of the archive
 *   tracks-<r>/<any of the above>       one rendition's media playlist
 *   archive-<from>-<duration>.ts        the segments' bytes, streamed (video/mp2t, chunked, no temp file)
 *   archive-<from>-<duration>.mp4       fragmented MP4 remuxed on the fly by ffmpeg (-c copy), streamed
 *   recording_status.json?from=&to=     recorded ranges { ranges: [{from, duration}], … }
 *
 * Segment URIs in playlists are `tracks-<r>/YYYY/MM/DD/HH/<ms>-<dur>.ts` relative to `/<stream>/` (or
 * `YYYY/…` relative to `/<stream>/tracks-<r>/`): the node's playback router serves those files.
 * 404 with a one-line reason when the range holds no recording.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { ResolvedStream } from '../config/model.js';
import { archiveFor, type Archive } from './archive.js';
import { renderArchiveMaster, renderArchivePlaylistBuffer, bandwidthOf, type ArchivePlaylistKind } from './playlist.js';
import { computeGaps, computeRanges } from './gaps.js';
import { concatSegments, writableSink } from './concat.js';
import { ffmpegPath, spawnRemux, streamingMp4Args } from './remux.js';
import type { SegTable } from './table.js';
import { segmentHasAdtsAac } from './probe.js';
import { segmentPath } from './index-file.js';

export interface DvrHttpContext {
  logger?: Logger;
  /** the request's query (the node passes it; parsed from req.url otherwise) */
  query?: URLSearchParams;
  /** archive reader (default: one shared per stream root) */
  archive?: Archive;
  /** ffmpeg binary for .mp4 (default: FLUX_FFMPEG → PATH) */
  ffmpeg?: string;
  /** wall clock (tests) */
  now?: () => number;
}

const M3U8 = 'application/vnd.apple.mpegurl';
const RANGE_RE = /^(archive|index)-(\d{1,12})-(\d{1,10}|now)\.(m3u8|ts|mp4)$/;
const REWIND_RE = /^rewind-(\d{1,10})\.m3u8$/;
const DAY_MS = 86_400_000;
/** largest archive range one request may ask for */
const MAX_RANGE_MS = 366 * DAY_MS;

type Route =
  | { kind: 'range'; rendition?: string; name: 'archive' | 'index'; fromMs: number; durationMs: number | 'now'; ext: 'm3u8' | 'ts' | 'mp4' }
  | { kind: 'rewind'; rendition?: string; seconds: number }
  | { kind: 'status' };

/** Parse the path after `/<stream>/`; undefined when it is not a DVR URL. */
export function parseDvrPath(rest: string): Route | undefined {
  const p = rest.split('?')[0]!;
  if (p === 'recording_status.json') return { kind: 'status' };
  let rendition: string | undefined;
  let name = p;
  const slash = p.indexOf('/');
  if (slash >= 0) {
    const first = p.slice(0, slash);
    name = p.slice(slash + 1);
    if (!first.startsWith('tracks-') || first.length <= 7 || name.includes('/')) return undefined;
    rendition = first.slice(7);
  }
  const m = RANGE_RE.exec(name);
  if (m) {
    return {
      kind: 'range',
      rendition,
      name: m[1] as 'archive' | 'index',
      fromMs: Number(m[2]) * 1000,
      durationMs: m[3] === 'now' ? 'now' : Number(m[3]) * 1000,
      ext: m[4] as 'm3u8' | 'ts' | 'mp4',
    };
  }
  const r = REWIND_RE.exec(name);
  if (r) return { kind: 'rewind', rendition, seconds: Number(r[1]) };
  return undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean, extra: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': buf.length,
    'Access-Control-Allow-Origin': '*',
    ...extra,
  });
  res.end(head ? undefined : buf);
}

function fail(res: ServerResponse, status: number, reason: string, head: boolean): true {
  send(res, status, 'text/plain; charset=utf-8', reason + '\n', head, { 'Cache-Control': 'no-cache' });
  return true;
}

function queryOf(req: IncomingMessage, ctx: DvrHttpContext): URLSearchParams {
  if (ctx.query) return ctx.query;
  const q = (req.url ?? '').indexOf('?');
  return new URLSearchParams(q >= 0 ? (req.url ?? '').slice(q + 1) : '');
}

/** Query parameters carried into the URIs of a playlist (tokens), without the DVR's own. */
function passQuery(q: URLSearchParams): string {
  const keep = new URLSearchParams();
  for (const [k, v] of q) if (k !== 'from' && k !== 'to' && k !== 'request') keep.append(k, v);
  const s = keep.toString();
  return s ? `?${s}` : '';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Answer a DVR URL of `stream`. Resolves false when `rest` is not a DVR URL (the caller 404s or routes
 * elsewhere), true when it answered (including 4xx/5xx).
 */
export async function handleDvrRequest(
  req: IncomingMessage,
  res: ServerResponse,
  stream: ResolvedStream,
  rest: string,
  ctx: DvrHttpContext = {},
): Promise<boolean> {
  const route = parseDvrPath(rest);
  if (!route) return false;
  const log = ctx.logger ?? silentLogger;
  const method = req.method ?? 'GET';
  const head = method === 'HEAD';
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return fail(res, 405, 'method not allowed', head);
  }
  if (!stream.dvr) return fail(res, 404, `stream ${stream.name} has no dvr`, head);
  if ('rendition' in route && route.rendition !== undefined && !stream.renditions.includes(route.rendition)) {
    return fail(res, 404, `stream ${stream.name} has no rendition ${route.rendition}`, head);
  }
  const archive = ctx.archive ?? archiveFor(stream.dvr.root ?? stream.root);
  const root = archive.root;
  const now = (ctx.now ?? Date.now)();
  const q = queryOf(req, ctx);
  try {
    if (route.kind === 'status') return await recordingStatus(res, stream, archive, q, head, now);

    const renditions = route.rendition ? [route.rendition] : stream.renditions;
    const primary = renditions[0]!;

    // the time window and playlist kind
    let fromMs: number;
    let toMs: number;
    let kind: ArchivePlaylistKind;
    if (route.kind === 'rewind') {
      const newest = await archive.newest(primary);
      if (!newest) return fail(res, 404, `nothing recorded for ${stream.name}`, head);
      toMs = newest.startMs + newest.durationMs;
      fromMs = toMs - route.seconds * 1000;
      kind = 'live';
      if (route.seconds <= 0) return fail(res, 400, 'rewind needs a number of seconds > 0', head);
    } else {
      fromMs = route.fromMs;
      if (route.durationMs === 'now') {
        if (route.ext !== 'm3u8') return fail(res, 400, `archive-<from>-now is a playlist only; use archive-<from>-<duration>.${route.ext}`, head);
        toMs = now + DAY_MS; // everything recorded since `from`, including what lands while this is answered
        kind = 'event';
      } else {
        if (route.durationMs <= 0) return fail(res, 400, 'duration must be > 0', head);
        if (route.durationMs > MAX_RANGE_MS) return fail(res, 400, 'duration is longer than a year', head);
        toMs = fromMs + route.durationMs;
        kind = 'vod';
      }
    }

    if (route.kind === 'range' && route.ext !== 'm3u8') {
      const t = await archive.segments(primary, fromMs, toMs);
      if (!t.length) return fail(res, 404, `nothing recorded for ${stream.name} between ${iso(fromMs)} and ${iso(toMs)}`, head);
      if (route.ext === 'ts') await streamTs(req, res, root, primary, t, head, log);
      else await streamMp4(req, res, root, primary, t, head, log, ctx.ffmpeg);
      return true;
    }

    const query = passQuery(q);
    const cache = kind === 'vod' && toMs < now ? 'public, max-age=60' : 'no-cache';
    const file =
      route.kind === 'rewind'
        ? `rewind-${route.seconds}.m3u8`
        : `${route.name}-${route.fromMs / 1000}-${route.durationMs === 'now' ? 'now' : route.durationMs / 1000}.m3u8`;
    if (!route.rendition && renditions.length > 1) {
      // master: one variant per rendition that has segments in the window
      const variants = [];
      for (const r of renditions) {
        const t = await archive.segments(r, fromMs, toMs);
        if (!t.length) continue;
        const bw = bandwidthOf(t);
        variants.push({ uri: `tracks-${r}/${file}${query}`, bandwidth: bw.peak, averageBandwidth: bw.average });
      }
      if (!variants.length) return fail(res, 404, `nothing recorded for ${stream.name} between ${iso(fromMs)} and ${iso(toMs)}`, head);
      send(res, 200, M3U8, renderArchiveMaster(variants), head, { 'Cache-Control': cache });
      return true;
    }
    const spans = await archive.spans(primary, fromMs, toMs);
    if (!spans.length) return fail(res, 404, `nothing recorded for ${stream.name} between ${iso(fromMs)} and ${iso(toMs)}`, head);
    const body = renderArchivePlaylistBuffer(spans, { kind, uriPrefix: route.rendition ? '' : `tracks-${primary}/`, query });
    send(res, 200, M3U8, body, head, { 'Cache-Control': cache });
    return true;
  } catch (err) {
    log.error({ err, stream: stream.name, rest }, 'dvr request failed');
    if (!res.headersSent) return fail(res, 500, 'internal error', head);
    res.destroy();
    return true;
  }
}

async function recordingStatus(
  res: ServerResponse,
  stream: ResolvedStream,
  archive: Archive,
  q: URLSearchParams,
  head: boolean,
  now: number,
): Promise<boolean> {
  const num = (k: string): number | undefined => {
    const v = q.get(k);
    if (v === null || v === '') return undefined;
    return /^\d{1,12}(\.\d+)?$/.test(v) ? Number(v) * 1000 : NaN;
  };
  const from = num('from');
  const to = num('to');
  if (Number.isNaN(from) || Number.isNaN(to)) return fail(res, 400, 'from and to are unix seconds', head);
  const renditions: Record<string, { segments: number; bytes: number; ranges: { from: number; duration: number }[] }> = {};
  let primary: ReturnType<typeof computeRanges> = [];
  let gaps: ReturnType<typeof computeGaps> = [];
  for (const r of stream.renditions) {
    const t =
      from === undefined && to === undefined ? await archive.all(r) : await archive.segments(r, from ?? 0, to ?? now + DAY_MS);
    const ranges = computeRanges(t);
    renditions[r] = { segments: t.length, bytes: t.totalBytes(), ranges: ranges.map(toSec) };
    if (r === stream.renditions[0]) {
      primary = ranges;
      gaps = computeGaps(t);
    }
  }
  const body = {
    stream: stream.name,
    ...(from !== undefined ? { from: from / 1000 } : {}),
    ...(to !== undefined ? { to: to / 1000 } : {}),
    ranges: primary.map(toSec),
    gaps: gaps.map((g) => ({ from: Math.floor(g.fromMs / 1000), duration: Math.max(0, Math.round(g.durationMs / 1000)), reason: g.reason })),
    renditions,
  };
  send(res, 200, 'application/json', JSON.stringify(body), head, { 'Cache-Control': 'no-cache' });
  return true;
}

function toSec(r: { fromMs: number; toMs: number }): { from: number; duration: number } {
  const from = Math.floor(r.fromMs / 1000);
  return { from, duration: Math.ceil(r.toMs / 1000) - from };
}

async function streamTs(req: IncomingMessage, res: ServerResponse, root: string, rendition: string, t: SegTable, head: boolean, log: Logger): Promise<void> {
  res.writeHead(200, {
    'Content-Type': 'video/mp2t',
    'Cache-Control': 'no-cache',
    'Access-Control-Allow-Origin': '*',
  });
  if (head) {
    res.end();
    return;
  }
  const ac = new AbortController();
  const onClose = () => ac.abort();
  res.once('close', onClose);
  try {
    const p = await concatSegments(root, rendition, t, writableSink(res), { signal: ac.signal });
    if (p.missing) log.warn({ rendition, missing: p.missing }, 'dvr: segments vanished while streaming');
    res.end();
  } catch (err) {
    if (!ac.signal.aborted) log.warn({ err }, 'dvr: ts stream failed');
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
  void req;
}

async function streamMp4(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  rendition: string,
  t: SegTable,
  head: boolean,
  log: Logger,
  ffmpeg?: string,
): Promise<void> {
  const bin = ffmpeg ?? (await ffmpegPath());
  if (head) {
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' });
    res.end();
    return;
  }
  const adts = await segmentHasAdtsAac(segmentPath(root, rendition, t.start[0]!, t.dur[0]!));
  const rx = spawnRemux(bin, streamingMp4Args({ adts }), { stdout: true });
  const ac = new AbortController();
  const onClose = () => {
    ac.abort();
    rx.kill();
  };
  res.once('close', onClose);
  let started = false;
  const out = rx.stdout!;
  out.on('data', (chunk: Buffer) => {
    if (!started) {
      started = true;
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' });
    }
    if (!res.write(chunk)) {
      out.pause();
      res.once('drain', () => out.resume());
    }
  });
  const feeding = concatSegments(root, rendition, t, writableSink(rx.stdin), { signal: ac.signal })
    .then(() => rx.stdin.end())
    .catch((err) => {
      if (!ac.signal.aborted) log.warn({ err }, 'dvr: feeding ffmpeg failed');
      rx.kill();
    });
  try {
    await rx.done;
    await new Promise<void>((r) => (out.readableEnded ? r() : out.once('end', () => r())));
    if (!started) res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ffmpeg produced no output\n');
    else res.end();
  } catch (err) {
    if (!ac.signal.aborted) log.warn({ err }, 'dvr: mp4 remux failed');
    if (!started && !res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`remux failed: ${(err as Error).message.split('\n')[0]}\n`);
    } else res.destroy();
  } finally {
    res.off('close', onClose);
    await feeding;
  }
  void req;
}
