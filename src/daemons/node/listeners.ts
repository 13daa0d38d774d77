/**
 * The node's two HTTP listeners:
 *  - the Unix socket `<run>/node.sock` (mode 0600): the control API, no auth;
 *  - the HTTP port: `/api/v3/*` (Basic auth against auth.users; loopback clients only when no user
 *    is configured), `/metrics` and `/admin/` behind the same guard, and playback for every other path.
 */
import http, { type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { chmod } from 'node:fs/promises';
import type { Logger } from '../../core/logger.js';
import { handleApi, sendJson, redactSecretsFor, API_PREFIX, type NodeApi } from './api.js';
import { isLoopback, type BasicAuthenticator } from '../../auth/password.js';
import type { GuardVerdict } from '../../auth/api-guard.js';
import { unlinkQuiet } from '../../protocol/proc.js';
import { serveAdmin } from '../../ui/admin.js';
import { FORWARDED_CLIENT_HEADER } from '../../protocol/playback-worker.js';
import { LISTEN_BACKLOG, SERVER_OPTIONS, tuneServer } from '../../core/http-server-options.js';

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
  /** address rules and the cross-site guard (auth/protection.ts); undefined = go on */
  checkApi: (req: IncomingMessage) => GuardVerdict | undefined;
}

export { HEADERS_TIMEOUT_MS } from '../../core/http-server-options.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The HTTP port's request handler (also served over TLS by auth/https.ts). */
export function createHttpHandler(opts: HttpServerOptions): RequestHandler {
  const { node, auth, logger } = opts;
  return (req, res) => {
    void (async () => {
      const { path, query } = splitUrl(req.url);
      // /metrics and /admin/ sit behind the API's guard: they show what the API shows
      const observe = path === '/metrics' || path === '/admin' || path.startsWith('/admin/');
      if (path === API_PREFIX || path.startsWith(API_PREFIX + '/') || observe) {
        const refused = opts.checkApi(req);
        if (refused) return sendJson(res, refused.status, { error: refused.error });
        // credentials, when sent, must be right, even from loopback with no users configured
        if (auth.enabled || req.headers.authorization !== undefined) {
          const r = await auth.check(req.headers.authorization, req.socket.remoteAddress);
          if (r.retryAfterS) {
            res.setHeader('retry-after', String(r.retryAfterS));
            return sendJson(res, 429, { error: `too many failed logins from this address: retry in ${r.retryAfterS}s` });
          }
          const user = r.user;
          if (!user) {
            res.setHeader('www-authenticate', 'Basic realm="flux", charset="UTF-8"');
            return sendJson(res, 401, { error: auth.enabled ? 'authentication required' : 'bad credentials: no API users are configured (auth.users)' });
          }
          if (user.role === 'read' && req.method !== 'GET' && req.method !== 'HEAD') {
            return sendJson(res, 403, { error: `user "${user.name}" has the read role` });
          }
          if (user.role === 'read') redactSecretsFor(res);
        } else if (!isLoopback(req.socket.remoteAddress)) {
          return sendJson(res, 403, { error: 'no API users are configured (auth.users): the HTTP API answers loopback clients only' });
        }
        if (observe) return path === '/metrics' ? handleApi(req, res, node, path, query) : serveAdmin(req, res, path, (p) => handleApi(req, res, node, p, query));
        return handleApi(req, res, node, path.slice(API_PREFIX.length) || '/', query);
      }
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
  };
}

export function createHttpServer(opts: HttpServerOptions, handler: RequestHandler = createHttpHandler(opts)): Server {
  const server = http.createServer(SERVER_OPTIONS, handler);
  tuneServer(server);
  return server;
}

export { tuneServer } from '../../core/http-server-options.js';

/**
 * The playback workers' way in (server.http_workers): a Unix socket (mode 0600, in the run dir)
 * whose requests run the HTTP port's very handler. Each request names its real client in a header
 * (FORWARDED_CLIENT_HEADER, set by the worker, which drops any copy a client sent); it becomes the
 * request socket's remoteAddress/remotePort, so loopback-only API rules, IP rules, login throttling
 * and session addresses see the client, not the worker. Workers open one connection per request
 * (no keep-alive), so patching the socket per request cannot leak an address to another client.
 */
export function createInternalServer(handler: RequestHandler): Server {
  const server = http.createServer(SERVER_OPTIONS, (req, res) => {
    const v = req.headers[FORWARDED_CLIENT_HEADER];
    const m = typeof v === 'string' ? /^(\S+) (\d{1,5})$/.exec(v) : null;
    if (!m) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`missing ${FORWARDED_CLIENT_HEADER}\n`);
      return;
    }
    const ip = m[1]!;
    const sock = req.socket;
    Object.defineProperty(sock, 'remoteAddress', { value: ip, configurable: true });
    Object.defineProperty(sock, 'remotePort', { value: Number(m[2]), configurable: true });
    Object.defineProperty(sock, 'remoteFamily', { value: ip.includes(':') ? 'IPv6' : 'IPv4', configurable: true });
    delete req.headers[FORWARDED_CLIENT_HEADER];
    handler(req, res);
  });
  tuneServer(server);
  return server;
}

export function listenTcp(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    server.once('error', onErr);
    server.listen({ port, host, exclusive: true, backlog: LISTEN_BACKLOG }, () => {
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
