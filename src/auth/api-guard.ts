/**
 * Cross-site guard for /api/v3 on the HTTP port. A web page open in the operator's browser can
 * reach a loopback API two ways, and both are refused here:
 *  - DNS rebinding: the page's own host name re-pointed to 127.0.0.1. The browser then sends
 *    `Host: evil.example`, which is none of this node's names or addresses → 421.
 *  - a "simple" cross-origin request (form POST, text/plain fetch, no preflight): a state-changing
 *    request must carry a JSON content type or an Authorization header (neither can be sent
 *    cross-origin without a CORS preflight, which this API never grants), and an Origin, when one
 *    is sent, must be this node's own → 403.
 * Clients that are not browsers (curl, the flux CLI, scripts) send neither a foreign Host nor an
 * Origin, so they are unaffected.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import os from 'node:os';

export interface GuardVerdict {
  status: 403 | 421;
  error: string;
}

/** The names this node answers to: loopback names, the host name, the bind address, configured extras. */
export function ownHostNames(extra: (string | undefined)[] = []): Set<string> {
  const names = new Set<string>(['localhost', 'localhost.localdomain', 'ip6-localhost']);
  const h = os.hostname().toLowerCase();
  if (h) {
    names.add(h);
    names.add(h.split('.')[0]!);
  }
  for (const e of extra) if (e) names.add(e.toLowerCase());
  return names;
}

/** `Host`/`Origin` authority → bare lower-case host (no port, no brackets); undefined when malformed. */
export function hostOf(authority: string): string | undefined {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end > 0 ? a.slice(1, end) : undefined;
  }
  const colon = a.indexOf(':');
  const host = colon < 0 ? a : a.slice(0, colon);
  return host || undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A JSON media type: application/json or application/<x>+json (parameters allowed). */
export function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const base = ct.split(';')[0]!.trim().toLowerCase();
  return base === 'application/json' || (base.startsWith('application/') && base.endsWith('+json'));
}

/**
 * undefined when the request may proceed to authentication; else the refusal.
 * `names`: from ownHostNames(); any IP literal is accepted as Host (a rebinding page has a name).
 */
export function checkApiRequest(req: IncomingMessage, names: Set<string>): GuardVerdict | undefined {
  const hostHeader = req.headers.host;
  let host: string | undefined;
  if (hostHeader !== undefined) {
    host = hostOf(hostHeader);
    if (!host || (!isIP(host) && !names.has(host) && !names.has(host.replace(/\.$/, '')))) {
      return { status: 421, error: `Host "${hostHeader}" is not one of this node's names (DNS rebinding guard); use its address or add the name to server.names` };
    }
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let o: URL | undefined;
    try {
      o = origin === 'null' ? undefined : new URL(origin);
    } catch {
      o = undefined;
    }
    // the Origin must name the very host:port the request went to (URL drops default ports on both sides)
    let same = false;
    try {
      same = !!o && !!hostHeader && new URL(`${o.protocol}//${hostHeader.trim()}`).host === o.host;
    } catch {
      same = false;
    }
    if (!same) {
      return { status: 403, error: `cross-origin API request from ${origin} refused` };
    }
  }
  const method = req.method ?? 'GET';
  if (!SAFE_METHODS.has(method) && !isJsonContentType(req.headers['content-type']) && req.headers.authorization === undefined) {
    return { status: 403, error: `${method} needs Content-Type: application/json or an Authorization header (cross-site request guard)` };
  }
  return undefined;
}
