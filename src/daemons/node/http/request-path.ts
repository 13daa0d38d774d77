/**
 * Request-path parsing for playback: percent-decoding happens exactly once, then anything that
 * could walk out of a directory is refused before a path is ever built (paths are still built
 * through safeJoin afterwards — this is the first of two fences).
 */

export type RequestPath =
  | { ok: true; /** decoded path segments, no empty ones */ parts: string[]; /** raw query string without `?` */ query: string }
  | { ok: false; status: 400; reason: string };

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

/** Parse `req.url` (origin-form, or absolute-form from a proxy) into decoded path segments. */
export function parseRequestPath(url: string | undefined): RequestPath {
  if (!url) return { ok: false, status: 400, reason: 'empty request target' };
  let raw = url;
  let query = '';
  const q = raw.indexOf('?');
  if (q >= 0) {
    query = raw.slice(q + 1);
    raw = raw.slice(0, q);
  }
  const h = raw.indexOf('#');
  if (h >= 0) raw = raw.slice(0, h);
  if (raw.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (`GET http://host/path`): keep only its path
    if (!/^https?:\/\//i.test(raw)) return { ok: false, status: 400, reason: 'request target is not a path' };
    const slash = raw.indexOf('/', raw.indexOf('//') + 2);
    raw = slash < 0 ? '/' : raw.slice(slash);
  }
  let decoded: string;
  if (raw.indexOf('%') < 0) decoded = raw;
  else {
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, reason: 'bad percent-encoding' };
    }
  }
  if (FORBIDDEN.test(decoded)) return { ok: false, status: 400, reason: 'control character or backslash in path' };
  const parts = decoded.split('/');
  parts.shift(); // the leading ''
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // one trailing slash is tolerated
  for (const p of parts) {
    if (p === '') return { ok: false, status: 400, reason: 'empty path segment' };
    if (p === '..' || p === '.') return { ok: false, status: 400, reason: 'dot segment in path' };
  }
  return { ok: true, parts, query };
}
