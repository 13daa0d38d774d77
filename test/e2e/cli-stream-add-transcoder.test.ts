import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assertBuilt, runCli } from '../helpers/index.js';

test('stream add --video/--hw/--push writes a transcoder ladder and push targets that resolve', async (t) => {
  assertBuilt();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-add-tc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'flux.yaml');
  const env = { FLUX_SOCKET: path.join(dir, 'none.sock') };
  const add = await runCli(
    ['stream', 'add', 'abr', '-c', cfg, '--input', 'fake://testsrc', '--video', '1280x720:2000k', '--video', '640x360:800k:h265',
      '--hw', 'vaapi', '--hw-fallback', '--audio-bitrate', '96k', '--deinterlace', '--push', 'rtmp://127.0.0.1:1/live/abr', '--json'],
    { env },
  );
  assert.equal(add.code, 0, add.stderr);
  assert.match(await readFile(cfg, 'utf8'), /transcoder:/);
  const show = await runCli(['config', 'show', '-c', cfg, '--json'], { env });
  assert.equal(show.code, 0, show.stderr);
  const s = (JSON.parse(show.stdout) as { streams: Record<string, { transcoder: { hw: string; fallback: string; deinterlace: string; video: { width: number; height: number; bitrate: number; codec: string }[]; audio: { bitrate: number } }; push: { url: string }[]; renditions: string[] }> }).streams.abr!;
  assert.equal(s.transcoder.hw, 'vaapi');
  assert.equal(s.transcoder.fallback, 'cpu');
  assert.equal(s.transcoder.deinterlace, 'yadif');
  assert.deepEqual(s.transcoder.video.map((v) => [v.width, v.height, v.bitrate, v.codec]), [[1280, 720, 2_000_000, 'h264'], [640, 360, 800_000, 'h265']]);
  assert.equal(s.transcoder.audio.bitrate, 96_000);
  assert.deepEqual(s.renditions, ['v1a1', 'v2a1']);
  assert.equal(s.push[0]!.url, 'rtmp://127.0.0.1:1/live/abr');

  const bad = await runCli(['stream', 'add', 'bad', '-c', cfg, '--input', 'fake://', '--video', '1280x720:fast:vp9'], { env });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /codec must be h264 or h265/);
  const badUnit = await runCli(['stream', 'add', 'bad', '-c', cfg, '--input', 'fake://', '--video', '1280x720:zz'], { env });
  assert.equal(badUnit.code, 3, badUnit.stderr);
  assert.match(badUnit.stderr, /invalid bitrate "zz"/);
  assert.doesNotMatch(await readFile(cfg, 'utf8'), /bad:/, 'an invalid stream is never written');
});
