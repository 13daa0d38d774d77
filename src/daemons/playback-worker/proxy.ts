/**
 * A playback worker passes what it does not serve itself to the agent: the request goes unchanged
 * (method, path, headers, body) to the agent's internal Unix socket, which runs the HTTP port's
 * own handler, with the real client address in FORWARDED_CLIENT_HEADER (a copy sent by the client
 * is dropped first). One upstream connection per request (no keep-alive): the agent sets the
 * socket's address from the header, per connection. Responses stream both ways (MPEG-TS, long
 * downloads, held LL-HLS requests); a client that goes away aborts the upstream request, and an
 * upstream that fails mid-body cuts the client's connection (never a silently short body).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Logger } from '../../core/logger.js';
import { FORWARDED_CLIENT_HEADER } from '../../protocol/playback-worker.js';
import type { TaggedResponse } from './tagged-response.js';

/** hop-by-hop headers (RFC 9110 7.6.1): they describe one connection, not the message */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

export type Proxy = (req: IncomingMessage, res: ServerResponse) => void;

export function createProxy(socketPath: string, workerTag: string, logger: Logger): Proxy {
  const agent = new http.Agent({ keepAlive: false });
  return (req, res) => {
    const headers: http.OutgoingHttpHeaders = {};
    const raw = req.rawHeaders;
    // rawHeaders keep duplicates and case; joined values would change some requests
    const dropped = connectionTokens(req.headers.connection);
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      const lk = k.toLowerCase();
      if (HOP.has(lk) || lk === FORWARDED_CLIENT_HEADER || dropped.has(lk)) continue;
      const prev = headers[k];
      headers[k] = prev === undefined ? raw[i + 1]! : Array.isArray(prev) ? [...prev, raw[i + 1]!] : [String(prev), raw[i + 1]!];
    }
    const s = req.socket;
    headers[FORWARDED_CLIENT_HEADER] = `${s.remoteAddress ?? ''} ${s.remotePort ?? 0}`;
    headers.connection = 'close';
    // a request body without a length: pass it on chunked, as it came
    if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
    (res as TaggedResponse).workerTag = workerTag;
    const up = http.request({ socketPath, method: req.method, path: req.url, headers, agent, setHost: false });
    let answered = false;
    up.on('response', (ur) => {
      answered = true;
      const out: string[] = [];
      const rh = ur.rawHeaders;
      for (let i = 0; i < rh.length; i += 2) {
        const lk = rh[i]!.toLowerCase();
        if (HOP.has(lk)) continue;
        out.push(rh[i]!, rh[i + 1]!);
      }
      if (res.destroyed) {
        ur.destroy();
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, out);
      pipeline(ur, res, (err) => {
        if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') logger.debug({ err: err.message, url: req.url }, 'proxied response ended early');
      });
    });
    up.on('error', (err) => {
      if (answered || res.headersSent) {
        res.destroy();
        return;
      }
      logger.warn({ err: err.message, url: req.url }, 'agent unreachable from the playback worker');
      const body = Buffer.from('node agent unavailable\n');
      res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    // the client left: stop the agent's work on it (an MPEG-TS feed, a held part request)
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    // pipe, not pipeline: an upstream error must not destroy the client's request (its 502 still goes out)
    req.pipe(up);
  };
}

/** Header names listed in a Connection header (hop-by-hop for this connection too). */
function connectionTokens(v: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!v) return out;
  for (const t of v.split(',')) {
    const k = t.trim().toLowerCase();
    if (k) out.add(k);
  }
  return out;
}
