/**
 * Scale curves (issue #14): what a node costs as its stream count grows, the segmenter's throughput
 * per core, and live-playlist latency under many clients.
 *
 *   node --import tsx bench/scale.ts [--ladder 1,10,50,200] [--window 20] [--wrk-at N]
 *        [--wrk-connections 1000] [--wrk-seconds 10] [--no-wrk] [--no-segmenter] [--sup-mb 50]
 *   npm run bench -- scale --runs 1 [-- --ladder 1,10,50]
 *
 * Streams: for each N of the ladder, a fresh node (temp dir, HTTP on a free 127.0.0.1 port) with N
 * streams s001..sN, each `inputs: [{url: udp://127.0.0.1:PORT}]` (native TS passthrough: no ffmpeg),
 * hls segment_duration 2s. ONE sender process (bench/udp-fanout.ts) loops a small pre-encoded clip
 * (160x120 25 fps H.264 + AAC, constant 240 kbit/s mux rate, keyint 2 s, 120 s; made once with ffmpeg
 * into os.tmpdir()) and sends each 1316-byte datagram to all N ports at real-time pace, so 200
 * streams cost one cheap sender, not 200 ffmpegs. Once every stream has written a segment (+2 s), the
 * window opens (--window, 20 s); CPU is utime+stime from /proc/<pid>/stat over the window.
 *
 * Metrics per level N (a level is skipped, and noted, when N supervisors would not fit in free memory:
 * N × the per-supervisor estimate, --sup-mb or the median measured at the previous level, + 512 MB):
 *  - agent_cpu_pct_N: the node agent's CPU over the window, % of one core,
 *  - agent_rss_mb_N: the agent's RSS at the end of the window (/proc/<pid>/smaps_rollup),
 *  - supervisors_cpu_pct_per_stream_N: CPU of all supervisors (and any child of theirs) over the
 *    window ÷ N, % of one core (their total is in the notes),
 *  - supervisor_rss_mb_N: median RSS of the N supervisors (RSS counts the shared node binary pages,
 *    ~40 MB, in every process: the real cost of one more supervisor is lower),
 *  - streams_ok_N: streams that wrote >= max(1, window/2 s − 2) segments starting inside the window
 *    (counted from the segment file names 3 s after the window, when the last of them has closed;
 *    failures are counted and named in the notes, with the min–max count per stream, never dropped).
 * Playlist latency (at the level --wrk-at, default the first of the ladder, after its window, the
 * sender still running): wrk -t2 -c1000 -d10s --latency on one stream's live media playlist
 * (/s001/tracks-v1a1/index.m3u8): playlist_p50_ms, playlist_p99_ms, playlist_rps, playlist_timeouts; the
 * peer right after it: nginx (worker_processes 1) serving a copy of that playlist with the same wrk:
 * nginx_playlist_p50_ms, nginx_playlist_p99_ms, nginx_playlist_rps, nginx_playlist_timeouts,
 * playlist_p99_ratio (nginx p99 / Flux p99). Any non-2xx answer or connect/read/write error fails the
 * run with wrk's output; timeouts (> 2 s) are counted for both: with 1,000 connections on a 2-core
 * machine wrk times some out for nginx too. The open-files limit
 * (ulimit -n, read from /proc/self/limits, inherited by wrk and the node) must exceed the connections.
 * Segmenter: bench/demux.ts run as a subprocess (its measurement, not a copy):
 * segmenter_MBps_per_core = its demux_segment_cpu_MBps (bytes per CPU second, one core),
 * segmenter_MBps = its demux_segment_MBps (wall clock).
 *
 * The sender's CPU is not counted in any metric (it is in the notes, with how far it fell behind real
 * time). Everything started (node, supervisors, sender, wrk) is stopped and temp dirs removed, also on
 * SIGINT/SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestSegments } from '../src/protocol/walk.js';
import { freePort, freeUdpPort, sleep, startNode, tempDir, waitFor, type NodeHandle } from '../test/helpers/index.js';
import { wrkSlice } from './wrk.js';
import { CLK_TCK, cpuSeconds, procStat, rssMb, treeTicks } from './proc-cpu.js';

// ---------------------------------------------------------------- options

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const flag = (name: string) => process.argv.includes(name);
const LADDER = (argValue('--ladder') ?? '1,10,50,200').split(',').map(Number);
if (!LADDER.length || LADDER.some((n) => !Number.isInteger(n) || n < 1 || n > 999)) throw new Error(`--ladder: whole numbers 1..999, comma-separated (got ${argValue('--ladder')})`);
const WINDOW_S = Number(argValue('--window') ?? 20);
if (!(WINDOW_S >= 2)) throw new Error('--window: seconds >= 2');
const WRK = !flag('--no-wrk');
const WRK_AT = Number(argValue('--wrk-at') ?? LADDER[0]);
if (WRK && !LADDER.includes(WRK_AT)) throw new Error(`--wrk-at ${WRK_AT} is not a level of the ladder ${LADDER.join(',')}`);
const WRK_CONNECTIONS = Number(argValue('--wrk-connections') ?? 1000);
const WRK_SECONDS = Number(argValue('--wrk-seconds') ?? 10);
const WRK_THREADS = Math.max(1, Math.min(2, os.cpus().length));
const SEGMENTER = !flag('--no-segmenter');
const SUP_MB_DEFAULT = Number(argValue('--sup-mb') ?? 50);
const AGENT_MB = 100;
const HEADROOM_MB = 512;

const SEG_S = 2;
const MIN_SEGMENTS = Math.max(1, Math.floor(WINDOW_S / SEG_S) - 2);
const CLIP_SECONDS = 120;
const MUXRATE = 240_000; // bit/s, constant (null-packet padded): byte position = PCR time
const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
const CLIP = path.join(os.tmpdir(), `flux-bench-scale-160x120p25-k50-${MUXRATE / 1000}k-${CLIP_SECONDS}s-v1.ts`);

const log = (msg: string) => process.stderr.write(`[scale] ${msg}\n`);

// ---------------------------------------------------------------- the clip

function clip(): string {
  if (existsSync(CLIP)) return CLIP;
  const tmp = `${CLIP}.${process.pid}.tmp`;
  log(`encoding the clip once: ${CLIP}`);
  // prettier-ignore
  const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(CLIP_SECONDS), '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '100k', '-maxrate', '100k', '-bufsize', '200k',
    '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
    '-c:a', 'aac', '-ac', '1', '-b:a', '32k',
    '-f', 'mpegts', '-muxrate', String(MUXRATE), tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    throw new Error(`ffmpeg could not make the clip (status ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
  }
  // the sender paces by the byte rate: that is PCR pace only if the mux rate held (content under it)
  const bits = statSync(tmp).size * 8;
  if (Math.abs(bits / CLIP_SECONDS / MUXRATE - 1) > 0.03) throw new Error(`clip is ${Math.round(bits / CLIP_SECONDS / 1000)} kbit/s, not the ${MUXRATE / 1000}k mux rate`);
  renameSync(tmp, CLIP);
  return CLIP;
}

async function openFilesLimit(): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft === undefined ? NaN : soft === 'unlimited' ? Infinity : Number(soft);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------- the sender

interface SenderStatus {
  datagrams: number;
  skipped: number;
  behind_ms: number;
  max_behind_ms: number;
  errors: number;
}

interface Sender {
  child: ChildProcess;
  last: SenderStatus | null;
  stderr: string;
  stop(): Promise<void>;
}

function startSender(file: string, ports: number[]): Sender {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/udp-fanout.ts'), file, String(MUXRATE / 8), ...ports.map(String)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const s: Sender = {
    child,
    last: null,
    stderr: '',
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        s.last = JSON.parse(line) as SenderStatus;
      } catch {
        /* not a status line */
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (s.stderr = (s.stderr + d).slice(-2000)));
  return s;
}

// ---------------------------------------------------------------- segments

const streamName = (i: number) => `s${String(i + 1).padStart(3, '0')}`;

/** Segments of a stream's v1a1 rendition (newest `limit`), from the file names on disk. */
async function segmentsOf(node: NodeHandle, name: string, limit: number) {
  return newestSegments(path.join(node.dir, 'data', name, 'v1a1'), limit).catch(() => []);
}

// ---------------------------------------------------------------- one level

interface Level {
  n: number;
  agentCpuPct: number;
  agentRssMb: number;
  supCpuPctTotal: number;
  supRssMb: number;
  streamsOk: number;
  failed: string[];
  notes: string[];
  wrk?: { p50: number; p99: number; rps: number; requests: number; timeouts: number; nginxP50: number; nginxP99: number; nginxRps: number; nginxTimeouts: number };
}

type Cleanups = (() => unknown)[];

async function runLevel(n: number, file: string, cleanups: Cleanups): Promise<Level> {
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  const notes: string[] = [];
  const phase = { start: Date.now() };
  const dir = await tempDir(t, 'flux-bench-scale-');
  const ports: number[] = [];
  // the kernel may hand out a port again once it is released: keep asking until each one is new
  while (ports.length < n) {
    const p = await freeUdpPort();
    if (!ports.includes(p)) ports.push(p);
  }
  const window = Math.min(100, Math.ceil(WINDOW_S / SEG_S) + 10); // no segment of the window deleted before it is counted
  const streams = Object.fromEntries(ports.map((p, i) => [streamName(i), { inputs: [{ url: `udp://127.0.0.1:${p}` }], hls: { segment_duration: `${SEG_S}s`, window } }]));
  const node = await startNode(t, { dir, streams });
  await waitFor(async () => Object.keys(await node.supervisorPids()).length === n, { timeoutMs: 30_000 + n * 500, intervalMs: 500, message: `${n} supervisors` });
  const startedS = (Date.now() - phase.start) / 1000;

  const sender = startSender(file, ports);
  cleanups.push(() => sender.stop());
  const names = Object.keys(streams);
  const firstSegT0 = Date.now();
  let missing = names;
  try {
    await waitFor(
      async () => {
        const have = await Promise.all(missing.map(async (s) => (await segmentsOf(node, s, 1)).length > 0));
        missing = missing.filter((_, i) => !have[i]);
        if (sender.child.exitCode !== null) throw new Error(`sender exited: ${sender.stderr}`);
        return missing.length === 0;
      },
      { timeoutMs: 20_000 + n * 200, intervalMs: 500, message: 'a first segment of every stream' },
    );
  } catch (e) {
    // measure anyway: the streams without a segment fail the check below and are named
    notes.push(`${missing.length} streams had no segment after ${((Date.now() - firstSegT0) / 1000).toFixed(0)} s (${(e as Error).message.slice(0, 120)})`);
  }
  const firstSegS = (Date.now() - firstSegT0) / 1000;
  await sleep(2000);

  // ---- the window
  const supPids = Object.values(await node.supervisorPids());
  const agentPid = (await node.info()).pid;
  const senderPid = sender.child.pid!;
  const [supA, agentA, senderA] = [await treeTicks(supPids), await procStat(agentPid), await procStat(senderPid)];
  const t0 = Date.now();
  await sleep(WINDOW_S * 1000);
  const [supB, agentB, senderB] = [await treeTicks(supPids), await procStat(agentPid), await procStat(senderPid)];
  const t1 = Date.now();
  const wall = (t1 - t0) / 1000;
  const agentRssMb = await rssMb(agentPid);
  const supRss = await Promise.all(supPids.map((p) => rssMb(p).catch(() => NaN)));
  const sup = cpuSeconds(supA, supB);
  if (sup.lost) notes.push(`${sup.lost} supervisor processes exited during the window`);
  if (!agentA || !agentB) throw new Error('the node agent exited during the window');
  const agentCpuPct = ((agentB.ticks - agentA.ticks) / CLK_TCK / wall) * 100;
  const senderPct = senderA && senderB ? ((senderB.ticks - senderA.ticks) / CLK_TCK / wall) * 100 : NaN;

  // ---- every stream: segments that started inside the window (a segment's file appears when it closes,
  // so wait until the last one started in the window has closed; the sender keeps feeding)
  await sleep(SEG_S * 1000 + 1000);
  const failed: string[] = [];
  const counts: number[] = [];
  for (const s of names) {
    const segs = (await segmentsOf(node, s, window)).filter((g) => g.startMs >= t0 && g.startMs < t1);
    counts.push(segs.length);
    if (segs.length < MIN_SEGMENTS) failed.push(`${s}:${segs.length}`);
  }
  const st = sender.last;
  notes.push(
    `start ${startedS.toFixed(0)} s, first segments ${firstSegS.toFixed(0)} s, window ${wall.toFixed(1)} s, ${Math.min(...counts)}–${Math.max(...counts)} segments per stream in it; supervisors ${((sup.seconds / wall) * 100).toFixed(1)} % total (${supB.size - supPids.length} children), ` +
      `sender ${senderPct.toFixed(1)} %${st ? `, ${st.max_behind_ms} ms max behind, ${st.skipped} datagrams skipped, ${st.errors} send errors` : ', no status'}`,
  );

  // ---- playlist latency under many clients, on this node with its streams running
  let wrk: Level['wrk'];
  if (WRK && n === WRK_AT) {
    const url = `${node.baseUrl}/${names[0]}/tracks-v1a1/index.m3u8`;
    const r = await fetch(url);
    const body = await r.text();
    if (r.status !== 200 || !body.startsWith('#EXTM3U') || !/#EXTINF/.test(body)) throw new Error(`${url}: ${r.status}, not a live media playlist: ${body.slice(0, 200)}`);
    const slice = (u: string) => wrkSlice(u, { requests: 0, seconds: 0 }, { threads: WRK_THREADS, connections: WRK_CONNECTIONS, seconds: WRK_SECONDS, latency: true, log });
    const res = await slice(url);
    // the peer: nginx serving a copy of the same playlist, same wrk, same machine, right after
    const peerUrl = await startNginxPeer(body, cleanups);
    const peer = await slice(peerUrl);
    for (const [who, r2] of [['flux', res], ['nginx', peer]] as const) {
      const e = r2.socketErrors;
      // timeouts are counted, not fatal: on 2 cores wrk -c1000 times some out for nginx too
      if (e.connect + e.read + e.write > 0) throw new Error(`${who}: socket errors with wrk -c${WRK_CONNECTIONS}: ${JSON.stringify(e)}`);
    }
    wrk = {
      p50: res.latencyMs!['50']!, p99: res.latencyMs!['99']!, rps: res.requests / res.seconds, requests: res.requests, timeouts: res.socketErrors.timeout,
      nginxP50: peer.latencyMs!['50']!, nginxP99: peer.latencyMs!['99']!, nginxRps: peer.requests / peer.seconds, nginxTimeouts: peer.socketErrors.timeout,
    };
    log(`wrk -c${WRK_CONNECTIONS} ${url}: p50 ${wrk.p50.toFixed(2)} ms, p99 ${wrk.p99.toFixed(2)} ms, ${Math.round(wrk.rps)} req/s, ${wrk.timeouts} timeouts; nginx p50 ${wrk.nginxP50.toFixed(2)} ms, p99 ${wrk.nginxP99.toFixed(2)} ms, ${Math.round(wrk.nginxRps)} req/s, ${wrk.nginxTimeouts} timeouts`);
  }
  return { n, agentCpuPct, agentRssMb, supCpuPctTotal: (sup.seconds / wall) * 100, supRssMb: median(supRss.filter(Number.isFinite)), streamsOk: names.length - failed.length, failed, notes, wrk };
}

// ---------------------------------------------------------------- the nginx peer (playlist latency)

/** nginx (worker_processes 1) serving `playlist` as /p/index.m3u8 on a free port; returns its URL. */
async function startNginxPeer(playlist: string, cleanups: Cleanups): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-scale-nginx-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'www', 'p'), { recursive: true });
  await writeFile(path.join(dir, 'www', 'p', 'index.m3u8'), playlist);
  // nginx workers run as nobody when started as root: the tree must be readable to them
  await chmod(dir, 0o755);
  const port = await freePort();
  await writeFile(path.join(dir, 'nginx.conf'), `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  open_file_cache max=100 inactive=20s;
  types { application/vnd.apple.mpegurl m3u8; }
  server { listen 127.0.0.1:${port} backlog=4096; root ${dir}/www; add_header Cache-Control no-cache; }
}
`);
  const proc = spawn(process.env.FLUX_NGINX ?? 'nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  // SIGTERM: the master stops its worker (SIGKILL of the master alone leaves the worker running)
  cleanups.push(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([gone, sleep(3000)]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${port}/p/index.m3u8`;
  await waitFor(async () => (await fetch(url).catch(() => undefined))?.status === 200, { timeoutMs: 10_000, message: 'nginx serving the playlist copy' });
  return url;
}

// ---------------------------------------------------------------- the segmenter (bench/demux.ts)

async function segmenter(): Promise<Record<string, { value: number; unit: string; better: string }>> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/demux.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`bench/demux.ts failed (exit ${code}): ${last}`);
  const m = (JSON.parse(last) as { metrics: Record<string, { value: number; unit: string; better: string }> }).metrics;
  if (!m.demux_segment_cpu_MBps || !m.demux_segment_MBps) throw new Error(`bench/demux.ts: unexpected metrics ${last}`);
  return {
    segmenter_MBps_per_core: { ...m.demux_segment_cpu_MBps, unit: 'MB/s per core' },
    segmenter_MBps: m.demux_segment_MBps,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now();
  const loadStart = os.loadavg();
  const active: Cleanups = [];
  const cleanupAll = async () => {
    for (const fn of active.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  try {
    const metrics: Record<string, { value: number; unit: string; better: string }> = {};
    const notes: string[] = [];
    const nofile = await openFilesLimit();
    if (WRK && !(nofile > WRK_CONNECTIONS + 200)) throw new Error(`open files limit (ulimit -n) is ${nofile}: wrk -c${WRK_CONNECTIONS} needs more than ${WRK_CONNECTIONS + 200}; raise it in the shell that runs the bench`);

    if (SEGMENTER) {
      log('segmenter: bench/demux.ts …');
      Object.assign(metrics, await segmenter());
    }

    const file = clip();
    let supMb = SUP_MB_DEFAULT;
    for (const n of LADDER) {
      const needMb = n * supMb + AGENT_MB + HEADROOM_MB;
      const freeMb = os.freemem() / 2 ** 20;
      if (needMb > freeMb) {
        notes.push(`N=${n} skipped: needs ~${Math.round(needMb)} MB (${n} × ${Math.round(supMb)} MB + agent + ${HEADROOM_MB} MB headroom), ${Math.round(freeMb)} MB free`);
        log(notes[notes.length - 1]!);
        continue;
      }
      log(`N=${n} …`);
      const cleanups: Cleanups = [];
      const stopLevel = async () => {
        for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
      };
      active.push(stopLevel); // a signal mid-level stops this level's node and sender too
      let r: Level;
      try {
        r = await runLevel(n, file, cleanups);
      } finally {
        await stopLevel();
        const i = active.indexOf(stopLevel);
        if (i >= 0) active.splice(i, 1);
      }
      if (Number.isFinite(r.supRssMb)) supMb = r.supRssMb;
      metrics[`agent_cpu_pct_${n}`] = { value: +r.agentCpuPct.toFixed(2), unit: '% of a core', better: 'lower' };
      metrics[`agent_rss_mb_${n}`] = { value: +r.agentRssMb.toFixed(1), unit: 'MB', better: 'lower' };
      metrics[`supervisors_cpu_pct_per_stream_${n}`] = { value: +(r.supCpuPctTotal / n).toFixed(3), unit: '% of a core', better: 'lower' };
      metrics[`supervisor_rss_mb_${n}`] = { value: +r.supRssMb.toFixed(1), unit: 'MB', better: 'lower' };
      metrics[`streams_ok_${n}`] = { value: r.streamsOk, unit: 'streams', better: 'higher' };
      if (r.wrk) {
        metrics.playlist_p50_ms = { value: +r.wrk.p50.toFixed(2), unit: 'ms', better: 'lower' };
        metrics.playlist_p99_ms = { value: +r.wrk.p99.toFixed(2), unit: 'ms', better: 'lower' };
        metrics.playlist_rps = { value: Math.round(r.wrk.rps), unit: 'req/s', better: 'higher' };
        metrics.playlist_timeouts = { value: r.wrk.timeouts, unit: 'requests', better: 'lower' };
        metrics.nginx_playlist_p50_ms = { value: +r.wrk.nginxP50.toFixed(2), unit: 'ms', better: 'lower' };
        metrics.nginx_playlist_p99_ms = { value: +r.wrk.nginxP99.toFixed(2), unit: 'ms', better: 'lower' };
        metrics.nginx_playlist_rps = { value: Math.round(r.wrk.nginxRps), unit: 'req/s', better: 'higher' };
        metrics.nginx_playlist_timeouts = { value: r.wrk.nginxTimeouts, unit: 'requests', better: 'lower' };
        metrics.playlist_p99_ratio = { value: +(r.wrk.nginxP99 / r.wrk.p99).toFixed(2), unit: 'x (nginx p99 / flux p99)', better: 'higher' };
        notes.push(`playlist: wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${WRK_SECONDS}s --latency on a live media playlist at N=${n} (streams running; one node process, http_workers 0), ${r.wrk.requests} requests, 0 non-2xx, 0 connect/read/write errors, ${r.wrk.timeouts} timeouts (> 2 s); peer: nginx worker_processes 1 serving a copy of that playlist right after, ${r.wrk.nginxTimeouts} timeouts; ulimit -n ${nofile}`);
      }
      const failedText = r.failed.length ? `; FAILED (stream:segments) ${r.failed.slice(0, 10).join(' ')}${r.failed.length > 10 ? ` … +${r.failed.length - 10}` : ''}` : '';
      notes.push(`N=${n}: ${r.streamsOk}/${n} ok; ${r.notes.join('; ')}${failedText}`);
      log(notes[notes.length - 1]!);
    }
    if (WRK && !('playlist_p99_ms' in metrics)) notes.push(`playlist latency not measured: its level N=${WRK_AT} did not run`);
    if (SEGMENTER) notes.push('segmenter = bench/demux.ts (Segmenter over a 720p25 4 Mbit/s TS in memory, one core): _per_core = MB per CPU second');
    notes.unshift(
      `ladder ${LADDER.join(',')}, ${WINDOW_S} s window; udp passthrough streams (2 s segments) fed by one sender looping a 160x120 25 fps H.264+AAC clip at ${MUXRATE / 1000} kbit/s; ` +
        `ok = >= ${MIN_SEGMENTS} segments started in the window; CPU % of one core (utime+stime), RSS from smaps_rollup; sender not counted`,
    );
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(1)).join('/');
    notes.push(`load avg ${fmtLoad(loadStart)} at start, ${fmtLoad(os.loadavg())} at end, ${os.cpus().length} CPUs; ${((Date.now() - started) / 1000).toFixed(0)} s total`);
    if (!Object.keys(metrics).length) throw new Error(`nothing measured: ${notes.join('; ')}`);
    console.log(JSON.stringify({ metrics, notes: notes.join('; ') }));
  } finally {
    await cleanupAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
