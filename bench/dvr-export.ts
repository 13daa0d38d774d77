/**
 * Export speed of a 1 h, 4 Mbit/s archive (1,800 segments of 2 s, ~1.8 GB) to MP4, against bare
 * `ffmpeg -f concat -safe 0 -i list -c copy out.mp4` on the same segment files, in the same run.
 *
 * The archive is generated once into os.tmpdir() and cached: 60 s of 1280x720 testsrc2 encoded by x264
 * ultrafast at a constant 4 Mbit/s (nal-hrd=cbr: filler keeps the byte rate real), looped to 1 h by ffmpeg
 * (-stream_loop, -c copy: continuous timestamps), cut into ~2 s keyframe segments by the real HLS writer
 * and indexed by the DvrRecorder, exactly as a live recording would be.
 *
 * Metrics (one measurement each per run; the files are in the page cache for both contenders, a warm-up
 * read comes first):
 *   flux_export_s           exportArchive() to .mp4 with the defaults of `flux dvr export` (+faststart)
 *   flux_export_nofs_s      the same with --no-faststart (what bare ffmpeg concat writes)
 *   flux_export_ts_s        exportArchive() to .ts (byte concatenation)
 *   ffmpeg_concat_s         ffmpeg -f concat -safe 0 -i list -c copy out.mp4
 *   ratio                   ffmpeg_concat_s / flux_export_s (>= 0.9 is the target: flux at most ~10% slower)
 * exportArchive runs in-process (no CLI start-up in the figure).
 *
 *   node --import tsx bench/dvr-export.ts        (or: npm run bench -- dvr-export)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HlsWriter } from '../src/daemons/stream/hls-writer.js';
import { DvrRecorder } from '../src/dvr/recorder.js';
import { Archive } from '../src/dvr/archive.js';
import { exportArchive } from '../src/dvr/export.js';

const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
const MINUTES = Number(process.env.FLUX_BENCH_DVR_MINUTES ?? 60);
const BASE = path.join(tmpdir(), `flux-bench-dvr-export-${MINUTES}m-4M-v1`);
const ROOT = path.join(BASE, 'archive');
const DONE = path.join(BASE, '.complete');
const START = Date.UTC(2026, 0, 5, 10, 0, 0);

function ff(args: string[]): void {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`ffmpeg failed (${r.status}): ${args.join(' ')}`);
}

async function ensureArchive(): Promise<void> {
  if (existsSync(DONE)) return;
  rmSync(BASE, { recursive: true, force: true });
  mkdirSync(BASE, { recursive: true });
  const clip = path.join(BASE, 'clip.ts');
  const long = path.join(BASE, 'long.ts');
  process.stderr.write(`generating a ${MINUTES} min 4 Mbit/s archive in ${BASE} (once)...\n`);
  // prettier-ignore
  ff([
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '60', '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3900k', '-minrate', '3900k', '-maxrate', '3900k', '-bufsize', '3900k',
    '-x264-params', 'nal-hrd=cbr', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '96k', '-f', 'mpegts', clip,
  ]);
  ff(['-stream_loop', '-1', '-i', clip, '-t', String(MINUTES * 60), '-c', 'copy', '-f', 'mpegts', long]);
  const rec = await DvrRecorder.open({ root: ROOT, renditions: ['v1a1'] });
  const w = await HlsWriter.open({
    root: ROOT,
    rendition: 'v1a1',
    segmentDurationMs: 2000,
    window: 6,
    keepSegments: true,
    now: () => START,
    maxPdtLagMs: Number.MAX_SAFE_INTEGER,
    onSegment: (seg) => rec.onSegment(seg),
  });
  const fd = openSync(long, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(188 * 5000);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      w.write(buf.subarray(0, n));
      if (w.stats.queuedBytes > 16 * 1024 * 1024) await w.drain();
    }
  } finally {
    closeSync(fd);
  }
  await w.close();
  await rec.close();
  rmSync(clip);
  rmSync(long);
  writeFileSync(DONE, new Date().toISOString());
}

function runTimed(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e9) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

await ensureArchive();
const archive = new Archive(ROOT);
const t = await archive.segments('v1a1', START, START + MINUTES * 60_000 + 60_000);
const files: string[] = [];
for (let i = 0; i < t.length; i++) files.push(archive.segmentPath('v1a1', t.start[i]!, t.dur[i]!));
const totalBytes = t.totalBytes();
// warm the page cache for both contenders
for (const f of files) {
  const fd = openSync(f, 'r');
  const b = Buffer.allocUnsafe(statSync(f).size);
  readSync(fd, b, 0, b.length, 0);
  closeSync(fd);
}
const work = path.join(BASE, 'out');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const list = path.join(work, 'list.txt');
writeFileSync(list, files.map((f) => `file '${f.replaceAll("'", "'\\''")}'`).join('\n') + '\n');

const range = { root: ROOT, rendition: 'v1a1', fromMs: START, toMs: START + MINUTES * 60_000 };
const ffmpegOut = path.join(work, 'ffmpeg.mp4');
const fluxOut = path.join(work, 'flux.mp4');
const ffmpegS = await runTimed(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', ffmpegOut]);
const ffmpegBytes = statSync(ffmpegOut).size;
rmSync(ffmpegOut);
const fluxS = await timed(() => exportArchive({ ...range, output: fluxOut, ffmpeg: FFMPEG }));
const fluxBytes = statSync(fluxOut).size;
rmSync(fluxOut);
const fluxNoFs = await timed(() => exportArchive({ ...range, output: fluxOut, ffmpeg: FFMPEG, faststart: false }));
rmSync(fluxOut);
const tsOut = path.join(work, 'flux.ts');
const fluxTs = await timed(() => exportArchive({ ...range, output: tsOut }));
rmSync(tsOut);
rmSync(work, { recursive: true, force: true });

const out = {
  metrics: {
    flux_export_s: { value: +fluxS.toFixed(2), unit: 's', better: 'lower' },
    flux_export_nofs_s: { value: +fluxNoFs.toFixed(2), unit: 's', better: 'lower' },
    flux_export_ts_s: { value: +fluxTs.toFixed(2), unit: 's', better: 'lower' },
    ffmpeg_concat_s: { value: +ffmpegS.toFixed(2), unit: 's', better: 'lower' },
    ratio: { value: +(ffmpegS / fluxS).toFixed(3), unit: 'x', better: 'higher' },
  },
  notes: `${MINUTES} min archive, ${t.length} segments, ${(totalBytes / 1e9).toFixed(2)} GB (page cache warm); mp4 sizes flux ${(fluxBytes / 1e9).toFixed(2)} GB, ffmpeg ${(ffmpegBytes / 1e9).toFixed(2)} GB; flux_export_s uses +faststart (the CLI default, a second pass over the file) while bare ffmpeg concat does not; flux_export_nofs_s is the like-for-like figure.`,
};
process.stdout.write(JSON.stringify(out) + '\n');
