/**
 * RTMP publishers: how many simultaneous ~3 Mbps RTMP publishers a Flux node turns into HLS without
 * segment gaps, and the CPU it spends per stream, side by side with nginx-rtmp in the same run.
 *
 *   node --import tsx bench/rtmp-publishers.ts [--ladder 2,4,8,12] [--window 20] [--warmup 60] [--budget 900]
 *   npm run bench -- rtmp-publishers --runs 3
 *
 * Input: a pre-encoded 20 s file (720p25 H.264 libx264 veryfast ~3 Mbps, keyint 50, no scene cut,
 * + AAC 128k, MP4), generated once into os.tmpdir() and cached by name. Each publisher is
 * `ffmpeg -re -stream_loop -1 -i FILE -c copy -f flv rtmp://127.0.0.1:PORT/live/sK`.
 *
 * For each N of the ladder and each side (order alternates per level, so drift in the shared
 * machine's load hits both alike), a fresh server with exactly N streams:
 *  - Flux: a node (temp dir, HTTP and RTMP on free 127.0.0.1 ports) with streams s1..sN
 *    `inputs: [{url: publish://}]`, hls segment_duration 2s (window 30, so no segment of the window
 *    is deleted before it is checked); stopped with `flux node stop`.
 *  - nginx-rtmp: `worker_processes 1`, `application live { live on; hls on; hls_fragment 2s; }`
 *    (+ hls_playlist_length 60s for the same reason), `nginx -p TMP -c TMP/nginx.conf -g 'daemon off;'`.
 * N publishers start; once every stream has written a first segment and the warm-up (--warmup,
 * 60 s: the steady state of a 24/7 channel, after V8 has compiled the hot code) has passed, the
 * window opens (WINDOW s).
 * CPU = utime+stime from /proc/<pid>/stat over the window, summed over the node agent + every
 * supervisor (<run>/streams/*.pid) + any descendant of those (Flux), or over the nginx worker(s),
 * divided by N and by wall seconds, as % of one core. After the window (publishers still running)
 * the segments are checked, per stream:
 *  - Flux: file names `<epoch_ms>-<duration_ms>.ts` under <data_dir>/<stream>/v1a1/** (start = PDT),
 *  - nginx: <hls_path>/<stream>.m3u8 EXTINFs + the fragment files' mtimes (end of the fragment),
 * segments overlapping the window: >= WINDOW/2 − 2 of them, and no stretch longer than 1.5 × 2 s
 * without a segment starting (window start → first start, start → next start, last start →
 * window end): one dropped segment already fails. A level passes when every publisher stayed up and
 * every stream passed; a side's ladder stops at its first failed level. Time budget (--budget, 900 s):
 * a level that would not fit is skipped for BOTH sides (noted; the max publishers are then lower
 * bounds), so a slow machine never reads as one side failing. Per level, stderr shows the seconds
 * spent starting, waiting for first segments, in the window, in the grace wait and stopping.
 *
 * Metrics: flux_max_publishers, nginx_max_publishers, publishers_ratio (flux/nginx),
 * flux_cpu_pct_per_stream / nginx_cpu_pct_per_stream at the highest N both passed, cpu_ratio
 * (nginx/flux: > 1 = Flux cheaper).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep, startNode, tempDir, type Cleanup, type NodeHandle } from '../test/helpers/index.js';
import { CLK_TCK, cpuSeconds, procStat, treeTicks } from './proc-cpu.js';

// ---------------------------------------------------------------- options

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const LADDER = (argValue('--ladder') ?? process.env.FLUX_BENCH_LADDER ?? '2,4,8,12').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const WINDOW_MS = Number(argValue('--window') ?? process.env.FLUX_BENCH_WINDOW_SECONDS ?? 20) * 1000;
const WARMUP_MS = Number(argValue('--warmup') ?? process.env.FLUX_BENCH_WARMUP_SECONDS ?? 60) * 1000;
const BUDGET_MS = Number(argValue('--budget') ?? process.env.FLUX_BENCH_BUDGET_SECONDS ?? 900) * 1000;
const SEG_MS = 2000;
const MAX_STRETCH_MS = 1.5 * SEG_MS;
const MIN_SEGMENTS = Math.floor(WINDOW_MS / SEG_MS) - 2;
const READY_TIMEOUT_MS = 15_000;
const GRACE_TIMEOUT_MS = 8_000;
const NGINX = process.env.FLUX_NGINX ?? 'nginx';
const NGINX_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';

const log = (msg: string) => process.stderr.write(`[rtmp-publishers] ${msg}\n`);

// ---------------------------------------------------------------- input file

const INPUT_DESC = '720p25 testsrc2+noise, libx264 veryfast 3 Mbps (maxrate 3M, bufsize 6M), keyint 50, sc_threshold 0, AAC 128k 48 kHz, 20 s MP4';

/** The pre-encoded input, cached in os.tmpdir() by name (written to a temp name, then renamed). */
async function inputFile(): Promise<string> {
  const file = path.join(os.tmpdir(), 'flux-bench-rtmp-720p25-3M-k50-aac128-20s-v1.mp4');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  log(`encoding the input file once: ${file}`);
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '20', '-vf', 'noise=alls=10:allf=t', '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3000k', '-maxrate', '3000k', '-bufsize', '6000k',
    '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-x264-params', 'scenecut=0:open_gop=0',
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-movflags', '+faststart', tmp];
  try {
    await runProc(FFMPEG, args, 300_000);
    await rename(tmp, file);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return file;
}

function runProc(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out + err);
      else reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`));
    });
  });
}

async function probeBitrate(file: string): Promise<string> {
  try {
    const out = await runProc('ffprobe', ['-v', 'error', '-show_entries', 'format=bit_rate,duration', '-of', 'default=nw=1', file], 20_000);
    const br = Number(/bit_rate=(\d+)/.exec(out)?.[1]);
    const dur = Number(/duration=([\d.]+)/.exec(out)?.[1]);
    return `${(br / 1e6).toFixed(2)} Mbps, ${dur.toFixed(1)} s`;
  } catch {
    return 'unprobed';
  }
}

// ---------------------------------------------------------------- processes and CPU


// ---------------------------------------------------------------- publishers

interface Publisher {
  name: string;
  child: ChildProcess;
  exit: { code: number | null; signal: string | null; at: number } | null;
  stderr: string;
  exited: Promise<void>;
}

function startPublisher(file: string, port: number, name: string): Publisher {
  const child = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${name}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const p: Publisher = { name, child, exit: null, stderr: '', exited: Promise.resolve() };
  child.stderr!.on('data', (d: Buffer) => (p.stderr = (p.stderr + d.toString()).slice(-600)));
  p.exited = new Promise((r) =>
    child.once('exit', (code, signal) => {
      p.exit = { code, signal, at: Date.now() };
      r();
    }),
  );
  child.on('error', (e) => (p.stderr += String(e)));
  return p;
}

async function stopPublishers(pubs: Publisher[]): Promise<void> {
  for (const p of pubs) if (!p.exit) p.child.kill('SIGKILL');
  await Promise.race([Promise.all(pubs.map((p) => p.exited)), sleep(5000)]);
}

// ---------------------------------------------------------------- segments

interface Seg {
  startMs: number;
  durationMs: number;
}

async function walkTs(dir: string, out: string[] = []): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.isDirectory()) await walkTs(path.join(dir, e.name), out);
    else if (e.name.endsWith('.ts') && !e.name.startsWith('.')) out.push(e.name);
  }
  return out;
}

async function fluxSegments(root: string): Promise<Seg[]> {
  const names = await walkTs(path.join(root, 'v1a1'));
  const segs: Seg[] = [];
  for (const n of names) {
    const m = /^(\d+)-(\d+)\.ts$/.exec(n);
    if (m) segs.push({ startMs: Number(m[1]), durationMs: Number(m[2]) });
  }
  return segs.sort((a, b) => a.startMs - b.startMs);
}

/** nginx-rtmp: playlist EXTINFs, fragment end = file mtime (the fragment's last write). */
async function nginxSegments(hls: string, name: string): Promise<Seg[]> {
  const text = await readFile(path.join(hls, `${name}.m3u8`), 'utf8').catch(() => '');
  const segs: Seg[] = [];
  let dur: number | null = null;
  for (const line of text.split('\n').map((l) => l.trim())) {
    const m = /^#EXTINF:([\d.]+)/.exec(line);
    if (m) dur = Number(m[1]) * 1000;
    else if (line && !line.startsWith('#') && dur !== null) {
      const st = await stat(path.join(hls, line)).catch(() => null);
      if (st) segs.push({ startMs: st.mtimeMs - dur, durationMs: dur });
      dur = null;
    }
  }
  return segs.sort((a, b) => a.startMs - b.startMs);
}

interface StreamCheck {
  name: string;
  ok: boolean;
  segments: number;
  maxStretchMs: number;
  why?: string;
}

function checkStream(name: string, all: Seg[], t0: number, t1: number): StreamCheck {
  const segs = all.filter((s) => s.startMs < t1 && s.startMs + s.durationMs > t0);
  if (!segs.length) return { name, ok: false, segments: 0, maxStretchMs: t1 - t0, why: `${name}: no segment in the window` };
  let maxStretch = segs[0]!.startMs - t0;
  let at = segs[0]!.startMs;
  for (const s of segs.slice(1)) {
    maxStretch = Math.max(maxStretch, s.startMs - at);
    at = s.startMs;
  }
  // the last segment must reach into the last 1.5 × segment of the window
  maxStretch = Math.max(maxStretch, t1 - at);
  const problems: string[] = [];
  if (segs.length < MIN_SEGMENTS) problems.push(`${segs.length} segments < ${MIN_SEGMENTS}`);
  if (maxStretch > MAX_STRETCH_MS) problems.push(`${(maxStretch / 1000).toFixed(1)} s without a new segment`);
  return { name, ok: problems.length === 0, segments: segs.length, maxStretchMs: maxStretch, why: problems.length ? `${name}: ${problems.join(', ')}` : undefined };
}

// ---------------------------------------------------------------- sides

interface SideInstance {
  rtmpPort: number;
  /** pids whose CPU (with descendants) is the side's cost */
  roots(): Promise<number[]>;
  segments(name: string): Promise<Seg[]>;
  /** a few lines of evidence when something failed */
  diagnose(names: string[]): Promise<string>;
  stop(): Promise<void>;
}

interface Side {
  name: 'flux' | 'nginx';
  start(n: number): Promise<SideInstance>;
}

const streamNames = (n: number) => Array.from({ length: n }, (_, i) => `s${i + 1}`);

const fluxSide: Side = {
  name: 'flux',
  async start(n) {
    const cleanups: (() => unknown)[] = [];
    const t: Cleanup = { after: (fn) => void cleanups.push(fn) };
    const stop = async () => {
      for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
      cleanups.length = 0;
    };
    try {
      const dir = await tempDir(t, 'flux-bench-rp-');
      const rtmp = await freePort();
      const streams = Object.fromEntries(streamNames(n).map((s) => [s, { inputs: [{ url: 'publish://' }], hls: { segment_duration: '2s', window: 30 } }]));
      const node: NodeHandle = await startNode(t, { dir, server: { rtmp }, streams });
      const dataDir = path.join(dir, 'data');
      return {
        rtmpPort: rtmp,
        roots: async () => {
          const nodePid = Number.parseInt((await readFile(path.join(node.runDir, 'node.pid'), 'utf8').catch(() => '')).trim(), 10);
          return [...(nodePid > 0 ? [nodePid] : [node.pid]), ...Object.values(await node.supervisorPids())];
        },
        segments: (name) => fluxSegments(path.join(dataDir, name)),
        diagnose: async (names) => {
          const lines: string[] = [];
          const nodeLog = await readFile(path.join(dataDir, 'node.log'), 'utf8').catch(() => '');
          lines.push(...pinoProblems(nodeLog, 'node'));
          for (const name of names) {
            const r = await node.api('GET', `/api/v3/streams/${name}`).catch(() => null);
            const stats = (r?.json as { stats?: Record<string, unknown> } | undefined)?.stats;
            if (stats) lines.push(`${name}: alive=${String(stats.alive)} bitrate=${String(stats.bitrate)} restarts=${String(stats.restarts)} last_error=${JSON.stringify(stats.last_error ?? null)}`);
            for (const f of [path.join(dataDir, `${name}.log`), path.join(node.runDir, 'streams', `${name}.log`), path.join(dataDir, 'logs', `${name}.log`)]) {
              const text = await readFile(f, 'utf8').catch(() => '');
              if (text) lines.push(...pinoProblems(text, name));
            }
          }
          return lines.slice(0, 12).join(' | ');
        },
        stop,
      };
    } catch (e) {
      await stop();
      throw e;
    }
  },
};

/** warn/error lines of a pino log (JSON lines), shortened. */
function pinoProblems(text: string, who: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string }; reason?: string; error?: string };
      if ((o.level ?? 0) >= 40) out.push(`${who}: ${o.msg ?? ''}${o.reason ? ` (${o.reason})` : ''}${o.err?.message ? ` (${o.err.message})` : ''}${o.error ? ` (${o.error})` : ''}`.slice(0, 200));
    } catch {
      if (/error|warn/i.test(line)) out.push(`${who}: ${line.slice(0, 200)}`);
    }
  }
  return [...new Set(out)].slice(-5);
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

let nginxVersion = 'nginx';

const nginxSide: Side = {
  name: 'nginx',
  async start() {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-rpn-'));
    let proc: ChildProcess | undefined;
    const stop = async () => {
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc!.once('exit', r));
        proc.kill('SIGTERM');
        if ((await Promise.race([gone.then(() => true), sleep(3000).then(() => false)])) === false) {
          try {
            process.kill(-proc.pid!, 'SIGKILL');
          } catch {
            proc.kill('SIGKILL');
          }
          await Promise.race([gone, sleep(2000)]);
        }
      }
      await rm(tmp, { recursive: true, force: true });
    };
    try {
      const hls = path.join(tmp, 'hls');
      await mkdir(hls);
      // nginx workers drop to `nobody` when started as root: let them write the fragments
      await chmod(tmp, 0o755);
      await chmod(hls, 0o777);
      const port = await freePort();
      const conf = `load_module ${NGINX_MODULE};
worker_processes 1;
pid ${tmp}/nginx.pid;
error_log ${tmp}/nginx-error.log warn;
events { worker_connections 1024; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    application live {
      live on;
      hls on;
      hls_path ${hls};
      hls_fragment 2s;
      hls_playlist_length 60s;
    }
  }
}
`;
      await writeFile(path.join(tmp, 'nginx.conf'), conf);
      proc = spawn(NGINX, ['-p', tmp, '-e', path.join(tmp, 'nginx-error.log'), '-c', path.join(tmp, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      let err = '';
      proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<never>((_, reject) => proc!.once('exit', (c) => reject(new Error(`nginx exited (${c}): ${err.slice(-500)}`))));
      exited.catch(() => undefined);
      await Promise.race([waitPort(port, 5000), exited]);
      const master = proc.pid!;
      return {
        rtmpPort: port,
        roots: async () => {
          // the worker(s): children of the master titled "nginx: worker process" (not the idle cache manager)
          const kids: number[] = [];
          for (const e of await readdir('/proc')) {
            if (!/^\d+$/.test(e)) continue;
            const st = await procStat(Number(e));
            if (st?.ppid !== master) continue;
            const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
            if (cmd.includes('worker process')) kids.push(Number(e));
          }
          return kids;
        },
        segments: (name) => nginxSegments(hls, name),
        diagnose: async () => {
          const text = await readFile(path.join(tmp, 'nginx-error.log'), 'utf8').catch(() => '');
          return text.split('\n').filter(Boolean).slice(-5).map((l) => l.slice(0, 200)).join(' | ');
        },
        stop,
      };
    } catch (e) {
      await stop();
      throw e;
    }
  },
};

// ---------------------------------------------------------------- one level

interface LevelResult {
  side: 'flux' | 'nginx';
  n: number;
  ok: boolean;
  measured: boolean;
  cpuPctPerStream: number;
  cpuPctTotal: number;
  minSegments: number;
  maxStretchMs: number;
  reasons: string[];
  procs: string;
  /** Flux: % of one core per stream spent in the node agent itself (the rest: supervisors) */
  agentPctPerStream?: number;
  /** seconds spent: start, ready, window, grace, stop */
  phases: string;
}

async function runLevel(side: Side, n: number, file: string, register: (fn: () => Promise<void>) => () => void): Promise<LevelResult> {
  const names = streamNames(n);
  const res: LevelResult = { side: side.name, n, ok: false, measured: false, cpuPctPerStream: NaN, cpuPctTotal: NaN, minSegments: 0, maxStretchMs: NaN, reasons: [], procs: '', phases: '' };
  let mark = Date.now();
  const phase = (name: string) => {
    const now = Date.now();
    res.phases += `${res.phases ? ' ' : ''}${name} ${((now - mark) / 1000).toFixed(1)}`;
    mark = now;
  };
  const inst = await side.start(n);
  phase('start');
  let pubs: Publisher[] = [];
  const unregister = register(async () => {
    await stopPublishers(pubs);
    await inst.stop();
  });
  try {
    pubs = names.map((name) => startPublisher(file, inst.rtmpPort, name));
    // ready: every stream has a first segment (or the publishers are gone)
    const readyBy = Date.now() + READY_TIMEOUT_MS;
    let notReady = names;
    while (Date.now() < readyBy && !pubs.every((p) => p.exit)) {
      // (Flux: a first segment renamed into place; nginx: a first fragment named by the playlist)
      const st = await Promise.all(notReady.map(async (name) => [name, (await inst.segments(name)).length > 0] as const));
      notReady = st.filter(([, ok]) => !ok).map(([name]) => name);
      if (!notReady.length) break;
      await sleep(200);
    }
    phase('ready');
    if (notReady.length) res.reasons.push(`no segment within ${READY_TIMEOUT_MS / 1000} s from ${notReady.join(',')}`);
    if (pubs.every((p) => p.exit)) {
      res.reasons.push(...publisherExits(pubs, Infinity));
      return res;
    }
    // steady state: a 24/7 channel's cost, not its first minute (V8 compiles Flux's hot code
    // over that minute, at this rate of calls; nginx has nothing to warm). Both sides wait alike.
    if (WARMUP_MS > 0) {
      await sleep(WARMUP_MS);
      phase('warmup');
    }
    // the window: CPU of the side's processes, wall time
    const roots0 = await inst.roots();
    const a = await treeTicks(roots0);
    const t0 = Date.now();
    await sleep(WINDOW_MS);
    const b = await treeTicks(await inst.roots());
    const t1 = Date.now();
    phase('window');
    const cpu = cpuSeconds(a, b);
    res.measured = true;
    res.cpuPctTotal = (cpu.seconds / ((t1 - t0) / 1000)) * 100;
    res.cpuPctPerStream = res.cpuPctTotal / n;
    res.procs = cpu.procs.join(',') + (cpu.lost ? `,${cpu.lost} exited` : '');
    if (side.name === 'flux' && roots0[0] !== undefined && a.has(roots0[0]) && b.has(roots0[0])) {
      res.agentPctPerStream = ((b.get(roots0[0])!.ticks - a.get(roots0[0])!.ticks) / CLK_TCK / ((t1 - t0) / 1000)) * 100 / n;
    }
    if (side.name === 'flux' && roots0.length < n + 1) res.reasons.push(`only ${roots0.length - 1} supervisor pid files for ${n} streams`);
    res.reasons.push(...publisherExits(pubs, t1));
    // grace: the segment holding t1 is written (publishers still running)
    const graceBy = Date.now() + GRACE_TIMEOUT_MS;
    for (;;) {
      const ends = await Promise.all(names.map(async (name) => (await inst.segments(name)).some((s) => s.startMs + s.durationMs >= t1)));
      if (ends.every(Boolean) || Date.now() > graceBy) break;
      await sleep(250);
    }
    phase('grace');
    const checks = await Promise.all(names.map(async (name) => checkStream(name, await inst.segments(name), t0, t1)));
    res.minSegments = Math.min(...checks.map((c) => c.segments));
    res.maxStretchMs = Math.max(...checks.map((c) => c.maxStretchMs));
    for (const c of checks) if (!c.ok && c.why) res.reasons.push(c.why);
    res.ok = res.reasons.length === 0;
    return res;
  } finally {
    if (!res.ok) {
      const d = await inst.diagnose(names).catch((e: Error) => `diagnose failed: ${e.message}`);
      if (d) res.reasons.push(`log: ${d}`);
    }
    await stopPublishers(pubs);
    await inst.stop();
    unregister();
    phase('stop');
  }
}

function publisherExits(pubs: Publisher[], before: number): string[] {
  return pubs
    .filter((p) => p.exit && p.exit.at <= before)
    .map((p) => `publisher ${p.name} exited (${p.exit!.signal ?? p.exit!.code})${p.stderr.trim() ? `: ${p.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 200)}` : ''}`);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now();
  const loadStart = os.loadavg();
  const active = new Set<() => Promise<void>>();
  const register = (fn: () => Promise<void>) => {
    active.add(fn);
    return () => void active.delete(fn);
  };
  const cleanupAll = async () => {
    for (const fn of [...active].reverse()) await fn().catch(() => undefined);
    active.clear();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  try {
    nginxVersion = (/nginx\/[\d.]+/.exec(await runProc(NGINX, ['-v'], 10_000)) ?? ['nginx'])[0];
    const file = await inputFile();
    const fileInfo = await probeBitrate(file);
    const results: LevelResult[] = [];
    const failed = { flux: false, nginx: false };
    const skipped: string[] = [];
    for (const [i, n] of LADDER.entries()) {
      const order: Side[] = (i % 2 === 0 ? [fluxSide, nginxSide] : [nginxSide, fluxSide]).filter((s) => !failed[s.name]);
      // time budget: a level runs for both sides or for neither (a level skipped on one side only
      // would read as a lower max for it); ~12 s of start/ready/grace/stop per side around the window
      if (Date.now() - started + order.length * (WARMUP_MS + WINDOW_MS + 12_000) > BUDGET_MS) {
        skipped.push(...order.map((s) => `${s.name}@${n}`));
        continue;
      }
      for (const side of order) {
        log(`${side.name}: ${n} publishers …`);
        let r: LevelResult;
        try {
          r = await runLevel(side, n, file, register);
        } catch (e) {
          r = { side: side.name, n, ok: false, measured: false, cpuPctPerStream: NaN, cpuPctTotal: NaN, minSegments: 0, maxStretchMs: NaN, reasons: [`setup failed: ${(e as Error).message}`], procs: '', phases: '' };
        }
        results.push(r);
        log(`${side.name} N=${n}: ${r.ok ? 'ok' : 'FAILED'} cpu ${r.cpuPctPerStream.toFixed(2)} %/stream (${r.cpuPctTotal.toFixed(1)} % total; ${r.procs}${r.agentPctPerStream !== undefined ? `; agent ${r.agentPctPerStream.toFixed(2)} %/stream` : ''}), min segments ${r.minSegments}, max stretch ${(r.maxStretchMs / 1000).toFixed(2)} s; s: ${r.phases}${r.reasons.length ? `; ${r.reasons.join('; ')}` : ''}`);
        if (!r.ok) failed[side.name] = true;
      }
    }
    const passed = (s: 'flux' | 'nginx') => results.filter((r) => r.side === s && r.ok).map((r) => r.n);
    const fluxMax = Math.max(0, ...passed('flux'));
    const nginxMax = Math.max(0, ...passed('nginx'));
    const both = passed('flux').filter((n) => passed('nginx').includes(n));
    let cpuN = both.length ? Math.max(...both) : NaN;
    let cpuNote = '';
    if (!both.length) {
      // no level passed on both sides: compare at the lowest N both measured
      const measured = (s: 'flux' | 'nginx') => results.filter((r) => r.side === s && r.measured).map((r) => r.n);
      const common = measured('flux').filter((n) => measured('nginx').includes(n));
      cpuN = common.length ? Math.min(...common) : NaN;
      cpuNote = `no N passed on both sides: CPU compared at N=${cpuN} (measured, not passed); `;
    }
    const at = (s: 'flux' | 'nginx') => results.find((r) => r.side === s && r.n === cpuN);
    const fluxCpu = at('flux')?.cpuPctPerStream ?? -1;
    const nginxCpu = at('nginx')?.cpuPctPerStream ?? -1;
    const loadEnd = os.loadavg();
    const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(1)).join('/');
    const levelText = (r: LevelResult) =>
      `${r.n} ${r.ok ? 'ok' : 'FAIL'}${r.measured ? ` ${r.cpuPctPerStream.toFixed(2)}%/stream${r.agentPctPerStream !== undefined ? ` (agent ${r.agentPctPerStream.toFixed(2)})` : ''}, min ${r.minSegments} segs, max stretch ${(r.maxStretchMs / 1000).toFixed(1)}s` : ''}${r.ok ? '' : ` [${r.reasons.join('; ').slice(0, 400)}]`}`;
    const sideText = (s: 'flux' | 'nginx') => `${s}: ${results.filter((r) => r.side === s).map(levelText).join(', ') || 'nothing run'}`;
    const notes = [
      `load avg ${fmtLoad(loadStart)} at start, ${fmtLoad(loadEnd)} at end (2-core shared machine)`,
      `ladder ${LADDER.join(',')}, ${WARMUP_MS / 1000}s warm-up then ${WINDOW_MS / 1000}s window, pass = every publisher up, every stream >= ${MIN_SEGMENTS} segments and no stretch > ${MAX_STRETCH_MS / 1000}s without a new segment`,
      sideText('flux'),
      sideText('nginx'),
      [fluxMax, nginxMax].includes(Math.max(...LADDER)) ? `max publishers at the top of the ladder (${Math.max(...LADDER)}) is a lower bound` : '',
      skipped.length ? `skipped (time budget ${BUDGET_MS / 1000}s; the max publishers are then lower bounds): ${skipped.join(',')}` : '',
      `${cpuNote}CPU at N=${cpuN}: flux = node agent + supervisors (+descendants), nginx = ${nginxVersion} rtmp worker (worker_processes 1), % of one core per stream`,
      `input ${INPUT_DESC} (${fileInfo}), ffmpeg -re -stream_loop -1 -c copy -f flv; ${((Date.now() - started) / 1000).toFixed(0)} s total`,
    ].filter(Boolean);
    console.log(
      JSON.stringify({
        metrics: {
          flux_max_publishers: { value: fluxMax, unit: 'publishers', better: 'higher' },
          nginx_max_publishers: { value: nginxMax, unit: 'publishers', better: 'higher' },
          publishers_ratio: { value: nginxMax > 0 ? +(fluxMax / nginxMax).toFixed(3) : 0, unit: 'x', better: 'higher' },
          flux_cpu_pct_per_stream: { value: +fluxCpu.toFixed(3), unit: '% core', better: 'lower' },
          nginx_cpu_pct_per_stream: { value: +nginxCpu.toFixed(3), unit: '% core', better: 'lower' },
          cpu_ratio: { value: fluxCpu > 0 && nginxCpu >= 0 ? +(nginxCpu / fluxCpu).toFixed(3) : 0, unit: 'x', better: 'higher' },
        },
        notes: notes.join('; '),
      }),
    );
  } finally {
    await cleanupAll();
  }
}

await main();
