/**
 * Cost of play authorization on the hot path: live playlist req/s through the playback handler
 * with a play backend whose verdicts are cached (X-AuthDuration: 3600; every wrk connection
 * presents the same token, so after the first request each one is a session lookup plus the
 * token written into the playlist's URIs) vs the same handler without authorization, measured
 * with wrk in alternating slices (drift in the machine's load hits both alike). Target: ratio ≥ 0.9.
 * Also: new play sessions opened per second (PlayGate.authorize on distinct viewers, no backend).
 *
 *   node --import tsx bench/auth-playlist.ts  (FLUX_BENCH_SLICE_SECONDS=2, FLUX_BENCH_ROUNDS=5,
 *                                              FLUX_BENCH_CONNECTIONS=100, FLUX_BENCH_SESSIONS=200000)
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedConfig, ResolvedStream } from '../src/config/model.js';
import { createPlaybackHandler } from '../src/daemons/node/playback.js';
import { renderMediaPlaylist } from '../src/media/hls/playlist.js';
import { PlayGate } from '../src/auth/play-gate.js';
import { silentLogger } from '../src/core/logger.js';
import { wrkSlice } from './wrk.js';

const SLICE = Number(process.env.FLUX_BENCH_SLICE_SECONDS ?? 2);
const ROUNDS = Number(process.env.FLUX_BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.FLUX_BENCH_CONNECTIONS ?? 100);
const SESSIONS = Number(process.env.FLUX_BENCH_SESSIONS ?? 200_000);
const THREADS = Math.max(1, Math.min(2, os.cpus().length));
const log = (msg: string) => process.stderr.write(`${msg}\n`);



async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function resolvedConfig(stream: ResolvedStream, backend?: string): ResolvedConfig {
  return {
    server: { host: '127.0.0.1', http: 0, rtmp: false, srt: false, dataDir: '', runDir: '', logLevel: 'silent', httpWorkers: 0 },
    streams: { [stream.name]: stream },
    storages: {},
    auth: { users: [], playBackend: backend, playBackendTimeoutMs: 3000, playCacheMs: 30_000, sessionTimeoutMs: 60_000 },
    events: { sinks: [] },
    webrtc: { iceServers: [], maxSessions: 200, iceTimeoutMs: 10_000 },
  };
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-auth-'));
  const servers: Server[] = [];
  const gates: PlayGate[] = [];
  try {
    const root = path.join(tmp, 'bench');
    const hour = '2026/01/01/00';
    await mkdir(path.join(root, 'v1a1', hour), { recursive: true });
    const t0 = Date.UTC(2026, 0, 1);
    const segs = Array.from({ length: 6 }, (_, i) => ({ uri: `${hour}/${t0 + i * 2000}-2000.ts`, durationMs: 2000, programDateTime: t0 + i * 2000 }));
    await writeFile(path.join(root, 'v1a1', 'index.m3u8'), renderMediaPlaylist({ targetDuration: 2, mediaSequence: 1234, discontinuitySequence: 0, segments: segs }));
    const stream: ResolvedStream = {
      name: 'bench', disabled: false, inputs: [], root, push: [], hls: { segmentDurationMs: 2000, window: 6 },
      auth: { playToken: true, secureLink: false }, renditions: ['v1a1'],
    };
    const open: ResolvedStream = { ...stream, auth: { playToken: false, secureLink: false } };

    // the play backend: allows, verdict cached an hour
    let asked = 0;
    const backend = createServer((_req, res) => {
      asked++;
      res.writeHead(200, { 'X-AuthDuration': '3600' }).end();
    });
    servers.push(backend);
    const backendUrl = `http://127.0.0.1:${await listen(backend)}/auth`;

    const gate = new PlayGate(silentLogger);
    gates.push(gate);
    gate.apply(resolvedConfig(stream, backendUrl));
    const withAuth = createPlaybackHandler({
      getStream: (n) => (n === 'bench' ? stream : undefined), listStreams: () => ['bench'], logger: silentLogger,
      authorize: (req, s, q, proto) => gate.authorize(req, s, q, proto),
    });
    const noAuth = createPlaybackHandler({ getStream: (n) => (n === 'bench' ? open : undefined), listStreams: () => ['bench'], logger: silentLogger });
    const mk = (h: typeof noAuth) => {
      const s = createServer((req, res) => void h(req, res));
      servers.push(s);
      return listen(s);
    };
    const [authPort, plainPort] = [await mk(withAuth), await mk(noAuth)];
    const urls = { auth: `http://127.0.0.1:${authPort}/bench/tracks-v1a1/index.m3u8?token=bench-token`, plain: `http://127.0.0.1:${plainPort}/bench/tracks-v1a1/index.m3u8` };

    // sanity: the authorized playlist carries the token, the plain one is the file
    const a = await fetch(urls.auth);
    const aBody = await a.text();
    if (a.status !== 200 || !aBody.includes('.ts?token=bench-token')) throw new Error(`authorized playlist: ${a.status} ${aBody.slice(0, 200)}`);
    // (another viewer: the same address and User-Agent without a token would join the session above)
    if ((await fetch(urls.auth.split('?')[0]!, { headers: { 'user-agent': 'another-viewer' } })).status !== 403) throw new Error('a request without the token must be refused');
    if ((await fetch(urls.plain)).status !== 200) throw new Error('plain playlist');

    const tallies = { auth: { requests: 0, seconds: 0 }, plain: { requests: 0, seconds: 0 } };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('auth' | 'plain')[] = round % 2 === 0 ? ['plain', 'auth'] : ['auth', 'plain'];
      for (const n of order) await wrkSlice(urls[n], tallies[n], { threads: THREADS, connections: CONNECTIONS, seconds: SLICE, log });
    }
    const rps = { auth: tallies.auth.requests / tallies.auth.seconds, plain: tallies.plain.requests / tallies.plain.seconds };
    log(`no auth: ${Math.round(rps.plain)} req/s; cached backend verdicts: ${Math.round(rps.auth)} req/s; backend asked ${asked} times`);

    // sessions opened per second: distinct viewers (address + User-Agent) of a stream without a backend
    const sgate = new PlayGate(silentLogger);
    gates.push(sgate);
    sgate.apply(resolvedConfig(open));
    const q = new URLSearchParams();
    const start = performance.now();
    for (let i = 0; i < SESSIONS; i++) {
      const req = { socket: { remoteAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, headers: { 'user-agent': 'bench' } } as unknown as IncomingMessage;
      const v = await sgate.authorize(req, open, q, 'hls');
      if (!v.ok) throw new Error('session refused');
    }
    const sessionsPerS = SESSIONS / ((performance.now() - start) / 1000);
    if (sgate.sessions.size !== SESSIONS) throw new Error(`expected ${SESSIONS} sessions, have ${sgate.sessions.size}`);
    log(`${Math.round(sessionsPerS)} sessions opened/s (${SESSIONS} sessions)`);

    const r2 = (x: number) => Math.round(x * 100) / 100;
    console.log(JSON.stringify({
      metrics: {
        playlist_rps_no_auth: { value: Math.round(rps.plain), unit: 'req/s', better: 'higher' },
        playlist_rps_cached_backend: { value: Math.round(rps.auth), unit: 'req/s', better: 'higher' },
        auth_ratio: { value: r2(rps.auth / rps.plain), unit: 'x', better: 'higher' },
        sessions_opened_per_s: { value: Math.round(sessionsPerS), unit: 'sessions/s', better: 'higher' },
      },
      notes:
        `wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} alternating ${SLICE}s slices, 127.0.0.1, keep-alive; one node:http server per side around createPlaybackHandler ` +
        `(node ${process.version}); auth side: play_token + play backend answering 200 with X-AuthDuration: 3600 (asked ${asked} times in all), ` +
        `the token written into every playlist URI; sessions: ${SESSIONS} distinct viewers through PlayGate.authorize, no backend; ${os.cpus().length} CPUs shared with wrk`,
    }));
  } finally {
    for (const g of gates) g.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`auth-playlist bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
