/**
 * `flux doctor` against the real ffmpeg of this machine and against stand-in binaries
 * (FLUX_FFMPEG) that lack the essentials. Runs the built CLI (npm run build first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir } from '../helpers/index.js';

interface Check {
  name: string;
  group: string;
  ok: boolean;
  essential: boolean;
  detail: string;
}

test('doctor on this machine: ffmpeg from PATH, essentials present, exit 0, every mission check listed', async (t) => {
  const dir = await tempDir(t, 'flux-doc-');
  const r = await runCli(['doctor', '--json'], { cwd: dir }); // no flux.yaml in dir: PATH decides
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.ok, true);
  assert.equal(r.json.ffmpeg.source, 'path');
  assert.match(r.json.ffmpeg.version, /^\d+\.\d+/);
  assert.ok(['sibling', 'path'].includes(r.json.ffprobe.source));
  const names = (r.json.checks as Check[]).map((c) => c.name);
  for (const n of ['ffmpeg', 'ffprobe', 'libx264', 'libx265', 'aac', 'srt', 'rtmp', 'rtsp', 'nvenc', 'qsv', 'vaapi']) assert.ok(names.includes(n), n);
  const byName = new Map((r.json.checks as Check[]).map((c) => [c.name, c]));
  assert.equal(byName.get('libx264')!.ok, true);
  assert.equal(byName.get('aac')!.ok, true);
  assert.deepEqual(r.json.missing, []);
  // the human table says the same
  const h = await runCli(['doctor'], { cwd: dir });
  assert.equal(h.code, 0);
  assert.match(h.stdout, /libx264\s+encoder\s+ok/);
  assert.match(h.stdout, /nvenc\s+hardware\s+(ok|no)/);
});

test('FLUX_FFMPEG pointing at an ffmpeg without libx264: source env, exit 1, libx264 named missing', async (t) => {
  const dir = await tempDir(t, 'flux-doc-');
  const fake = path.join(dir, 'ffmpeg');
  await writeFile(
    fake,
    `#!/bin/sh
case "$*" in
  *-version*) echo "ffmpeg version 6.0-stand-in Copyright (c) the FFmpeg developers"; echo "configuration: --disable-everything" ;;
  *-encoders*) printf 'Encoders:\\n V..... = Video\\n ------\\n A..... aac                  AAC\\n V..... mpeg2video           MPEG-2\\n' ;;
  *-decoders*) printf 'Decoders:\\n ------\\n V..... h264                 H.264\\n' ;;
  *-protocols*) printf 'Supported file protocols:\\nInput:\\n  file\\n  pipe\\nOutput:\\n  file\\n  pipe\\n' ;;
  *-hwaccels*) printf 'Hardware acceleration methods:\\n\\n' ;;
  *-filters*) printf 'Filters:\\n ... split            V->N       split\\n' ;;
  *-demuxers*|*-muxers*) printf 'File formats:\\n --\\n DE mpegts          MPEG-TS\\n' ;;
esac
`,
  );
  await chmod(fake, 0o755);
  const r = await runCli(['doctor', '--json'], { cwd: dir, env: { FLUX_FFMPEG: fake } });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.json.ok, false);
  assert.deepEqual(r.json.ffmpeg, { path: fake, source: 'env', version: '6.0-stand-in' });
  assert.deepEqual(r.json.missing, ['libx264']);
  const byName = new Map((r.json.checks as Check[]).map((c) => [c.name, c]));
  assert.equal(byName.get('srt')!.ok, false);
  assert.equal(byName.get('rtsp')!.ok, false);
  assert.match(byName.get('nvenc')!.detail, /not compiled/);
  assert.match(r.stderr, /missing essentials: libx264/);
});

test('no ffmpeg at all (FLUX_FFMPEG wrong): exit 1 with the reason', async (t) => {
  const dir = await tempDir(t, 'flux-doc-');
  const r = await runCli(['doctor', '--json'], { cwd: dir, env: { FLUX_FFMPEG: path.join(dir, 'nope') } });
  assert.equal(r.code, 1);
  assert.equal(r.json.ffmpeg, null);
  assert.ok((r.json.missing as string[]).includes('ffmpeg'));
  const ff = (r.json.checks as Check[]).find((c) => c.name === 'ffmpeg')!;
  assert.match(ff.detail, /FLUX_FFMPEG is not an executable file/);
});

test('config server.ffmpeg is used (source config) and GPU streams of the config are checked', async (t) => {
  const dir = await tempDir(t, 'flux-doc-');
  const file = path.join(dir, 'flux.yaml');
  await writeFile(
    file,
    `server:\n  ffmpeg: /usr/bin/ffmpeg\nstreams:\n  gpu1:\n    inputs: [{ url: "fake://testsrc" }]\n    transcoder:\n      hw: vaapi\n      device: /dev/dri/renderD199\n      fallback: cpu\n      video: [{ bitrate: 1000k, size: 640x360 }]\n`,
  );
  const r = await runCli(['doctor', '--json', '--config', file], { cwd: dir, env: { FLUX_FFMPEG: '' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.ffmpeg.source, 'config');
  assert.equal(r.json.config, file);
  const s = (r.json.checks as Check[]).find((c) => c.name === 'stream gpu1')!;
  assert.equal(s.ok, false);
  assert.match(s.detail, /renderD199 missing\) \(will fall back to cpu\)/);
});
