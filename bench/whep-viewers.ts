/**
 * CPU per WebRTC viewer: the node agent's CPU (and the stream's one Opus transcode, its child) while
 * 0, then 1, 10 and 50 WHEP viewers watch one live stream.
 *
 *   node --import tsx bench/whep-viewers.ts   (FLUX_BENCH_VIEWERS=1,10,50, FLUX_BENCH_SECONDS=30 per
 *                                             phase, FLUX_BENCH_SIZE=1280x720, FLUX_BENCH_FPS=25; build first)
 *
 * Viewers are werift peers in separate processes (bench/whep-viewer-client.ts, 10 per process), so
 * their SRTP/DTLS work is not counted; they DELETE their sessions between phases. CPU from
 * /proc/<pid>/stat (utime + stime) over the phase, after all viewers connected and 3 s of media; in
 * percent of one core. Each phase checks that every viewer got video and audio in the window (a
 * viewer below half the median video packet rate is reported in the notes). The supervisor's CPU
 * does not change with viewers (one live TS reader per stream) and is not counted.
 * Prints one JSON line last: agent_cpu_pct_<N> per phase, opus_cpu_pct (the shared transcode, at the
 * largest N), agent_cpu_per_viewer_pct ((agent at the largest N − agent at 0) / N).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fakeStream, REPO_ROOT, startNode, tempDir, waitFor } from '../test/helpers/index.js';

const VIEWERS = (process.env.FLUX_BENCH_VIEWERS ?? '1,10,50').split(',').map(Number);
const SECONDS = Number(process.env.FLUX_BENCH_SECONDS ?? 30);
const SIZE = process.env.FLUX_BENCH_SIZE ?? '1280x720';
const FPS = Number(process.env.FLUX_BENCH_FPS ?? 25);
const PER_PROCESS = 10;
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (VIEWERS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`FLUX_BENCH_VIEWERS: whole numbers ≥ 1, comma separated (got ${process.env.FLUX_BENCH_VIEWERS})`);

/** utime + stime of a process, in seconds (0 once it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** The agent's ffmpeg child running libopus (the shared Opus transcode), if any. */
function opusPid(agent: number): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === agent && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('libopus')) return Number(e);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

interface Report {
  connected: number;
  failed: number;
  video: number[];
  audio: number[];
}

interface Clients {
  procs: ChildProcess[];
  latest: Report[];
  stop(): Promise<void>;
}

function startClients(url: string, n: number): Clients {
  const procs: ChildProcess[] = [];
  const latest: Report[] = [];
  for (let i = 0, k = 0; i < n; i += PER_PROCESS, k++) {
    const count = Math.min(PER_PROCESS, n - i);
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/whep-viewer-client.ts'), url, String(count)], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    procs.push(p);
    latest[k] = { connected: 0, failed: 0, video: [], audio: [] };
    createInterface({ input: p.stdout! }).on('line', (l) => {
      try {
        latest[k] = JSON.parse(l) as Report;
      } catch {
        /* not a report */
      }
    });
  }
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null) return r();
            const kill = setTimeout(() => p.kill('SIGKILL'), 10_000);
            p.once('exit', () => {
              clearTimeout(kill);
              r();
            });
            p.stdin!.end();
          }),
      ),
    );
  };
  cleanups.unshift(stop);
  return { procs, latest, stop };
}

const sum = (r: Report[], f: (x: Report) => number) => r.reduce((a, x) => a + f(x), 0);
const flat = (r: Report[], k: 'video' | 'audio') => r.flatMap((x) => x[k]);

try {
  const dir = await tempDir(t, 'flux-bench-');
  const node = await startNode(t, { dir, streams: { cam: fakeStream({}, { size: SIZE, fps: FPS }) }, waitAlive: true });
  const url = `${node.baseUrl}/cam/whep`;
  const agent = node.pid;
  const metrics: Record<string, { value: number; unit: string; better: 'lower' | 'higher' }> = {};
  const notes: string[] = [];

  await sleep(3000);
  let c0 = cpuSeconds(agent);
  let t0 = Date.now();
  await sleep(SECONDS * 1000);
  const idle = ((cpuSeconds(agent) - c0) / ((Date.now() - t0) / 1000)) * 100;
  metrics.agent_cpu_pct_0 = { value: +idle.toFixed(1), unit: '%', better: 'lower' };
  log(`0 viewers: agent ${idle.toFixed(1)} %`);

  let opusAtMax = 0;
  for (const n of VIEWERS) {
    const clients = startClients(url, n);
    await waitFor(() => {
      const failed = sum(clients.latest, (r) => r.failed);
      if (failed > 0) throw new Error(`${failed} of ${n} viewers failed to connect`);
      const video = flat(clients.latest, 'video');
      return sum(clients.latest, (r) => r.connected) === n && video.length === n && video.every((v) => v > 0);
    }, { timeoutMs: 60_000 + n * 2000, intervalMs: 500, message: `${n} viewers connected and receiving` });
    await sleep(3000);
    const before = clients.latest.map((r) => ({ ...r }));
    const opus = opusPid(agent);
    c0 = cpuSeconds(agent);
    const o0 = opus ? cpuSeconds(opus) : 0;
    t0 = Date.now();
    await sleep(SECONDS * 1000);
    const wall = (Date.now() - t0) / 1000;
    const cpu = ((cpuSeconds(agent) - c0) / wall) * 100;
    const opusCpu = opus ? ((cpuSeconds(opus) - o0) / wall) * 100 : NaN;
    const after = clients.latest;
    const vRates = flat(after, 'video').map((v, i) => (v - flat(before, 'video')[i]!) / wall);
    const aRates = flat(after, 'audio').map((v, i) => (v - flat(before, 'audio')[i]!) / wall);
    const median = [...vRates].sort((a, b) => a - b)[vRates.length >> 1]!;
    const slow = vRates.filter((r) => r < median / 2).length;
    const silent = aRates.filter((r) => r <= 0).length;
    if (slow || silent) notes.push(`${n} viewers: ${slow} below half the median video rate, ${silent} without audio`);
    metrics[`agent_cpu_pct_${n}`] = { value: +cpu.toFixed(1), unit: '%', better: 'lower' };
    opusAtMax = opusCpu;
    log(`${n} viewers: agent ${cpu.toFixed(1)} %, opus ffmpeg ${opusCpu.toFixed(1)} %, video ${median.toFixed(0)} packets/s per viewer (median)`);
    await clients.stop();
    cleanups.shift();
    // the sessions are gone before the next phase (their DELETEs were answered)
    await sleep(2000);
  }
  const max = Math.max(...VIEWERS);
  metrics.opus_cpu_pct = { value: +opusAtMax.toFixed(1), unit: '%', better: 'lower' };
  metrics.agent_cpu_per_viewer_pct = { value: +((metrics[`agent_cpu_pct_${max}`]!.value - idle) / max).toFixed(2), unit: '%', better: 'lower' };
  console.log(
    JSON.stringify({
      metrics,
      notes: `werift viewers in separate processes (${PER_PROCESS} per process), ${SECONDS} s per phase after connect + 3 s; CPU in % of one core from /proc; fake://testsrc ${SIZE}@${FPS} with a tone, H.264 passed through, one shared Opus transcode${notes.length ? '; ' + notes.join('; ') : ''}`,
    }),
  );
} finally {
  for (const fn of cleanups) await fn();
}
