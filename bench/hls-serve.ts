/**
 * HLS serving throughput: Flux's playback handler on a node:http server vs nginx serving the same
 * files from the same directory, measured with wrk in the same run.
 *
 *   node --import tsx bench/hls-serve.ts   (FLUX_BENCH_SLICE_SECONDS=2, FLUX_BENCH_ROUNDS=5, FLUX_BENCH_CONNECTIONS=200,
 *                                           FLUX_BENCH_WORKERS=auto|N|0)
 *
 * The machine is shared (load from other work moves a lot), so each side is measured in short
 * alternating slices (flux, nginx, nginx, flux, …) and req/s = all requests / all seconds: drift
 * in the machine's load then hits both sides alike and the ratio stays meaningful.
 *
 * Two resources: a hot ~1 MB segment and a live media playlist (6 segments). nginx runs with
 * `worker_processes 1` (one worker process, like Flux's single Node process), sendfile on,
 * access_log off, the same Cache-Control / CORS headers. Prints one JSON line last:
 * flux_segment_rps, nginx_segment_rps, segment_ratio, flux_playlist_rps, nginx_playlist_rps,
 * playlist_ratio (+ flux_segment_disk_rps: Flux with its segment memory cache off).
 *
 * With FLUX_BENCH_WORKERS (default auto = CPUs − 1, at least 1, as `server.http_workers: auto`; 0 skips
 * it), Flux with playback workers is measured too: this process plays the agent (a node:http server
 * with the playback handler, accepting on the port, and the internal socket for what workers pass
 * on) and src/daemons/node/playback-workers.ts forks N real workers (dist/bundle/playback-worker.js
 * when built, else the sources under tsx) that share its listening socket, against nginx with
 * `worker_processes N + 1` (the agent accepts too: as many serving processes on each side): flux_workers_segment_rps, nginx_workers_segment_rps, workers_segment_ratio,
 * flux_workers_playlist_rps, nginx_workers_playlist_rps, workers_playlist_ratio (target ≥ 0.8).
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ResolvedStream } from '../src/config/model.js';
import { createPlaybackHandler } from '../src/daemons/node/playback.js';
import { renderMediaPlaylist } from '../src/media/hls/playlist.js';
import { wrkSlice, type Tally } from './wrk.js';
import { runCommand } from '../src/core/run.js';
import { PlaybackWorkers, playbackWorkerScript } from '../src/daemons/node/playback-workers.js';
import { silentLogger } from '../src/core/logger.js';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const SLICE = Number(process.env.FLUX_BENCH_SLICE_SECONDS ?? 2);
const ROUNDS = Number(process.env.FLUX_BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.FLUX_BENCH_CONNECTIONS ?? 200);
const THREADS = Math.max(1, Math.min(2, os.cpus().length));
const NGINX = process.env.FLUX_NGINX ?? 'nginx';
const WORKERS_ENV = process.env.FLUX_BENCH_WORKERS ?? 'auto';
const WORKERS = WORKERS_ENV === 'auto' ? Math.max(1, os.availableParallelism() - 1) : Number(WORKERS_ENV);
if (!Number.isInteger(WORKERS) || WORKERS < 0) throw new Error(`FLUX_BENCH_WORKERS: a whole number or auto, not ${WORKERS_ENV}`);

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function waitPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}




/** Alternating slices (A B, B A, A B …) for every target; returns req/s per target. */
async function measure(targets: Record<string, string>): Promise<Record<string, number>> {
  const names = Object.keys(targets);
  const tallies = Object.fromEntries(names.map((n) => [n, { requests: 0, seconds: 0 }])) as Record<string, Tally>;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const n of order) await wrkSlice(targets[n]!, tallies[n]!, { threads: THREADS, connections: CONNECTIONS, seconds: SLICE, log });
  }
  const out: Record<string, number> = {};
  for (const n of names) {
    out[n] = tallies[n]!.requests / tallies[n]!.seconds;
    log(`${n}: ${Math.round(out[n]!)} req/s (${tallies[n]!.requests} requests in ${tallies[n]!.seconds.toFixed(1)} s)`);
  }
  return out;
}

async function get(url: string): Promise<{ status: number; body: Buffer; type: string | null; cache: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type'), cache: r.headers.get('cache-control') };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-hls-'));
  const nginxes: ReturnType<typeof spawn>[] = [];
  let workers: PlaybackWorkers | undefined;
  const servers: Server[] = [];
  try {
    // --- the files: a 1 MB segment (whole TS packets) and a live playlist naming 6 segments
    const root = path.join(tmp, 'data', 'bench');
    const hour = '2026/01/01/00';
    const segDir = path.join(root, 'v1a1', hour);
    await mkdir(segDir, { recursive: true });
    const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
    const segs = Array.from({ length: 6 }, (_, i) => ({ uri: `${hour}/${t0 + i * 2000}-2000.ts`, durationMs: 2000, programDateTime: t0 + i * 2000 }));
    const packets = 5319; // 5319 × 188 = 999,972 bytes
    const seg = randomBytes(packets * 188);
    for (let i = 0; i < packets; i++) seg[i * 188] = 0x47;
    for (const s of segs) await writeFile(path.join(root, 'v1a1', s.uri), seg);
    await writeFile(path.join(root, 'v1a1', 'index.m3u8'), renderMediaPlaylist({ targetDuration: 2, mediaSequence: 1234, discontinuitySequence: 0, segments: segs }));
    const segUrlPath = `/bench/tracks-v1a1/${segs[5]!.uri}`;
    const plUrlPath = '/bench/tracks-v1a1/index.m3u8';

    // nginx reads the same files through the same URL layout (tracks-v1a1 → v1a1)
    const www = path.join(tmp, 'www', 'bench');
    await mkdir(www, { recursive: true });
    await symlink(path.join(root, 'v1a1'), path.join(www, 'tracks-v1a1'));
    // nginx workers drop to `nobody` when started as root: make the tree readable
    for (const d of [tmp, path.join(tmp, 'data'), root, path.join(root, 'v1a1'), path.join(tmp, 'www'), www]) await chmod(d, 0o755);
    for (let d = segDir; d !== path.join(root, 'v1a1'); d = path.dirname(d)) await chmod(d, 0o755);

    // --- Flux: the playback handler on a plain node:http server (keep-alive on)
    const stream: ResolvedStream = {
      name: 'bench',
      disabled: false,
      inputs: [],
      root,
      push: [],
      hls: { segmentDurationMs: 2000, window: 6 },
      auth: { playToken: false, secureLink: false },
      renditions: ['v1a1'],
    };
    const mkServer = (segmentCacheBytes?: number) => {
      const opts: Parameters<typeof createPlaybackHandler>[0] = { getStream: (n) => (n === 'bench' ? stream : undefined), listStreams: () => ['bench'] };
      if (segmentCacheBytes !== undefined) opts.segmentCacheBytes = segmentCacheBytes;
      const handler = createPlaybackHandler(opts);
      const server = createServer({ keepAlive: true }, (req, res) => {
        handler(req, res).then((ok) => {
          if (!ok) {
            res.writeHead(404);
            res.end();
          }
        }, () => res.destroy());
      });
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
      servers.push(server);
      return server;
    };
    const fluxPort = await listen(mkServer());
    const fluxDiskPort = await listen(mkServer(0));
    // reference: the cheapest possible node:http answer with the same bytes and headers
    const plConst = await readFile(path.join(root, 'v1a1', 'index.m3u8'));
    const bare = createServer({ keepAlive: true }, (_req, res) => {
      res.writeHead(200, ['Content-Type', 'application/vnd.apple.mpegurl', 'Content-Length', String(plConst.length), 'Cache-Control', 'no-cache', 'Access-Control-Allow-Origin', '*']);
      res.end(plConst);
    });
    bare.keepAliveTimeout = 65_000;
    servers.push(bare);
    const barePort = await listen(bare);

    // --- nginx, one worker, its own prefix and config
    const nginxPort = await freePort();
    const nginxConf = (workers: number, port: number, tag: string) => `worker_processes ${workers};
pid ${tmp}/nginx${tag}.pid;
error_log ${tmp}/nginx${tag}-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/nginx-body;
  proxy_temp_path ${tmp}/nginx-proxy;
  fastcgi_temp_path ${tmp}/nginx-fastcgi;
  uwsgi_temp_path ${tmp}/nginx-uwsgi;
  scgi_temp_path ${tmp}/nginx-scgi;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 10000000;
  open_file_cache max=1000 inactive=20s;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${path.join(tmp, 'www')};
    location ~ \\.m3u8$ { add_header Cache-Control no-cache; add_header Access-Control-Allow-Origin *; }
    location ~ \\.ts$ { add_header Cache-Control "public, max-age=31536000, immutable"; add_header Access-Control-Allow-Origin *; }
  }
}
`;
    const nginxVersion = ((await runCommand(NGINX, ['-v'])).stderr.match(/nginx\/[\d.]+/) ?? ['nginx'])[0];
    const startNginx = async (workers: number, port: number, tag: string) => {
      await writeFile(path.join(tmp, `nginx${tag}.conf`), nginxConf(workers, port, tag));
      const proc = spawn(NGINX, ['-p', tmp, '-e', path.join(tmp, `nginx${tag}-error.log`), '-c', path.join(tmp, `nginx${tag}.conf`), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
      nginxes.push(proc);
      let err = '';
      proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exit = new Promise<never>((_, reject) => proc.once('exit', (c) => reject(new Error(`nginx exited (${c}): ${err}`))));
      await Promise.race([waitPort(port, 5000), exit]);
      exit.catch(() => undefined);
    };
    await startNginx(1, nginxPort, '');

    // --- Flux with playback workers (this process = the agent) and nginx with as many workers
    let workersPort = 0;
    let nginxWorkersPort = 0;
    if (WORKERS > 0) {
      const live = createPlaybackHandler({ getStream: (n) => (n === 'bench' ? stream : undefined), listStreams: () => ['bench'] });
      const handler = (req: IncomingMessage, res: ServerResponse) => {
        live(req, res).then((ok) => {
          if (!ok) {
            res.writeHead(404);
            res.end();
          }
        }, () => res.destroy());
      };
      const agentServer = createServer({ keepAlive: true }, handler);
      agentServer.keepAliveTimeout = 65_000;
      agentServer.headersTimeout = 66_000;
      servers.push(agentServer);
      workersPort = await listen(agentServer);
      const bundled = fileURLToPath(new URL('../dist/bundle/playback-worker.js', import.meta.url));
      const script = process.env.FLUX_BENCH_WORKER_SCRIPT ?? (await access(bundled).then(() => bundled, async () => (await playbackWorkerScript()).script));
      workers = new PlaybackWorkers({
        listener: agentServer,
        socketPath: path.join(tmp, 'playback.sock'),
        handler,
        logger: silentLogger,
        logLevel: () => 'warn',
        routes: () => ({ routes: [{ name: 'bench', root, renditions: ['v1a1'], hls: { segmentDurationMs: 2000, window: 6 } }], names: ['bench'], killed: [], meter: false }),
        onUsage: () => undefined,
        script,
      });
      await workers.start(WORKERS);
      const w = workers;
      const t0w = Date.now();
      while (w.readyCount() < WORKERS) {
        if (Date.now() - t0w > 20_000) throw new Error(`playback workers not ready (${w.readyCount()}/${WORKERS})`);
        await new Promise((r) => setTimeout(r, 50));
      }
      log(`flux: ${WORKERS} playback workers (${script})`);
      nginxWorkersPort = await freePort();
      // as many serving processes on each side: the agent accepts on the port too
      await startNginx(WORKERS + 1, nginxWorkersPort, '-workers');
    }

    // --- sanity: both serve the same bytes with the right types
    const bases: Record<string, string> = { flux: `http://127.0.0.1:${fluxPort}`, fluxDisk: `http://127.0.0.1:${fluxDiskPort}`, nginx: `http://127.0.0.1:${nginxPort}` };
    if (WORKERS > 0) {
      bases.fluxWorkers = `http://127.0.0.1:${workersPort}`;
      bases.nginxWorkers = `http://127.0.0.1:${nginxWorkersPort}`;
    }
    const plBody = await readFile(path.join(root, 'v1a1', 'index.m3u8'));
    for (const [name, base] of Object.entries(bases)) {
      const s = await get(base + segUrlPath);
      const p = await get(base + plUrlPath);
      if (s.status !== 200 || !s.body.equals(seg) || s.type !== 'video/mp2t') throw new Error(`${name}: bad segment response ${s.status} ${s.type} ${s.body.length}`);
      if (p.status !== 200 || !p.body.equals(plBody) || p.type !== 'application/vnd.apple.mpegurl') throw new Error(`${name}: bad playlist response ${p.status} ${p.type}`);
    }

    // --- measure: alternating slices per resource
    const segRps = await measure({ flux: bases.flux + segUrlPath, nginx: bases.nginx + segUrlPath, fluxDisk: bases.fluxDisk + segUrlPath });
    const plRps = await measure({ flux: bases.flux + plUrlPath, nginx: bases.nginx + plUrlPath, bare: `http://127.0.0.1:${barePort}/` });
    const [fluxSeg, nginxSeg, fluxDiskSeg] = [segRps.flux!, segRps.nginx!, segRps.fluxDisk!];
    const [fluxPl, nginxPl, barePl] = [plRps.flux!, plRps.nginx!, plRps.bare!];
    const wSeg = WORKERS > 0 ? await measure({ fluxWorkers: bases.fluxWorkers! + segUrlPath, nginxWorkers: bases.nginxWorkers! + segUrlPath }) : undefined;
    const wPl = WORKERS > 0 ? await measure({ fluxWorkers: bases.fluxWorkers! + plUrlPath, nginxWorkers: bases.nginxWorkers! + plUrlPath }) : undefined;
    const served = workers?.totals;

    const r2 = (x: number) => Math.round(x * 100) / 100;
    const result = {
      metrics: {
        flux_segment_rps: { value: Math.round(fluxSeg), unit: 'req/s', better: 'higher' },
        nginx_segment_rps: { value: Math.round(nginxSeg), unit: 'req/s', better: 'higher' },
        segment_ratio: { value: r2(fluxSeg / nginxSeg), unit: 'x', better: 'higher' },
        flux_playlist_rps: { value: Math.round(fluxPl), unit: 'req/s', better: 'higher' },
        nginx_playlist_rps: { value: Math.round(nginxPl), unit: 'req/s', better: 'higher' },
        playlist_ratio: { value: r2(fluxPl / nginxPl), unit: 'x', better: 'higher' },
        flux_segment_disk_rps: { value: Math.round(fluxDiskSeg), unit: 'req/s', better: 'higher' },
        node_bare_playlist_rps: { value: Math.round(barePl), unit: 'req/s', better: 'higher' },
        ...(wSeg && wPl
          ? {
              flux_workers_segment_rps: { value: Math.round(wSeg.fluxWorkers!), unit: 'req/s', better: 'higher' },
              nginx_workers_segment_rps: { value: Math.round(wSeg.nginxWorkers!), unit: 'req/s', better: 'higher' },
              workers_segment_ratio: { value: r2(wSeg.fluxWorkers! / wSeg.nginxWorkers!), unit: 'x', better: 'higher' },
              flux_workers_playlist_rps: { value: Math.round(wPl.fluxWorkers!), unit: 'req/s', better: 'higher' },
              nginx_workers_playlist_rps: { value: Math.round(wPl.nginxWorkers!), unit: 'req/s', better: 'higher' },
              workers_playlist_ratio: { value: r2(wPl.fluxWorkers! / wPl.nginxWorkers!), unit: 'x', better: 'higher' },
            }
          : {}),
      },
      notes:
        `wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} alternating ${SLICE}s slices per server, 127.0.0.1, keep-alive; ${seg.length} B segment, ${plBody.length} B live playlist; ` +
        `Flux = createPlaybackHandler on one node:http server (one process, node ${process.version}; segments served from its in-memory cache of recent segments, ` +
        `flux_segment_disk_rps = same with the cache off: fd + stream per request); ${nginxVersion} worker_processes 1, sendfile, open_file_cache, access_log off, same headers; ` +
        `node_bare_playlist_rps = a bare node:http server answering the same playlist bytes from a constant (the node:http floor); ` +
        (WORKERS > 0
          ? `flux_workers_* = this process as the agent plus ${WORKERS} playback worker processes sharing its listening socket (server.http_workers: ${WORKERS}; ` +
            `${served?.served ?? 0} requests answered by workers and reported, the rest by the agent), nginx_workers_* = the same nginx with worker_processes ${WORKERS + 1} (as many processes accepting as Flux: agent + workers); `
          : '') +
        `${os.cpus().length} CPUs shared with wrk and whatever else runs on the machine`,
    };
    console.log(JSON.stringify(result));
  } finally {
    await workers?.stop();
    for (const nginx of nginxes) {
      if (nginx.exitCode !== null) continue;
      const exited = new Promise((r) => nginx.once('exit', r));
      nginx.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (nginx.exitCode === null) nginx.kill('SIGKILL');
    }
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
