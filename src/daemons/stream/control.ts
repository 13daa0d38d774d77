/**
 * The supervisor's status socket: HTTP/JSON on a Unix socket (mode 0600).
 *   GET /status → SupervisorStatus
 *   POST /ingest (body = MPEG-TS, streamed) → feeds publish:// inputs; 409 when a publisher is on
 *   GET /live.ts → the first rendition's TS as it is produced (chunked, never ends; a reader that
 *     falls 4 MiB behind is cut off rather than buffered): the agent's WebRTC gateway reads it
 *   POST /restart → restart the active input's pipeline; POST /stop → graceful stop
 *   GET /events?since=SEQ&wait=MS&pid=PID → the stream's events after SEQ (a long poll; src/events)
 *   PUT /lease {etcd, id, ttlMs, …} → keep this capture's cluster lease alive (see cluster/lease-keeper.ts);
 *   DELETE /lease → stop keeping it
 */
import http from 'node:http';
import net from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import type { Supervisor } from './supervisor.js';
import type { StreamEventLog } from '../../events/stream-events.js';
import { LeaseKeeper, type LeaseSpec } from '../../cluster/lease-keeper.js';

export interface ControlServerOptions {
  socketPath: string;
  supervisor: Supervisor;
  /** graceful stop of the whole daemon (POST /stop) */
  onStop: () => void;
  /** the stream's event feed (GET /events?since=SEQ&wait=MS, a long poll) */
  events?: StreamEventLog;
}

const LIVE_TAP_MAX_QUEUED = 4 * 1024 * 1024;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** PUT/DELETE /lease: the capture lease lives in this process, so it outlives a crash of the node agent. */
function handleLease(req: http.IncomingMessage, res: http.ServerResponse, state: { keeper?: LeaseKeeper }): void {
  if (req.method === 'DELETE') {
    req.resume();
    state.keeper?.stop();
    state.keeper = undefined;
    json(res, 200, { ok: true });
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    body += c;
    if (body.length > 8192) req.destroy();
  });
  req.on('end', () => {
    let spec: LeaseSpec;
    try {
      spec = JSON.parse(body) as LeaseSpec;
      if (!Array.isArray(spec.etcd) || !spec.etcd.length || !/^\d+$/.test(String(spec.id)) || !(spec.ttlMs > 0)) throw new Error('expected {etcd:[…], id, ttlMs}');
    } catch (e) {
      json(res, 400, { error: `bad lease: ${(e as Error).message}` });
      return;
    }
    if (state.keeper?.spec.id !== String(spec.id)) {
      state.keeper?.stop();
      state.keeper = new LeaseKeeper({ ...spec, id: String(spec.id) }).start();
    }
    json(res, 200, { ok: true, id: state.keeper.spec.id });
  });
}

export function handleControl(opts: ControlServerOptions) {
  const lease: { keeper?: LeaseKeeper } = {};
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = (req.url ?? '/').split('?')[0];
    const sup = opts.supervisor;
    if (url === '/lease' && (req.method === 'PUT' || req.method === 'DELETE')) {
      handleLease(req, res, lease);
      return;
    }
    if (url === '/status' && (req.method === 'GET' || req.method === 'HEAD')) {
      json(res, 200, sup.status());
      return;
    }
    if (url === '/events' && req.method === 'GET' && opts.events) {
      const q = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const ac = new AbortController();
      res.once('close', () => ac.abort());
      void opts.events.page(Number(q.get('since')) || 0, Math.min(Number(q.get('wait')) || 0, 60_000), ac.signal, Number(q.get('pid')) || undefined).then((page) => {
        if (!res.destroyed) json(res, 200, page);
      });
      return;
    }
    if (url === '/ingest' && (req.method === 'POST' || req.method === 'PUT')) {
      if (!sup.stream.inputs.some((i) => i.scheme === 'publish')) {
        req.resume();
        json(res, 404, { error: `stream ${sup.name} has no publish:// input` });
        return;
      }
      const done = sup.publishHub.accept(req);
      if (!done) {
        req.resume();
        res.shouldKeepAlive = false;
        json(res, 409, { error: `stream ${sup.name} already has a publisher` });
        return;
      }
      void done.then((info) => {
        if (!res.writableEnded && !res.destroyed) json(res, 200, { ok: true, bytes: info.bytes, since: info.since });
      });
      return;
    }
    if (url === '/live.ts' && req.method === 'GET') {
      req.resume();
      res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'no-cache' });
      const tap = (chunk: Buffer): void => {
        if (res.writableLength > LIVE_TAP_MAX_QUEUED) res.destroy();
        else res.write(chunk);
      };
      sup.liveTaps.add(tap);
      res.once('close', () => sup.liveTaps.delete(tap));
      return;
    }
    if (req.method === 'POST' && url === '/restart') {
      req.resume();
      void sup.restart('api').then(
        () => json(res, 200, { ok: true, restarts: sup.status().restarts }),
        (e: Error) => json(res, 500, { error: e.message }),
      );
      return;
    }
    if (req.method === 'POST' && url === '/stop') {
      req.resume();
      json(res, 200, { ok: true });
      setImmediate(opts.onStop);
      return;
    }
    req.resume();
    json(res, url === '/status' || url === '/ingest' || url === '/restart' || url === '/stop' ? 405 : 404, { error: `no route ${req.method} ${url}` });
  };
}

/** Is something answering on this Unix socket? */
export function socketAlive(socketPath: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

export class ControlServer {
  readonly server: http.Server;
  constructor(private readonly opts: ControlServerOptions) {
    this.server = http.createServer(handleControl(opts));
    // an ingest body can last for hours
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listen on the socket (a stale socket file from a dead supervisor is replaced; a live one is an error). */
  async listen(): Promise<void> {
    const p = this.opts.socketPath;
    if (await socketAlive(p)) throw new Error(`another supervisor answers on ${p}`);
    await unlink(p).catch(() => {});
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(p, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    await chmod(p, 0o600);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await unlink(this.opts.socketPath).catch(() => {});
  }
}
