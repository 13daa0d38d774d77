/**
 * HTTP/JSON over a Unix socket. Used by the CLI's client for the node socket and by the node agent
 * for supervisor sockets and ingest.
 *
 * Built on node:http (socketPath + a keep-alive Agent per socket) rather than undici: importing
 * undici costs ~300 ms of CLI start-up on a small machine, more than half of the 400 ms budget of
 * `flux stream list`; node:http is already in the runtime.
 */
import http from 'node:http';
import type { Readable } from 'node:stream';

const agents = new Map<string, http.Agent>();

function agentFor(socketPath: string): http.Agent {
  let a = agents.get(socketPath);
  if (!a) {
    a = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 4, maxFreeSockets: 2, timeout: 4000 });
    agents.set(socketPath, a);
  }
  return a;
}

export interface SocketRequestOptions {
  method?: string;
  body?: string | Buffer | Readable;
  headers?: Record<string, string>;
  /** whole-request timeout (headers + body), ms; 0 = none */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** use a fresh connection that is closed afterwards (streaming bodies) */
  noKeepAlive?: boolean;
}

export interface SocketResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** parsed JSON body, or undefined when the body is not JSON */
  json: unknown;
}

/** Thrown when the socket is absent, refuses, or times out (code: ENOENT, ECONNREFUSED, ETIMEDOUT…). */
export class SocketUnreachable extends Error {
  constructor(
    readonly socketPath: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`socket ${socketPath}: ${code}`, options);
  }
}

export async function socketRequest(socketPath: string, path: string, opts: SocketRequestOptions = {}): Promise<SocketResponse> {
  try {
    return await requestOnce(socketPath, path, opts);
  } catch (e) {
    // a pooled keep-alive connection the server had just closed: retry once on a fresh one
    const retriable = e instanceof SocketUnreachable && (e as SocketUnreachable & { reused?: boolean }).reused && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
    const body = opts.body;
    if (!retriable || !(body === undefined || typeof body === 'string' || Buffer.isBuffer(body))) throw e;
    return requestOnce(socketPath, path, opts);
  }
}

function requestOnce(socketPath: string, path: string, opts: SocketRequestOptions): Promise<SocketResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: 'localhost', ...opts.headers };
    const body = opts.body;
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = String(Buffer.byteLength(body));
    let settled = false;
    let timedOut = false;
    const req = http.request({
      socketPath,
      path,
      method: opts.method ?? 'GET',
      headers,
      agent: opts.noKeepAlive ? false : agentFor(socketPath),
    });
    const fail = (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clear();
      if (opts.signal?.aborted) return reject(opts.signal.reason ?? e);
      const err = new SocketUnreachable(socketPath, timedOut ? 'ETIMEDOUT' : (e.code ?? e.name ?? 'EUNKNOWN'), { cause: e });
      reject(Object.assign(err, { reused: req.reusedSocket }));
    };
    const timer =
      opts.timeoutMs === 0
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            req.destroy(Object.assign(new Error('ETIMEDOUT'), { code: 'ETIMEDOUT' }));
          }, opts.timeoutMs ?? 10_000);
    const onAbort = () => req.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const clear = () => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clear();
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        if (text.length && /json/.test(String(res.headers['content-type'] ?? 'json'))) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    }
  });
}

/** True when something answers HTTP on the socket within the timeout. */
export async function socketAnswers(socketPath: string, path = '/', timeoutMs = 1000): Promise<boolean> {
  try {
    await socketRequest(socketPath, path, { timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** Drop the pooled connections of one socket (or all). Lets a CLI process exit promptly. */
export async function closeSocketClients(socketPath?: string): Promise<void> {
  const list = socketPath ? [[socketPath, agents.get(socketPath)] as const] : [...agents.entries()];
  for (const [p, a] of list) {
    agents.delete(p);
    a?.destroy();
  }
}
