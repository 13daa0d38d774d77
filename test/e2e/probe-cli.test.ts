/**
 * `flux probe`: a generated file (table and --json), and sources that fail: a missing file, a
 * refused connection, a server that never answers (bounded by --timeout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort, runCli, tempDir } from '../helpers/index.js';

test('flux probe summarizes a file; unreachable sources fail with one line', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'clip.ts');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=2',
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=44100:duration=2', '-ac', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline',
    '-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', file]);

  const j = await runCli(['probe', file, '--json']);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.json.format.name, 'mpegts');
  assert.ok(j.json.format.duration > 1.5 && j.json.format.duration < 2.5, String(j.json.format.duration));
  const v = j.json.streams.find((s: { type: string }) => s.type === 'video');
  const a = j.json.streams.find((s: { type: string }) => s.type === 'audio');
  assert.deepEqual([v.codec, v.profile, v.width, v.height, v.fps], ['h264', 'Constrained Baseline', 160, 120, 10]);
  assert.deepEqual([a.codec, a.channels, a.sample_rate], ['aac', 2, 44100]);
  assert.ok(a.bitrate > 0);

  const human = await runCli(['probe', file]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /container\s+mpegts/);
  assert.match(human.stdout, /video\s+h264\s+Constrained Baseline\s+160x120\s+10/);
  assert.match(human.stdout, /audio\s+aac/);

  const missing = await runCli(['probe', path.join(dir, 'nope.ts')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^flux: .*nope\.ts: no such file/);

  const refusedPort = await freePort();
  const refused = await runCli(['probe', `http://127.0.0.1:${refusedPort}/live/index.m3u8`, '--timeout', '3s']);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /^flux: cannot probe http:\/\/127\.0\.0\.1:\d+\/live\/index\.m3u8: .*refused/i);

  // a server that accepts and never answers: bounded by --timeout (ffprobe's I/O timeout, then a hard kill)
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const port = (silent.address() as net.AddressInfo).port;
  const started = Date.now();
  const hung = await runCli(['probe', `rtmp://127.0.0.1:${port}/live/x`, '--timeout', '1s', '--json']);
  const elapsed = Date.now() - started;
  assert.equal(hung.code, 1);
  assert.equal(hung.json.error.code, 'E_EXTERNAL');
  assert.match(hung.stderr, /^flux: cannot probe rtmp:\/\/127\.0\.0\.1:\d+\/live\/x: /);
  assert.ok(elapsed < 20_000, `bounded by the timeout (took ${elapsed} ms)`);

  const usage = await runCli(['probe', 'fake://testsrc']);
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /fake:\/\/ is a Flux source/);
});
