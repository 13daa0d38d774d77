/**
 * `/<stream>/mpegts`: the live stream as one continuous MPEG-TS over HTTP (chunked), for VLC,
 * set-top boxes and edges (which pull it with the tshttp:// input).
 *
 * It follows what the writer puts on disk: the response starts with the latest complete segment
 * (every segment starts with PAT/PMT and a keyframe, so a player can start decoding at once), then
 * sends each new segment of the live playlist as it appears. Segments are cut from one continuous
 * TS (continuity counters run on across segments, the writer keeps PAT/PMT continuous), so their
 * concatenation is the stream. Latency is one segment; a client that reads slower than real time
 * skips to the newest segment rather than holding an ever-growing backlog.
 *
 * `?rendition=v2a1` picks another rendition of a ladder (default: the first).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedStream } from '../../config/model.js';
import { safeJoin, streamNameProblem } from '../../core/paths.js';
import type { Logger } from '../../core/logger.js';

export interface MpegtsOptions {
  logger: Logger;
  /** playlist poll interval (default 200 ms) */
  pollMs?: number;
  /** give up when the stream has no segment for this long (default 20 s) */
  idleTimeoutMs?: number;
  onBytes?(n: number): void;
}

const SEGMENT_LINE = /^(\d{4}\/\d{2}\/\d{2}\/\d{2}\/(\d{1,16})-\d{1,9}\.ts)$/;

async function liveSegments(playlist: string): Promise<{ uri: string; start: number }[]> {
  let text: string;
  try {
    text = await readFile(playlist, 'utf8');
  } catch {
    return [];
  }
  const out: { uri: string; start: number }[] = [];
  for (const line of text.split('\n')) {
    const m = SEGMENT_LINE.exec(line.trim());
    if (m) out.push({ uri: m[1]!, start: Number(m[2]) });
  }
  return out;
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function serveMpegts(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, query: URLSearchParams, opts: MpegtsOptions): Promise<void> {
  const rendition = query.get('rendition') ?? stream.renditions[0]!;
  if (!stream.renditions.includes(rendition)) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`no rendition "${rendition}" in stream "${stream.name}" (${stream.renditions.join(', ')})\n`);
    return;
  }
  const dir = safeJoin(stream.root, rendition);
  const playlist = path.join(dir, 'index.m3u8');
  const pollMs = opts.pollMs ?? 200;
  const idleMs = opts.idleTimeoutMs ?? 20_000;
  let closed = false;
  res.on('close', () => (closed = true));

  // wait for a first segment (a stream that just started) before committing to a 200
  let segs = await liveSegments(playlist);
  const firstUntil = Date.now() + Math.min(idleMs, 10_000);
  while (!segs.length && !closed && Date.now() < firstUntil) {
    await new Promise((r) => setTimeout(r, pollMs));
    segs = await liveSegments(playlist);
  }
  if (closed) return;
  if (!segs.length) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '2' });
    res.end(`stream "${stream.name}" has no live segment yet\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'no-cache', 'access-control-allow-origin': '*' });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let lastStart = -1;
  let next: { uri: string; start: number }[] = [segs[segs.length - 1]!];
  let lastProgress = Date.now();
  while (!closed) {
    if (next.length > 2) next = next.slice(-1); // a slow reader: jump to the newest segment
    for (const s of next) {
      if (closed) break;
      let data: Buffer;
      try {
        data = await readFile(path.join(dir, s.uri));
      } catch {
        continue; // removed by retention between the playlist read and now
      }
      lastStart = s.start;
      lastProgress = Date.now();
      opts.onBytes?.(data.length);
      if (!res.write(data)) await waitDrain(res);
    }
    if (closed) break;
    if (Date.now() - lastProgress > idleMs) {
      opts.logger.info({ stream: stream.name }, 'mpegts: no new segment for a while; closing the response');
      break;
    }
    await new Promise((r) => setTimeout(r, pollMs));
    const all = await liveSegments(playlist);
    next = all.filter((s) => s.start > lastStart);
  }
  if (!closed) res.end();
}

/**
 * Answer `/<stream>/mpegts` when the request is one (true), else leave it (false). `allow` may
 * refuse it (and answer it) first, e.g. a node-to-node request with a wrong cluster key.
 */
export async function routeMpegts(
  req: IncomingMessage,
  res: ServerResponse,
  lookup: (name: string) => ResolvedStream | undefined,
  opts: MpegtsOptions & { allow?: (req: IncomingMessage, res: ServerResponse, stream: ResolvedStream) => boolean | Promise<boolean> },
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const name = mpegtsStreamName(q < 0 ? url : url.slice(0, q));
  const stream = name !== undefined && !streamNameProblem(name) ? lookup(name) : undefined;
  if (!stream) return false;
  if (opts.allow && !(await opts.allow(req, res, stream))) return true;
  await serveMpegts(req, res, stream, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), opts);
  return true;
}

/** The stream name of a `/<stream>/mpegts` request path (raw, percent-encoded), or undefined. */
export function mpegtsStreamName(urlPath: string): string | undefined {
  const m = /^\/(.+)\/mpegts\/?$/.exec(urlPath);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}
