/**
 * CPU ladder throughput: Flux's argument builder (src/ffmpeg) for a 1080p → 1080p/720p/360p ladder
 * from fake:// (testsrc2 1920x1080 at 25 fps, ~20 s of content, not paced), run twice in the same
 * process, one after the other:
 *   flux  spawned as the supervisor does (stdio pipes fd 1, 3, 4), every rendition consumed by the
 *         native HLS writer (src/daemons/stream/hls-writer.ts) writing segments into a temp dir;
 *   bare  the very same argument array with fd 1, 3, 4 opened on /dev/null (no reader at all).
 * fps = source frames / wall seconds of the ffmpeg run. ratio = flux_fps / bare_fps (target >= 0.97).
 * ffmpeg CPU comes from this process's cutime/cstime (/proc/self/stat) across each run (children
 * are reaped by us, so the delta is exactly ffmpeg's); the writer path CPU is process.cpuUsage()
 * of this process over the flux run (pipe reads + demux/segmenter + segment files), per rendition.
 * Run order alternates with the pid (bare first on even pids) so repeated runs cancel order bias.
 * On a shared/loaded machine wall-clock fps is noisy: cpu_ratio (bare ffmpeg CPU / flux ffmpeg CPU)
 * is the load-independent check that feeding the writer costs ffmpeg nothing.
 *
 *   node --import tsx bench/transcode.ts [--seconds 20] [--preset veryfast]     (or: npm run bench -- transcode)
 *
 * Last stdout line: {"metrics":{"flux_fps":…,"bare_fps":…,"ratio":…,…},"notes":"…"}
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, readdir, stat } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { buildPipelineArgs } from '../src/ffmpeg/args.js';
import { resolveFfmpeg } from '../src/ffmpeg/resolve.js';
import { HlsWriter } from '../src/daemons/stream/hls-writer.js';
import type { ResolvedStream } from '../src/config/model.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

const SECONDS = Number(arg('seconds', '20'));
const PRESET = arg('preset', 'veryfast');
const FPS = 25;
const FRAMES = SECONDS * FPS;

const url = `fake://testsrc?size=1920x1080&fps=${FPS}&duration=${SECONDS}&realtime=0`;
const stream: ResolvedStream = {
  name: 'bench',
  disabled: false,
  inputs: [{ url, scheme: 'fake', priority: 1, sourceTimeoutMs: 5000, returnAfterMs: 10_000, loop: true }],
  transcoder: {
    hw: 'cpu',
    fallback: 'none',
    deinterlace: false,
    video: [
      { name: 'v1', codec: 'h264', bitrate: 4_000_000, width: 1920, height: 1080, preset: PRESET },
      { name: 'v2', codec: 'h264', bitrate: 2_000_000, width: 1280, height: 720, preset: PRESET },
      { name: 'v3', codec: 'h264', bitrate: 800_000, width: 640, height: 360, preset: PRESET },
    ],
    audio: { codec: 'aac', bitrate: 128_000, perProfile: false },
  },
  root: '/nonexistent',
  push: [],
  hls: { segmentDurationMs: 2000, window: 6 },
  auth: { playToken: false, secureLink: false },
  renditions: ['v1a1', 'v2a1', 'v3a1'],
};

/** user+sys CPU seconds of reaped children (cutime + cstime from /proc/self/stat). */
function childrenCpuSec(): number {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // fields after the comm: index 0 = state (field 3); cutime = field 16, cstime = field 17
  return (Number(f[13]) + Number(f[14])) / 100; // USER_HZ is 100 on Linux
}

function waitExit(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

async function runBare(ffmpeg: string, args: string[], fds: number[]): Promise<{ wallSec: number; cpuSec: number }> {
  const devnull = openSync('/dev/null', 'w');
  const maxFd = Math.max(...fds);
  const stdio: ('ignore' | 'pipe' | number)[] = [];
  for (let fd = 0; fd <= maxFd; fd++) stdio.push(fd === 0 ? 'ignore' : fd === 2 ? 'pipe' : fds.includes(fd) ? devnull : 'ignore');
  const cpu0 = childrenCpuSec();
  const t0 = process.hrtime.bigint();
  const child = spawn(ffmpeg, args, { stdio });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const code = await waitExit(child);
  const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(devnull);
  if (code !== 0) throw new Error(`bare ffmpeg exited ${code}: ${err.slice(-500)}`);
  return { wallSec, cpuSec: childrenCpuSec() - cpu0 };
}

async function runFlux(ffmpeg: string, args: string[], outputs: { rendition: string; fd: number }[]) {
  const root = await mkdtemp(path.join(tmpdir(), 'flux-bench-transcode-'));
  try {
    const writers = await Promise.all(outputs.map((o) => HlsWriter.open({ root, rendition: o.rendition, segmentDurationMs: 2000, window: 6, keepSegments: false })));
    const maxFd = Math.max(...outputs.map((o) => o.fd));
    const stdio: ('ignore' | 'pipe')[] = [];
    for (let fd = 0; fd <= maxFd; fd++) stdio.push(fd === 0 ? 'ignore' : fd === 2 || outputs.some((o) => o.fd === fd) ? 'pipe' : 'ignore');
    const bytes = outputs.map(() => 0);
    const cpu0 = childrenCpuSec();
    const self0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const child = spawn(ffmpeg, args, { stdio });
    outputs.forEach((o, i) => {
      (child.stdio[o.fd] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
        bytes[i]! += b.length;
        writers[i]!.write(b);
      });
    });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const code = await waitExit(child);
    const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
    await Promise.all(writers.map((w) => w.close()));
    const self = process.cpuUsage(self0);
    if (code !== 0) throw new Error(`flux ffmpeg exited ${code}: ${err.slice(-500)}`);
    let segments = 0;
    for (const o of outputs) segments += (await countTs(path.join(root, o.rendition))) ?? 0;
    return { wallSec, cpuSec: childrenCpuSec() - cpu0, writerCpuSec: (self.user + self.system) / 1e6, bytes, segments };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function countTs(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += await countTs(path.join(dir, e.name));
    else if (e.name.endsWith('.ts') && (await stat(path.join(dir, e.name))).size > 0) n++;
  }
  return n;
}

async function main(): Promise<void> {
  const ffmpeg = (await resolveFfmpeg()).path;
  const built = buildPipelineArgs(stream, stream.inputs[0]!)!;
  const fds = built.outputs.map((o) => o.fd);
  const bareFirst = process.pid % 2 === 0;
  let bare: { wallSec: number; cpuSec: number };
  let flux: Awaited<ReturnType<typeof runFlux>>;
  if (bareFirst) {
    bare = await runBare(ffmpeg, built.args, fds);
    flux = await runFlux(ffmpeg, built.args, built.outputs);
  } else {
    flux = await runFlux(ffmpeg, built.args, built.outputs);
    bare = await runBare(ffmpeg, built.args, fds);
  }
  const fluxFps = FRAMES / flux.wallSec;
  const bareFps = FRAMES / bare.wallSec;
  const perRendition = flux.writerCpuSec / built.outputs.length;
  const human = {
    bare: { wall_s: +bare.wallSec.toFixed(2), ffmpeg_cpu_s: +bare.cpuSec.toFixed(2), fps: +bareFps.toFixed(2) },
    flux: {
      wall_s: +flux.wallSec.toFixed(2),
      ffmpeg_cpu_s: +flux.cpuSec.toFixed(2),
      fps: +fluxFps.toFixed(2),
      writer_cpu_s: +flux.writerCpuSec.toFixed(3),
      MB: flux.bytes.map((b) => +(b / 1e6).toFixed(2)),
      segments: flux.segments,
    },
  };
  process.stderr.write(`${JSON.stringify(human)}\n`);
  const out = {
    metrics: {
      flux_fps: { value: +fluxFps.toFixed(2), unit: 'fps', better: 'higher' },
      bare_fps: { value: +bareFps.toFixed(2), unit: 'fps', better: 'higher' },
      ratio: { value: +(fluxFps / bareFps).toFixed(3), unit: 'x', better: 'higher' },
      flux_ffmpeg_cpu: { value: +flux.cpuSec.toFixed(2), unit: 's', better: 'lower' },
      bare_ffmpeg_cpu: { value: +bare.cpuSec.toFixed(2), unit: 's', better: 'lower' },
      // load-independent view: ffmpeg CPU per frame bare vs flux (1 = the pipes/writer cost ffmpeg nothing)
      cpu_ratio: { value: +(bare.cpuSec / Math.max(flux.cpuSec, 1e-9)).toFixed(3), unit: 'x', better: 'higher' },
      writer_cpu_per_rendition: { value: +perRendition.toFixed(3), unit: 's', better: 'lower' },
      writer_cpu_share: { value: +((100 * flux.writerCpuSec) / Math.max(flux.cpuSec, 1e-9)).toFixed(2), unit: '% of ffmpeg', better: 'lower' },
    },
    notes:
      `1080p25 testsrc2 ${SECONDS}s (${FRAMES} frames) → 1080p 4M / 720p 2M / 360p 800k libx264 ${PRESET} + aac 128k shared via tee, ` +
      `one ffmpeg; flux = supervisor-style pipes into HlsWriter, bare = same args to /dev/null; ${bareFirst ? 'bare' : 'flux'} ran first; ` +
      `writer ${flux.writerCpuSec.toFixed(2)} s CPU for ${((flux.bytes.reduce((a, b) => a + b, 0)) / 1e6).toFixed(1)} MB, ${flux.segments} segments; ${cpus().length} CPUs`,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench transcode: ${(e as Error).message}\n`);
  process.exit(1);
});
