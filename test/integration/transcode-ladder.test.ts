/**
 * The argument builder's output run through the real ffmpeg: a CPU ladder from fake:// writes one
 * MPEG-TS per rendition on fd 1, 3, 4 (pipes, as the supervisor reads them); ffprobe checks sizes,
 * keyframe alignment across renditions and audio in each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildPipelineArgs } from '../../src/ffmpeg/args.js';
import { detectCaps } from '../../src/ffmpeg/caps.js';
import { resolveFfmpeg, resolveFfprobe } from '../../src/ffmpeg/resolve.js';
import type { ResolvedInput, ResolvedStream, ResolvedTranscoder } from '../../src/config/model.js';

const run = promisify(execFile);

function fakeInput(url: string): ResolvedInput {
  return { url, scheme: 'fake', priority: 1, sourceTimeoutMs: 5000, returnAfterMs: 10_000, loop: true };
}

function streamOf(url: string, t: ResolvedTranscoder | undefined): ResolvedStream {
  return {
    name: 'ladder',
    disabled: false,
    inputs: [fakeInput(url)],
    transcoder: t,
    root: '/nonexistent',
    push: [],
    hls: { segmentDurationMs: 2000, window: 6 },
    auth: { playToken: false, secureLink: false },
    renditions: t ? t.video.map((_, i) => `v${i + 1}a1`) : ['v1a1'],
  };
}

/** Spawn ffmpeg like the supervisor: stdio pipes for fd 1, 3, 4 …; collect each output. */
async function runPipeline(ffmpeg: string, args: string[], fds: number[], timeoutMs = 45_000): Promise<Map<number, Buffer>> {
  const maxFd = Math.max(2, ...fds);
  const stdio: ('pipe' | 'ignore')[] = [];
  for (let fd = 0; fd <= maxFd; fd++) stdio.push(fd === 0 ? 'ignore' : fd === 2 || fds.includes(fd) ? 'pipe' : 'ignore');
  const child = spawn(ffmpeg, args, { stdio });
  const chunks = new Map<number, Buffer[]>(fds.map((fd) => [fd, []]));
  for (const fd of fds) (child.stdio[fd] as NodeJS.ReadableStream).on('data', (b: Buffer) => chunks.get(fd)!.push(b));
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `ffmpeg failed (${code}): ${stderr}`);
  return new Map([...chunks].map(([fd, c]) => [fd, Buffer.concat(c)]));
}

interface ProbeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  tags?: { language?: string };
}

async function probe(ffprobe: string, file: string): Promise<{ streams: ProbeStream[]; keyframes: number[] }> {
  const s = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height:stream_tags=language', '-of', 'json', file]);
  const k = await run(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file]);
  const keyframes = k.stdout
    .split('\n')
    .filter((l) => /,K/.test(l))
    .map((l) => Number(l.split(',')[0]));
  return { streams: (JSON.parse(s.stdout) as { streams: ProbeStream[] }).streams, keyframes };
}

test('3-profile CPU ladder from fake://: sizes, aligned keyframes, audio in every rendition', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-ladder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  const caps = await detectCaps(ffmpeg);
  const tr: ResolvedTranscoder = {
    hw: 'cpu',
    fallback: 'none',
    deinterlace: false,
    video: [
      { name: 'v1', codec: 'h264', bitrate: 600_000, width: 480, height: 270, preset: 'ultrafast' },
      { name: 'v2', codec: 'h264', bitrate: 300_000, width: 320, height: -2, preset: 'ultrafast' },
      { name: 'v3', codec: 'h264', bitrate: 150_000, width: -2, height: 90, fps: 25, preset: 'ultrafast' },
    ],
    audio: { codec: 'aac', bitrate: 96_000, perProfile: false },
  };
  const s = streamOf('fake://testsrc?size=480x270&fps=25&duration=6.2&realtime=0', tr);
  const r = buildPipelineArgs(s, s.inputs[0]!, caps)!;
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.outputs.map((o) => o.fd), [1, 3, 4]);
  const out = await runPipeline(ffmpeg, r.args, r.outputs.map((o) => o.fd));

  const expected = [
    [480, 270],
    [320, 180],
    [160, 90],
  ];
  const keyframeSets: number[][] = [];
  for (const [i, o] of r.outputs.entries()) {
    const buf = out.get(o.fd)!;
    assert.ok(buf.length > 10_000, `${o.rendition}: ${buf.length} bytes`);
    assert.equal(buf[0], 0x47, 'MPEG-TS sync byte');
    const file = path.join(dir, `${o.rendition}.ts`);
    await writeFile(file, buf);
    const p = await probe(ffprobe, file);
    const video = p.streams.filter((x) => x.codec_type === 'video');
    const audio = p.streams.filter((x) => x.codec_type === 'audio');
    assert.equal(video.length, 1, `${o.rendition}: one video stream`);
    assert.equal(video[0]!.codec_name, 'h264');
    assert.deepEqual([video[0]!.width, video[0]!.height], expected[i], `${o.rendition} size`);
    assert.equal(audio.length, 1, `${o.rendition}: audio present`);
    assert.equal(audio[0]!.codec_name, 'aac');
    keyframeSets.push(p.keyframes);
  }
  // a keyframe every 2 s of a 6.2 s clip: 0, 2, 4, 6 — at the same PTS in all three renditions
  assert.equal(keyframeSets[0]!.length, 4, `keyframes: ${keyframeSets[0]}`);
  const first = keyframeSets[0]![0]!;
  assert.deepEqual(
    keyframeSets[0]!.map((k) => Math.round((k - first) * 1000)),
    [0, 2000, 4000, 6000],
  );
  assert.deepEqual(keyframeSets[1], keyframeSets[0], 'v2 keyframes aligned with v1');
  assert.deepEqual(keyframeSets[2], keyframeSets[0], 'v3 keyframes aligned with v1');
});

test('logo (odd path), bwdif, per-profile audio, two language tracks: real ffmpeg accepts the graph', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-ladder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  const logoDir = path.join(dir, "logo dir, [a];b:c'd");
  await mkdir(logoDir);
  const logo = path.join(logoDir, 'logo.png');
  await run(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=white:size=32x16', '-frames:v', '1', logo]);
  const tr: ResolvedTranscoder = {
    hw: 'cpu',
    fallback: 'none',
    deinterlace: 'bwdif',
    logo: { path: logo, position: 'bottom-right', x: 8, y: 8, opacity: 0.5 },
    video: [
      { name: 'v1', codec: 'h264', bitrate: 500_000, width: 320, height: 180 },
      { name: 'v2', codec: 'h264', bitrate: 200_000, width: 160, height: -2, preset: 'ultrafast' },
    ],
    audio: { codec: 'aac', bitrate: 64_000, perProfile: true, channels: 2, sampleRate: 44100 },
  };
  const s = streamOf('fake://black?size=320x180&fps=25&duration=2.1&realtime=0&lang=eng,fra', tr);
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  const out = await runPipeline(ffmpeg, r.args, r.outputs.map((o) => o.fd));
  for (const o of r.outputs) {
    const file = path.join(dir, `${o.rendition}.ts`);
    await writeFile(file, out.get(o.fd)!);
    const p = await probe(ffprobe, file);
    const audio = p.streams.filter((x) => x.codec_type === 'audio');
    assert.deepEqual(audio.map((a) => a.tags?.language), ['eng', 'fra'], `${o.rendition}: both audio tracks kept`);
  }
  // the logo is there: a bright patch in the bottom-right corner of a black frame (opacity 0.5 → ~mid grey)
  const frame = await run(ffmpeg, ['-v', 'error', '-i', path.join(dir, 'v1a1.ts'), '-frames:v', '1', '-vf', 'crop=16:8:320-8-24:180-8-12,format=gray', '-f', 'rawvideo', 'pipe:1'], {
    encoding: 'buffer',
  });
  const px = frame.stdout as Buffer;
  const mean = px.reduce((a, b) => a + b, 0) / px.length;
  assert.ok(mean > 90 && mean < 180, `logo patch mean luma ${mean}`);
});

test('fake:// without a transcoder: encoded once to pipe:1 with keyframes every segment', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-ladder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  const s = streamOf('fake://smptebars?size=320x240&fps=30&duration=4.1&realtime=0&tone=0', undefined);
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  const out = await runPipeline(ffmpeg, r.args, [1]);
  const file = path.join(dir, 'v1a1.ts');
  await writeFile(file, out.get(1)!);
  const p = await probe(ffprobe, file);
  assert.deepEqual(
    p.streams.map((x) => x.codec_name),
    ['h264', 'aac'],
  );
  assert.equal(p.keyframes.length, 3, `keyframes ${p.keyframes}`);
});
