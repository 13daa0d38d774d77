/**
 * Entry of a playback worker (server.http_workers > 0): one of N processes the node agent forks to
 * serve live HLS on every core. No oclif, no commander: started by the agent only.
 *
 *   playback-worker --index N --socket <run>/playback.sock [--log-level info]
 *
 * The agent sends its listening plain-HTTP server over IPC ({type:'listen'} + the handle); this
 * process's own http.Server (the agent's options and timeouts) listens on that handle, so it
 * accepts on the same socket as the agent (the kernel spreads the connections). Live playlists and
 * segments of the streams the agent routes here (local, enabled, unprotected: routes.ts) are
 * answered by the same playback handler the agent uses (the same bytes and headers; playlists from
 * memory, dropped when a directory watch sees them replaced and revalidated by one stat per 150 ms
 * at most; recent segments from memory); everything else
 * is passed to the agent (proxy.ts). The viewers served are reported to the agent once a second,
 * so its play sessions, API and metrics count them. The worker exits when the agent's IPC channel
 * goes (the agent stopped or died): it never outlives its agent.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { pino } from 'pino';
import type { Logger } from '../../core/logger.js';
import { SERVER_OPTIONS, tuneServer } from '../../core/http-server-options.js';
import { type AgentToWorker, type ViewerUsage, type WorkerToAgent } from '../../protocol/playback-worker.js';
import { createPlaybackHandler, protoOf } from '../node/playback.js';
import { RouteTable } from './routes.js';
import { createProxy } from './proxy.js';
import { TaggedResponse } from './tagged-response.js';

const REPORT_MS = 1000;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function send(m: WorkerToAgent): void {
  // with a callback, a failed send (the agent just went) is not an 'error' event
  if (process.connected) process.send!(m, undefined, undefined, () => undefined);
}

function main(): void {
  const index = Number(arg('index') ?? 0);
  const socketPath = arg('socket');
  if (!process.send || !socketPath) {
    process.stderr.write('playback-worker: started by the node agent only (IPC channel and --socket)\n');
    process.exit(2);
  }
  const tag = String(index);
  // log lines go to the agent, which writes them to its log with the worker's index
  const logger: Logger = pino({ level: arg('log-level') ?? 'info', base: { worker: index } }, { write: (line: string) => send({ type: 'log', line }) });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.stack ?? String(err) }, 'uncaught exception: playback worker exits (the agent restarts it)');
    setTimeout(() => process.exit(1), 50);
  });
  // the agent is gone (stopped, crashed, killed): so is this worker
  process.on('disconnect', () => process.exit(0));

  const table = new RouteTable();
  // the agent's own handler and freshness rule: playlists dropped when their directory's watch sees
  // them replaced, and never trusted for more than 150 ms without a stat
  const playback = createPlaybackHandler({ getStream: (n) => table.stream(n), listStreams: () => [], logger, watchPlaylists: true });
  const proxy = createProxy(socketPath, `${tag} proxied`, logger);

  // viewers served since the last report, by stream + address + User-Agent + protocol
  let viewers = new Map<string, ViewerUsage>();
  let bytes = new Map<string, number>();
  let served = 0;
  let proxied = 0;
  const flush = (): void => {
    if (viewers.size === 0 && served === 0 && proxied === 0) return;
    send({ type: 'usage', viewers: [...viewers.values()], bytes: [...bytes], served, proxied });
    viewers = new Map();
    bytes = new Map();
    served = 0;
    proxied = 0;
  };
  const report = setInterval(flush, REPORT_MS);
  report.unref();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // (proxy.ts tags what it passes on itself)
    const m = table.match(req);
    if (!m) {
      proxied++;
      proxy(req, res);
      return;
    }
    served++;
    const ip = req.socket.remoteAddress ?? '';
    const ua = req.headers['user-agent'] ?? '';
    const proto = protoOf(m.last);
    const key = `${m.stream.name}\0${ip}\0${ua}\0${proto}`;
    const v = viewers.get(key);
    if (v) v[5]++;
    else viewers.set(key, [m.stream.name, ip, ua, req.headers.referer ?? '', proto, 1]);
    if (table.meter) {
      const sock = req.socket;
      const before = sock.bytesWritten;
      res.once('finish', () => bytes.set(ip, (bytes.get(ip) ?? 0) + sock.bytesWritten - before));
    }
    (res as TaggedResponse).workerTag = tag;
    playback(req, res).then(
      (answered) => {
        if (!answered && !res.headersSent) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('not found\n');
        }
      },
      (err: unknown) => {
        logger.error({ err: (err as Error).message, url: req.url }, 'playback request failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('internal error\n');
        } else res.destroy();
      },
    );
  };

  const server = http.createServer({ ...SERVER_OPTIONS, ServerResponse: TaggedResponse }, onRequest);
  tuneServer(server);
  let listening: NetServer | undefined;

  const stop = (): void => {
    clearInterval(report);
    flush();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 2000).unref();
  };

  process.on('message', (raw: unknown, handle: unknown) => {
    const m = raw as AgentToWorker;
    if (m.type === 'listen') {
      if (listening || !handle) return;
      listening = handle as NetServer;
      // The http.Server takes over the shared listening handle itself rather than being handed the
      // sockets the received net.Server accepts ('connection' events): a server that never listens
      // does not track its connections, so its headersTimeout (slow-header clients) would never be
      // enforced and closeIdleConnections() at stop would find nothing.
      server.on('error', (err) => logger.error({ err: err.message }, 'shared listener error'));
      // (a connection the received server accepted before the takeover is still served)
      listening.on('connection', (sock: Socket) => server.emit('connection', sock));
      server.listen(listening, () => send({ type: 'ready' }));
    } else if (m.type === 'routes') table.update(m);
    else if (m.type === 'stop') stop();
  });
  send({ type: 'started' });
}

main();
