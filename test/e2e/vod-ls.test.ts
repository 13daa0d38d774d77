/** `flux vod ls` with the built binary: files of the vod: locations, with what is wrong with the bad ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir } from '../helpers/index.js';

test('vod ls: table and --json, exit 5 when a file cannot be served, unknown location exit 1', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'media', 'kids'), { recursive: true });
  const good = path.join(dir, 'media', 'kids', 'cartoon.mp4');
  execFileSync(process.env.FLUX_FFMPEG ?? 'ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '20', '-pix_fmt', 'yuv420p', '-y', good]);
  const bytes = await readFile(good);
  await writeFile(path.join(dir, 'media', 'cut.mp4'), bytes.subarray(0, bytes.length >> 1));
  await writeFile(path.join(dir, 'media', 'my movie.mp4'), bytes);
  await writeFile(path.join(dir, 'media', 'notes.txt'), 'not listed');
  await writeFile(path.join(dir, 'flux.yaml'), 'streams: {}\nvod:\n  movies: { path: ./media }\n  empty: { path: ./nothing }\n');

  const r = await runCli(['vod', 'ls', '--json'], { cwd: dir });
  assert.equal(r.code, 5, r.stderr);
  const files = JSON.parse(r.stdout).files as { file: string; url: string; durationSec: number | null; segments: number | null; video: string | null; error: string | null }[];
  assert.deepEqual(files.map((f) => f.file), ['cut.mp4', 'kids/cartoon.mp4', 'my movie.mp4']);
  const cartoon = files[1]!;
  assert.deepEqual([cartoon.url, cartoon.durationSec, cartoon.segments, cartoon.video, cartoon.error], ['/vod/movies/kids/cartoon.mp4/index.m3u8', 8, 2, 'avc1 160x120', null]);
  assert.match(files[0]!.error ?? '', /^truncated MP4/);
  assert.match(files[2]!.error ?? '', /file name cannot be served/);

  const human = await runCli(['vod', 'ls', 'movies'], { cwd: dir });
  assert.equal(human.code, 5);
  assert.match(human.stdout, /^URL\s+SIZE\s+DURATION/m);
  assert.match(human.stdout, /\/vod\/movies\/kids\/cartoon\.mp4\/index\.m3u8\s+\S+\s+8s\s+avc1 160x120/);
  const none = await runCli(['vod', 'ls', 'empty'], { cwd: dir });
  assert.equal(none.code, 0);
  assert.match(none.stdout, /no MP4 files in empty/);
  const bad = await runCli(['vod', 'ls', 'nope'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no vod location "nope" .*\(defined: movies, empty\)/);
});
