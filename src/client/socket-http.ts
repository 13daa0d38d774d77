/**
 * HTTP/JSON over a Unix socket (undici Client with socketPath). Used by the CLI's client for the
 * node socket and by the node agent for supervisor sockets. One pooled Client per socket path.
 */
import { Client } from 'undici';
import type { Readable } from 'node:stream';

const clients = new Map<string, Client>();

function clientFor(socketPath: string): Client {
  let c = clients.get(socketPath);
  if (!c || c.closed || c.destroyed) {
    c = new Client('http://localhost', { socketPath, keepAliveTimeout: 10_000, connect: { timeout: 2000 } });
    clients.set(socketPath, c);
  }
  return c;
}

export interface SocketRequestOptions {
  method?: string;
  body?: string | Buffer | Readable;
  headers?: Record<string, string>;
  /** whole-request timeout (headers + body), ms; 0 = none */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface SocketResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
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
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const ac = new AbortController();
  const timer = timeoutMs > 0 ? setTimeout(() => ac.abort(new Error('ETIMEDOUT')), timeoutMs) : undefined;
  const onAbort = () => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await clientFor(socketPath).request({
      path,
      method: (opts.method ?? 'GET') as 'GET',
      headers,
      body: opts.body,
      signal: ac.signal,
    });
    const text = await res.body.text();
    let json: unknown;
    if (text.length) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: res.statusCode, headers: res.headers, text, json };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = ac.signal.aborted && !opts.signal?.aborted ? 'ETIMEDOUT' : (err.code ?? err.cause?.code ?? err.name ?? 'EUNKNOWN');
    if (opts.signal?.aborted) throw e;
    throw new SocketUnreachable(socketPath, String(code), { cause: e });
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
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

/** Close the pooled client of one socket (or all). Lets a CLI process exit promptly. */
export async function closeSocketClients(socketPath?: string): Promise<void> {
  const list = socketPath ? [[socketPath, clients.get(socketPath)] as const] : [...clients.entries()];
  await Promise.all(
    list.map(async ([p, c]) => {
      clients.delete(p);
      if (c && !c.closed && !c.destroyed) await c.close().catch(() => c.destroy());
    }),
  );
}
