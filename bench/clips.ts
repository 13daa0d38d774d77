/**
 * Pre-encoded inputs shared by the ingest benchmarks, made once with ffmpeg into os.tmpdir() and
 * cached by name (temp file + rename, so a run killed half-way leaves no truncated clip).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** 30 s of 720p25 H.264 CBR 3.8 Mbit/s (GOP 2 s) + AAC 128k in MPEG-TS at a 4.2 Mbit/s mux rate. */
export function tsClip720p4M(): string {
  const file = path.join(os.tmpdir(), 'flux-bench-udp-720p25-4M-30s-v1.ts');
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
    '-t', '30', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3800k', '-maxrate', '3800k', '-bufsize', '3800k', '-x264-params', 'nal-hrd=cbr', '-g', '50', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '128k', '-f', 'mpegts', '-muxrate', '4200k', tmp], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('ffmpeg could not make the source');
  renameSync(tmp, file);
  return file;
}
