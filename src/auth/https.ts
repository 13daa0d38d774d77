/**
 * The TLS listener (server.https): the same request handler as the HTTP port, with the certificate
 * and key read from files and re-read when either changes (a renewed certificate takes effect
 * for new connections without a restart; a pair that does not load keeps the previous one and is
 * logged). Plain HTTP is then served as well, redirected to HTTPS (308), or not listened on at all.
 */
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../core/logger.js';
import { InputError } from '../core/errors.js';
import { LISTEN_BACKLOG, SERVER_OPTIONS } from '../core/http-server-options.js';

export interface HttpsOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  logger: Logger;
  tune?: (s: https.Server) => void;
  /** debounce of file changes (default 300 ms) */
  reloadDelayMs?: number;
}

async function readPair(cert: string, key: string): Promise<{ cert: Buffer; key: Buffer }> {
  const [c, k] = await Promise.all([readFile(cert), readFile(key)]);
  createSecureContext({ cert: c, key: k }); // throws when they do not load or do not match
  return { cert: c, key: k };
}

export class HttpsListener {
  private server: https.Server | undefined;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  reloads = 0;

  constructor(private readonly o: HttpsOptions) {}

  async start(): Promise<void> {
    let pair;
    try {
      pair = await readPair(this.o.cert, this.o.key);
    } catch (e) {
      throw new InputError(`server.https: cannot load ${this.o.cert} / ${this.o.key}: ${(e as Error).message}`, { cause: e, code: 'E_TLS' });
    }
    const server = https.createServer({ ...SERVER_OPTIONS, ...pair }, this.o.handler);
    this.o.tune?.(server);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.o.port, host: this.o.host, exclusive: true, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: NodeJS.ErrnoException) => {
      throw new InputError(`cannot listen on HTTPS ${this.o.host}:${this.o.port}: ${e.code ?? e.message}`, { cause: e, code: 'E_LISTEN' });
    });
    // watch the directories: certificate renewals usually replace the files (rename), which a
    // watch on the file itself would miss
    for (const dir of new Set([path.dirname(this.o.cert), path.dirname(this.o.key)])) {
      const names = new Set([this.o.cert, this.o.key].filter((f) => path.dirname(f) === dir).map((f) => path.basename(f)));
      try {
        const w = watch(dir, (_ev, name) => {
          if (!name || names.has(name.toString())) this.schedule();
        });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch (e) {
        this.o.logger.warn({ dir, err: (e as Error).message }, 'cannot watch the certificate directory: changes need a restart');
      }
    }
    this.o.logger.info({ host: this.o.host, port: this.o.port, cert: this.o.cert }, 'https listener started');
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.o.reloadDelayMs ?? 300);
    this.timer.unref();
  }

  async reload(): Promise<void> {
    try {
      const pair = await readPair(this.o.cert, this.o.key);
      this.server?.setSecureContext(pair);
      this.reloads++;
      this.o.logger.info({ cert: this.o.cert }, 'https certificate reloaded');
    } catch (e) {
      this.o.logger.error({ cert: this.o.cert, err: (e as Error).message }, 'https certificate change does not load: keeping the previous one');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const s = this.server;
    if (!s?.listening) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.closeAllConnections();
        resolve();
      }, 2000);
      t.unref();
      s.close(() => {
        clearTimeout(t);
        resolve();
      });
      s.closeIdleConnections();
    });
  }
}

/** The plain-HTTP answer in redirect mode: 308 to the same path on the HTTPS port. */
export function redirectToHttps(httpsPort: number): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');
    const target = `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url ?? '/'}`;
    res.writeHead(308, { location: target, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(target) + 1 });
    res.end(target + '\n');
  };
}
