/**
 * Ask an HTTP authorization backend (Flussonic's on_play / on_publish protocol): a GET with the
 * session's parameters in the query string. 2xx allows; any other status (redirects included,
 * never followed) denies; headers X-AuthDuration (seconds the verdict holds), X-Max-Sessions and
 * X-UserId are read. A timeout, a refused connection or an unparsable answer is a failure, which
 * the caller turns into deny (or allow with fail_open).
 */
import http from 'node:http';
import https from 'node:https';

export interface BackendAnswer {
  /** true when the backend answered 2xx */
  allow: boolean;
  status: number;
  durationS?: number;
  maxSessions?: number;
  userId?: string;
}

export type BackendResult = { ok: true; answer: BackendAnswer } | { ok: false; error: string };

const MAX_BODY = 64 * 1024;
const agentHttp = new http.Agent({ keepAlive: true, maxSockets: 64 });
const agentHttps = new https.Agent({ keepAlive: true, maxSockets: 64 });

function intHeader(v: string | string[] | undefined, max: number): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || !/^\s*\d{1,9}\s*$/.test(s)) return undefined;
  return Math.min(Number(s), max);
}

export function askBackend(url: string, params: Record<string, string | number | undefined>, timeoutMs: number): Promise<BackendResult> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ ok: false, error: `bad backend URL ${url}` });
      return;
    }
    for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, String(v));
    const mod = u.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (r: BackendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = mod.get(u, { agent: u.protocol === 'https:' ? agentHttps : agentHttp, headers: { accept: '*/*', 'user-agent': 'flux-auth' } }, (res) => {
      const status = res.statusCode ?? 0;
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_BODY) res.destroy();
      });
      res.on('error', () => undefined);
      const h = res.headers;
      const answer: BackendAnswer = {
        allow: status >= 200 && status < 300,
        status,
        durationS: intHeader(h['x-authduration'], 7 * 86400),
        maxSessions: intHeader(h['x-max-sessions'], 1e9),
        userId: typeof h['x-userid'] === 'string' ? h['x-userid'].slice(0, 256) : undefined,
      };
      // the verdict is in the status line and headers: do not wait for a slow body, and do not let
      // one that never ends hold a pooled socket
      res.resume();
      const drain = setTimeout(() => res.destroy(), timeoutMs);
      drain.unref();
      res.on('close', () => clearTimeout(drain));
      finish({ ok: true, answer });
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }));
  });
}
