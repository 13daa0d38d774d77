/**
 * CPU of the failover_on quality watch of one input (black, frozen, silence: the ffmpeg child that
 * decodes keyframes only at 64x36 and audio at 8 kHz), for a 1080p25 H.264 + AAC source (keyframe
 * every 2 s, 6 Mbit/s) fed at real-time pace through `ffmpeg -re -c copy`. Target: ≤ 5 % of a core.
 *
 *   node --import tsx bench/quality-watch.ts   (or: npm run bench -- quality-watch; FLUX_BENCH_QW_SECONDS=5 for a quick check)
 *
 * Last stdout line: {"metrics":{"quality_watch_cpu_percent":…},"notes":"…"}
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/core/logger.js';
import { QualityWatch } from '../src/daemons/stream/quality.js';

const SECONDS = Number(process.env.FLUX_BENCH_QW_SECONDS ?? 30);
const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-qw-'));
  try {
    const ts = path.join(dir, 'src.ts');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', String(SECONDS + 3),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-b:v', '6M', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-f', 'mpegts', '-y', ts]);
    const watch = new QualityWatch({ blackMs: 5000, frozenMs: 5000, silenceMs: 10_000 }, FFMPEG, silentLogger);
    const feeder = spawn(FFMPEG, ['-v', 'error', '-re', '-i', ts, '-c', 'copy', '-f', 'mpegts', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    feeder.stdout.on('data', (c: Buffer) => watch.feed(c));
    // skip the child's start-up (probing) before measuring
    await new Promise((r) => setTimeout(r, 3000));
    const pid = watch.pid;
    if (!pid) throw new Error(`the quality watch did not start: ${watch.lastError ?? 'no child'}`);
    const c0 = await cpuSeconds(pid);
    const t0 = Date.now();
    await new Promise<void>((r) => feeder.once('exit', () => r()));
    const cpu = (await cpuSeconds(pid).catch(() => c0)) - c0;
    const wall = (Date.now() - t0) / 1000;
    watch.stop();
    const pct = Math.round((1000 * cpu) / wall) / 10;
    console.log(`quality watch: ${cpu.toFixed(2)} s CPU over ${wall.toFixed(1)} s of 1080p25 = ${pct} % of a core; impaired now: ${watch.impaired()}`);
    console.log(
      JSON.stringify({
        metrics: { quality_watch_cpu_percent: { value: pct, unit: '%', better: 'lower' } },
        notes: `1080p25 H.264 6 Mbit/s (GOP 2 s) + AAC, ${SECONDS} s at real-time pace; watch = black+frozen+silence (keyframes only, 64x36; audio 8 kHz); target ≤ 5 %; node ${process.version}`,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
