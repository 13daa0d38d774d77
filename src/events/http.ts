/**
 * `GET /api/v3/events` (socket and HTTP API):
 *   ?since=EVENT_ID  only newer events      ?stream=NAME  one stream's      ?limit=N  the newest N
 *   ?follow=true     NDJSON (one event per line), chunked, kept open: the backlog, then live events;
 *                    an empty line every 15 s keeps proxies from closing it
 * Without follow: {"events":[…], "last_event_id":N}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventHub } from './hub.js';
import type { FluxEvent } from '../protocol/events.js';

/** a follower that lets this much pile up unread is too slow: it is cut off */
const MAX_BUFFERED = 1 << 20;

export function parseEventQuery(query: URLSearchParams): { since?: number; stream?: string; limit?: number; follow: boolean } | string {
  const out: { since?: number; stream?: string; limit?: number; follow: boolean } = { follow: false };
  const since = query.get('since');
  if (since !== null) {
    if (!/^\d+$/.test(since)) return `since must be an event_id (a non-negative integer), got ${JSON.stringify(since)}`;
    out.since = Number(since);
  }
  const limit = query.get('limit');
  if (limit !== null) {
    if (!/^\d+$/.test(limit)) return `limit must be a non-negative integer, got ${JSON.stringify(limit)}`;
    out.limit = Number(limit);
  }
  const stream = query.get('stream');
  if (stream) out.stream = stream;
  const follow = query.get('follow');
  out.follow = follow === 'true' || follow === '1' || follow === '';
  return out;
}

export function handleEvents(req: IncomingMessage, res: ServerResponse, hub: EventHub, query: URLSearchParams): boolean | string {
  const q = parseEventQuery(query);
  if (typeof q === 'string') return q;
  // HEAD never follows: there is no body to keep open
  if (!q.follow || req.method === 'HEAD') {
    const events = hub.list(q);
    const text = JSON.stringify({ events, last_event_id: hub.lastId }) + '\n';
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  const send = (e: FluxEvent) => {
    if (q.stream !== undefined && e.stream !== q.stream) return;
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return;
    }
    res.write(JSON.stringify(e) + '\n');
  };
  const backlog = hub.list({ since: q.since, stream: q.stream, limit: q.limit ?? (q.since === undefined ? 0 : undefined) });
  let last = 0;
  for (const e of backlog) {
    send(e);
    last = e.event_id;
  }
  const unsubscribe = hub.subscribe((e) => {
    if (e.event_id > last) send(e);
  });
  const beat = setInterval(() => res.write('\n'), 15_000);
  beat.unref();
  const end = () => {
    clearInterval(beat);
    unsubscribe();
  };
  res.once('close', end);
  req.socket.setTimeout(0);
  // headers out now, so a follower knows it is connected before the first event
  res.flushHeaders();
  return true;
}
