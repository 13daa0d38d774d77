/**
 * The node's two HTTP listeners:
 *  - the Unix socket `<run>/node.sock` (mode 0600): the control API, no auth;
 *  - the HTTP port: `/api/v3/*` (Basic auth against auth.users; loopback clients only when no user
 *    is configured), `/metrics` and `/admin/` behind the same guard, and playback for every other path.
 */
import http, { type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { chmod } from 'node:fs/promises';
import type { Logger } from '../../core/logger.js';
import { handleApi, sendJson, API_PREFIX, type NodeApi } from './api.js';
import { isLoopback, type BasicAuthenticator } from './auth.js';
import { unlinkQuiet } from '../../protocol/proc.js';
import { serveAdmin } from '../../ui/admin.js';

export type PlaybackFn = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

function splitUrl(url: string | undefined): { path: string; query: URLSearchParams } {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? { path: u, query: new URLSearchParams() } : { path: u.slice(0, q), query: new URLSearchParams(u.slice(q + 1)) };
}

/** The socket API server: everything is API (with or without the /api/v3 prefix). */
export function createSocketServer(node: NodeApi, logger: Logger): Server {
  const server = http.createServer((req, res) => {
    const { path, query } = splitUrl(req.url);
    const p = path === API_PREFIX || path.startsWith(API_PREFIX + '/') ? path.slice(API_PREFIX.length) || '/' : path;
    handleApi(req, res, node, p, query).catch((e) => {
      logger.error({ err: (e as Error).message }, 'api handler failed');
      sendJson(res, 500, { error: 'internal error' });
    });
  });
  server.keepAliveTimeout = 15_000;
  return server;
}

export interface HttpServerOptions {
  node: NodeApi;
  auth: BasicAuthenticator;
  logger: Logger;
  playback: () => PlaybackFn | undefined;
  /** every playback request (play sessions, online clients) */
  onPlay?: (req: IncomingMessage) => void;
}

/** A client must have sent its whole request head within this (slow-header clients are cut). */
export const HEADERS_TIMEOUT_MS = 20_000;

export function createHttpServer(opts: HttpServerOptions): Server {
  const { node, auth, logger } = opts;
  // Node enforces headersTimeout only when it sweeps its connection list, every
  // connectionsCheckingInterval (default 30 s): a slow-header client then stays up to 50 s.
  // Sweeping every second closes it within a second of the timeout (the sweep is a cheap walk).
  const server = http.createServer({ connectionsCheckingInterval: 1000, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0 }, (req, res) => {
    void (async () => {
      const { path, query } = splitUrl(req.url);
      // /metrics and /admin/ sit behind the API's guard: they show what the API shows
      const observe = path === '/metrics' || path === '/admin' || path.startsWith('/admin/');
      if (path === API_PREFIX || path.startsWith(API_PREFIX + '/') || observe) {
        if (auth.enabled) {
          const user = await auth.authenticate(req.headers.authorization);
          if (!user) {
            res.setHeader('www-authenticate', 'Basic realm="flux", charset="UTF-8"');
            return sendJson(res, 401, { error: 'authentication required' });
          }
          if (user.role === 'read' && req.method !== 'GET' && req.method !== 'HEAD') {
            return sendJson(res, 403, { error: `user "${user.name}" has the read role` });
          }
        } else if (!isLoopback(req.socket.remoteAddress)) {
          return sendJson(res, 403, { error: 'no API users are configured (auth.users): the HTTP API answers loopback clients only' });
        }
        if (observe) return path === '/metrics' ? handleApi(req, res, node, path, query) : serveAdmin(req, res, path, (p) => handleApi(req, res, node, p, query));
        return handleApi(req, res, node, path.slice(API_PREFIX.length) || '/', query);
      }
      opts.onPlay?.(req);
      const playback = opts.playback();
      if (playback && (await playback(req, res))) return;
      if (!res.headersSent) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not found\n');
      }
    })().catch((e) => {
      logger.error({ err: (e as Error).message, url: req.url }, 'http handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 15_000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 0; // ingest/long downloads
  return server;
}

export function listenTcp(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    server.once('error', onErr);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onErr);
      resolve();
    });
  });
}

/** Listen on a Unix socket created with mode 0600 (umask 077 while binding, chmod after). */
export async function listenSocket(server: Server, socketPath: string): Promise<void> {
  await unlinkQuiet(socketPath);
  const old = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      server.once('error', onErr);
      server.listen(socketPath, () => {
        server.off('error', onErr);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  await chmod(socketPath, 0o600);
}

export function closeServer(server: Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const t = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, graceMs);
    t.unref();
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
    server.closeIdleConnections();
  });
}
