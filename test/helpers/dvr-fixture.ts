/**
 * A realistic DVR archive, quickly: real ffmpeg encodes 60 s of testsrc + sine (libx264 -g 25
 * -sc_threshold 0, aac; not -re) into MPEG-TS once (cached in os.tmpdir()), then the real HlsWriter cuts
 * it into ~2 s keyframe segments in the DVR layout, with synthetic program date times starting at
 * `startMs`, and hands every segment to an optional DvrRecorder (like the supervisor does).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, rename, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HlsWriter, type WrittenSegment } from '../../src/daemons/stream/hls-writer.js';
import type { DvrRecorder } from '../../src/dvr/recorder.js';

export const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
export const FFPROBE = process.env.FLUX_FFPROBE ?? 'ffprobe';

export function run(cmd: string, args: string[], opts: { input?: Buffer } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.input) child.stdin!.end(opts.input);
  });
}

/** 60 s of 320x240@25 H.264 (keyframe every second) + AAC in MPEG-TS, encoded once per machine. */
export async function sourceTs(seconds = 60): Promise<string> {
  const file = path.join(tmpdir(), `flux-dvr-e2e-src-${seconds}s-v1.ts`);
  if (await stat(file).then((s) => s.size > 0, () => false)) return file;
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  // prettier-ignore
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'mpegts', tmp,
  ];
  const r = await run(FFMPEG, args);
  if (r.code !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  await rename(tmp, file);
  return file;
}

export interface MadeArchive {
  segments: WrittenSegment[];
  startMs: number;
}

/** Cut the source into segments of `rendition` under `root`, PDT from `startMs`. */
export async function makeArchive(
  root: string,
  opts: { rendition?: string; startMs: number; recorder?: DvrRecorder; seconds?: number },
): Promise<MadeArchive> {
  const src = await readFile(await sourceTs(opts.seconds ?? 60));
  const segments: WrittenSegment[] = [];
  const w = await HlsWriter.open({
    root,
    rendition: opts.rendition ?? 'v1a1',
    segmentDurationMs: 2000,
    window: 6,
    keepSegments: true,
    now: () => opts.startMs,
    maxPdtLagMs: Number.MAX_SAFE_INTEGER,
    onSegment: async (seg) => {
      segments.push(seg);
      await opts.recorder?.onSegment(seg);
    },
  });
  for (let off = 0; off < src.length; off += 188 * 350) w.write(src.subarray(off, off + 188 * 350));
  await w.close();
  return { segments, startMs: opts.startMs };
}

export { tempDir } from './index.js';

export async function probeDuration(file: string): Promise<number> {
  const r = await run(FFPROBE, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file]);
  if (r.code !== 0) throw new Error(`ffprobe failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** Decode everything; returns ffmpeg's error output (empty when clean). */
export async function decodeErrors(file: string): Promise<string> {
  const r = await run(FFMPEG, ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-']);
  return (r.code === 0 ? '' : `exit ${r.code}\n`) + r.stderr.trim();
}

export async function fileSize(file: string): Promise<number> {
  const fh = await open(file, 'r');
  try {
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}
