/**
 * The web admin page at `/admin/`: static files shipped in templates/admin (no build step), served
 * behind the API's guard (Basic auth when auth.users is set, loopback only otherwise). The page
 * talks to the API under `/admin/api/v3/…` — the same handlers — so the browser's Basic
 * credentials for /admin/ cover its API calls too (browsers send them for paths below the one
 * that asked).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ADMIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates', 'admin');

/** The only files served: a fixed list, so no URL can name a path. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
  'admin.css': 'text/css; charset=utf-8',
};

const cache = new Map<string, Buffer>();

export async function serveAdmin(req: IncomingMessage, res: ServerResponse, urlPath: string, api: (apiPath: string) => Promise<void>): Promise<void> {
  if (urlPath === '/admin') {
    res.writeHead(301, { location: '/admin/' }).end();
    return;
  }
  const rest = urlPath.slice('/admin/'.length);
  if (rest === 'api/v3' || rest.startsWith('api/v3/')) {
    // the browser sends its Basic credentials with any request to this origin, a cross-site form
    // post included: a change needs a header that only the page's own script (same origin) can set
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers['x-flux-admin'] !== '1') {
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"admin API changes need the x-flux-admin: 1 header"}\n');
      return;
    }
    return api(rest.slice('api/v3'.length) || '/');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  const name = rest === '' ? 'index.html' : rest;
  const type = FILES[name];
  if (!type) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  let body = cache.get(name);
  if (!body) {
    try {
      body = await readFile(path.join(ADMIN_DIR, name));
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`admin page file ${name} is missing from the package\n`);
      return;
    }
    cache.set(name, body);
  }
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'",
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
