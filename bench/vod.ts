/**
 * VOD first bytes for a long MP4 (default 120 minutes, 320x180@25, keyframe every 2 s, AAC; moov
 * at the end, as ffmpeg writes it): the cold index (moov scan + parse + segment plan, what the first
 * playlist request waits for), the playlist render, and the first segment from the middle of the
 * file (ffmpeg stream copy). In-process VodService, cold caches for every measurement.
 *
 *   node --import tsx bench/vod.ts        (or: npm run bench -- vod; FLUX_BENCH_VOD_MINUTES=1 for a quick check)
 *
 * Last stdout line: {"metrics":{"vod_index_ms":…,"vod_playlist_ms":…,"vod_segment_ms":…},"notes":"…"}
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { VodService } from '../src/vod/vod.js';

const MINUTES = Number(process.env.FLUX_BENCH_VOD_MINUTES ?? 120);
const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-vod-'));
  try {
    const file = path.join(dir, 'long.mp4');
    const t0 = performance.now();
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', String(MINUTES * 60),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-b:v', '300k', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-shortest', '-y', file]);
    const size = (await stat(file)).size;
    console.log(`made a ${MINUTES}-minute MP4 (${(size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const index: number[] = [];
    const playlist: number[] = [];
    const segment: number[] = [];
    for (let i = 0; i < 5; i++) {
      const svc = new VodService(() => FFMPEG);
      const a = performance.now();
      const vf = await svc.file(file);
      const b = performance.now();
      const text = VodService.playlist(vf);
      const c = performance.now();
      const seg = await svc.segment(file, vf, Math.floor(vf.segments.length / 2));
      const d = performance.now();
      index.push(b - a);
      playlist.push(c - b);
      segment.push(d - c);
      if (i === 0) console.log(`${vf.segments.length} segments, playlist ${text.length} bytes, middle segment ${seg.length} bytes`);
    }
    const med = (a: number[]) => Math.round([...a].sort((x, y) => x - y)[a.length >> 1]! * 10) / 10;
    console.log(
      JSON.stringify({
        metrics: {
          vod_index_ms: { value: med(index), unit: 'ms', better: 'lower' },
          vod_playlist_ms: { value: med(playlist), unit: 'ms', better: 'lower' },
          vod_segment_ms: { value: med(segment), unit: 'ms', better: 'lower' },
        },
        notes: `${MINUTES}-minute MP4, ${(size / 1e6).toFixed(0)} MB, moov at the end; medians of 5 cold runs (new VodService each); segment = ffmpeg stream copy of the middle 6 s segment to TS in memory; node ${process.version}`,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
