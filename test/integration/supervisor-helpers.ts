/**
 * Shared by the supervisor/ingest/failover e2e tests: temp dirs, resolved specs (through the real
 * config resolver), a spawned supervisor daemon (bin/flux-stream.js on the TypeScript sources),
 * HTTP over its Unix socket, ffmpeg peers, ffprobe checks, free ports. Everything started is
 * registered for cleanup with the test's after hook.
 */
import { beforeRemoving, tempDir, waitFor } from '../helpers/index.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { ResolvedStream } from '../../src/config/model.js';
import type { SupervisorStatus } from '../../src/protocol/supervisor-status.js';
import { runFiles, specHashOf } from '../../src/daemons/stream/spec.js';
import { supervisorChannel, type SupervisorChannel } from '../../src/daemons/node/supervisor-host.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
/** small and cheap: the machine is shared */
export const TESTSRC = 'testsrc2=size=160x120:rate=15';

export interface Env {
  dir: string;
  dataDir: string;
  runDir: string;
}

export async function tempEnv(t: TestContext, prefix = 'flux-sup-'): Promise<Env> {
  const dir = await tempDir(t, prefix);
  return { dir, dataDir: path.join(dir, 'data'), runDir: path.join(dir, 'run') };
}

/** Resolve one stream through the real config resolver. */
export function resolveStream(env: Env, name: string, stream: Record<string, unknown>, server: Record<string, unknown> = {}): { stream: ResolvedStream; server: ReturnType<typeof resolveConfig>['server'] } {
  const cfg = { server: { data_dir: env.dataDir, run_dir: env.runDir, log_level: 'debug', ...server }, streams: { [name]: stream } } as unknown as ConfigInput;
  const r = resolveConfig(cfg, path.join(env.dir, 'flux.yaml'));
  return { stream: r.streams[name]!, server: r.server };
}

export async function writeSpec(env: Env, name: string, stream: Record<string, unknown>): Promise<{ file: string; stream: ResolvedStream }> {
  const r = resolveStream(env, name, stream);
  const files = runFiles(env.runDir, name);
  await mkdir(files.dir, { recursive: true });
  await writeFile(files.spec, JSON.stringify({ stream: r.stream, server: r.server, specHash: specHashOf(r.stream), ffmpeg: FFMPEG }, null, 2));
  return { file: files.spec, stream: r.stream };
}

// ------------------------------------------------------------------ socket HTTP

export interface Reply {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

export function unixRequest(sock: string, method: string, urlPath: string, body?: Buffer | string, timeoutMs = 5000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: urlPath, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ------------------------------------------------------------------ the daemon

export interface SupervisorProc {
  proc: ChildProcess;
  pid: number;
  sock: string;
  pidFile: string;
  logFile: string;
  status(): Promise<SupervisorStatus>;
  post(p: string): Promise<Reply>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): Promise<string>;
  /** its IPC channel, when started with `ipc` (listened to from the spawn: rtmp-ready is not missed) */
  channel?: SupervisorChannel;
}

/** `ipc`: with an IPC channel, as the node agent spawns it (RTMP handoff) */
export async function startSupervisorProc(t: TestContext, env: Env, specFile: string, name: string, opts: { ipc?: boolean } = {}): Promise<SupervisorProc> {
  const files = runFiles(env.runDir, name);
  const logFile = files.log;
  const out = await import('node:fs').then((fs) => fs.openSync(logFile, 'a'));
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'bin/flux-stream.js'), '--spec', specFile], {
    cwd: REPO,
    env: { ...process.env, FLUX_STREAM_SRC: '1', FLUX_LOG_LEVEL: 'debug' },
    stdio: opts.ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
    }
  };
  // killed before the temp dir goes (after hooks run in registration order: the dir's came first,
  // and a supervisor still writing segments makes its removal fail with ENOTEMPTY)
  beforeRemoving(env.dir, kill);
  t.after(kill);
  const sp: SupervisorProc = {
    proc,
    pid: proc.pid!,
    sock: files.sock,
    pidFile: files.pid,
    logFile,
    status: async () => (await unixRequest(files.sock, 'GET', '/status')).json<SupervisorStatus>(),
    post: (p) => unixRequest(files.sock, 'POST', p),
    exited,
    log: () => readFile(logFile, 'utf8'),
    ...(opts.ipc ? { channel: supervisorChannel(proc) } : {}),
  };
  await waitFor('supervisor socket', async () => existsSync(files.sock) && (await sp.status().then(() => true, () => false)), 15_000).catch(async (e: Error) => {
    throw new Error(`${e.message}\n${await sp.log().catch(() => '')}`);
  });
  return sp;
}

// ------------------------------------------------------------------ peers

/** A background process stopped at the test's end. */
export function startProc(t: TestContext, cmd: string, args: string[], opts: { stdout?: 'pipe' | 'ignore' } = {}): ChildProcess & { stop(): Promise<void>; stderrText(): string } {
  const p = spawn(cmd, args, { stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'] }) as ChildProcess & { stop(): Promise<void>; stderrText(): string };
  let err = '';
  p.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  p.stop = async () => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await exited;
  };
  p.stderrText = () => err;
  t.after(() => p.stop());
  return p;
}

/** ffmpeg test source → MPEG-TS, realtime, small. `out` is the output URL ('-' = stdout). */
export function ffmpegTestSource(t: TestContext, out: string, extra: { format?: string; gop?: number; outArgs?: string[]; inputArgs?: string[] } = {}) {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
    ...(extra.inputArgs ?? ['-f', 'lavfi', '-i', TESTSRC, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000']),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(extra.gop ?? 15), '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '48k',
    ...(extra.outArgs ?? []),
    '-f', extra.format ?? 'mpegts', out === '-' ? 'pipe:1' : out,
  ];
  return startProc(t, FFMPEG, args, { stdout: out === '-' ? 'pipe' : 'ignore' });
}

export async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export { freeUdpPort } from '../helpers/index.js';

// ------------------------------------------------------------------ checks

export { waitFor };

export interface PlaylistEntry {
  uri: string;
  durationMs: number;
  discontinuity: boolean;
  msn: number;
}

export interface Playlist {
  mediaSequence: number;
  discontinuitySequence: number;
  entries: PlaylistEntry[];
}

export function parsePlaylist(text: string): Playlist {
  const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  const dsn = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  const entries: PlaylistEntry[] = [];
  let disc = false;
  let dur = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-DISCONTINUITY') && !line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE')) disc = true;
    else if (line.startsWith('#EXTINF:')) dur = Math.round(parseFloat(line.slice(8)) * 1000);
    else if (line && !line.startsWith('#')) {
      entries.push({ uri: line.trim(), durationMs: dur, discontinuity: disc, msn: msn + entries.length });
      disc = false;
    }
  }
  return { mediaSequence: msn, discontinuitySequence: dsn, entries };
}

export async function readPlaylist(stream: ResolvedStream, rendition = 'v1a1'): Promise<Playlist | null> {
  try {
    return parsePlaylist(await readFile(path.join(stream.root, rendition, 'index.m3u8'), 'utf8'));
  } catch {
    return null;
  }
}

/** ffprobe a segment: its streams (codec_type, codec_name, width, height) and duration. */
export function ffprobe(file: string): { streams: { codec_type: string; codec_name: string; width?: number; height?: number }[]; format: { duration?: string; format_name: string } } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`ffprobe ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof ffprobe>;
}

/** Count the frames ffprobe can decode in a segment (a cheap validity check). */
export function decodableFrames(file: string): number {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8', timeout: 20_000 });
  return parseInt(r.stdout.trim().split('\n')[0] ?? '', 10) || 0;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user+sys) a process used, from /proc. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * Wait until the stream is live: `segments` complete segments in the playlist, the status
 * running; check a segment with ffprobe (h264 160x120 from our test sources).
 */
export async function expectLive(sup: SupervisorProc, stream: ResolvedStream, opts: { segments?: number; timeoutMs?: number; width?: number; audio?: boolean } = {}): Promise<{ status: SupervisorStatus; playlist: Playlist }> {
  const want = opts.segments ?? 3;
  const playlist = await waitFor(`${want} segments of ${stream.name}`, async () => {
    const p = await readPlaylist(stream);
    return p && p.entries.length >= want ? p : null;
  }, opts.timeoutMs ?? 20_000).catch(async (e: Error) => {
    const st = await sup.status().catch(() => null);
    throw new Error(`${e.message}\nstatus: ${JSON.stringify(st)}\nlog tail:\n${(await sup.log().catch(() => '')).split('\n').slice(-15).join('\n')}`);
  });
  // a middle segment: complete, and made of this source
  const seg = path.join(stream.root, 'v1a1', playlist.entries[playlist.entries.length - 2]!.uri);
  const probe = ffprobe(seg);
  const v = probe.streams.find((s) => s.codec_type === 'video');
  if (!v || v.codec_name !== 'h264') throw new Error(`segment ${seg} has no h264 video: ${JSON.stringify(probe.streams)}`);
  if (v.width !== (opts.width ?? 160)) throw new Error(`segment width ${v.width}`);
  if (opts.audio && !probe.streams.some((s) => s.codec_type === 'audio')) throw new Error('segment has no audio');
  if (decodableFrames(seg) < 5) throw new Error(`segment ${seg} does not decode`);
  const status = await waitFor('running status', async () => {
    const s = await sup.status();
    return s.state === 'running' && s.inputs[s.activeInput ?? 0]!.bitrate > 0 ? s : null;
  }, 8000);
  return { status, playlist };
}

/** A peer that is started again whenever it exits (an ffmpeg SRT listener serves one caller, then exits). */
export function startRespawning(t: TestContext, cmd: string, args: string[]): { spawns(): number } {
  let stopped = false;
  let n = 0;
  let current: ChildProcess | undefined;
  const run = () => {
    if (stopped) return;
    n++;
    current = spawn(cmd, args, { stdio: 'ignore' });
    current.on('exit', () => {
      if (!stopped) setTimeout(run, 200);
    });
  };
  run();
  t.after(async () => {
    stopped = true;
    if (current && current.exitCode === null && current.signalCode === null) {
      const c = current;
      const gone = new Promise<void>((r) => c.on('exit', () => r()));
      c.kill('SIGKILL');
      await gone;
    }
  });
  return { spawns: () => n };
}
