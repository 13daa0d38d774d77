/**
 * HlsWriter with `container: 'fmp4'`: CMAF segments and an init segment on disk, a strict-parsing
 * version 6 playlist with EXT-X-MAP, init + segments decode with ffprobe, and a restart that changes
 * the container never mixes TS and fMP4 in one playlist (sequence numbers go on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, setOptions, types } from 'hls-parser';
import { HlsWriter } from '../../src/daemons/stream/hls-writer.js';
import { defer, generateTs, tempDir } from './hls-support.js';

setOptions({ strictMode: true, silent: true });

async function writeAll(root: string, container: 'ts' | 'fmp4', ts: Buffer, t: Parameters<typeof defer>[0]): Promise<HlsWriter> {
  const w = await HlsWriter.open({ root, rendition: 'v1a1', segmentDurationMs: 1000, window: 10, keepSegments: false, container });
  defer(t, () => w.close());
  for (let i = 0; i < ts.length; i += 32 * 1024) w.write(ts.subarray(i, i + 32 * 1024));
  await w.close();
  return w;
}

test('fmp4 writer: .m4s segments, init segment, EXT-X-MAP; ffprobe decodes init + segments', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const ts = await generateTs({ seconds: 5, size: '320x180' });
  const w = await writeAll(dir, 'fmp4', ts, t);
  const rdir = path.join(dir, 'v1a1');
  const text = await readFile(path.join(rdir, 'index.m3u8'), 'utf8');
  const pl = parse(text) as InstanceType<typeof types.MediaPlaylist>;
  assert.equal(pl.version, 6);
  assert.ok(pl.segments.length >= 4);
  const mapUri = pl.segments[0]!.map?.uri;
  assert.match(mapUri ?? '', /^init-[0-9a-f]{12}\.mp4$/);
  for (const s of pl.segments) assert.match(s.uri, /\.m4s$/);
  assert.equal((text.match(/#EXT-X-MAP/g) ?? []).length, 1, 'one EXT-X-MAP for one init');
  const state = JSON.parse(await readFile(path.join(rdir, 'live.json'), 'utf8')) as { segments: { map?: string }[] };
  assert.ok(state.segments.every((s) => s.map === mapUri));
  assert.equal(w.stats.segments, pl.segments.length);

  const file = path.join(dir, 'all.mp4');
  await writeFile(file, Buffer.concat([await readFile(path.join(rdir, mapUri!)), ...(await Promise.all(pl.segments.map((s) => readFile(path.join(rdir, s.uri)))))]));
  const r = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-count_frames', '-show_streams', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const v = (JSON.parse(r.stdout) as { streams: { codec_type: string; nb_read_frames: string }[] }).streams.find((s) => s.codec_type === 'video')!;
  assert.equal(Number(v.nb_read_frames), 125, 'every frame of 5 s at 25 fps');
});

test('fmp4 writer: a restart with another container starts a clean window, sequence goes on', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const ts = await generateTs({ seconds: 3, size: '160x120' });
  await writeAll(dir, 'ts', ts, t);
  const pl1 = parse(await readFile(path.join(dir, 'v1a1', 'index.m3u8'), 'utf8')) as InstanceType<typeof types.MediaPlaylist>;
  const end1 = pl1.mediaSequenceBase! + pl1.segments.length;
  await writeAll(dir, 'fmp4', ts, t);
  const text2 = await readFile(path.join(dir, 'v1a1', 'index.m3u8'), 'utf8');
  const pl2 = parse(text2) as InstanceType<typeof types.MediaPlaylist>;
  assert.ok(pl2.segments.every((s) => s.uri.endsWith('.m4s')), text2);
  assert.ok(pl2.mediaSequenceBase! >= end1, 'media sequence never goes back');
  assert.ok(pl2.discontinuitySequenceBase! > (pl1.discontinuitySequenceBase ?? 0));
  await writeAll(dir, 'ts', ts, t);
  const text3 = await readFile(path.join(dir, 'v1a1', 'index.m3u8'), 'utf8');
  assert.doesNotMatch(text3, /EXT-X-MAP|\.m4s/);
  assert.match(text3, /#EXT-X-VERSION:3/);
  // the fMP4 segments that left the playlist are deleted after the grace period, not kept forever
  const hours = await readdir(path.join(dir, 'v1a1'), { recursive: true });
  assert.ok(hours.filter((n) => String(n).endsWith('.m4s')).length <= 2, JSON.stringify(hours));
});

test('fmp4 writer: a codec change mid-stream names a new init segment after a discontinuity', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const small = await generateTs({ seconds: 3, size: '160x120' });
  const big = await generateTs({ seconds: 3, size: '320x240' });
  const w = await HlsWriter.open({ root: dir, rendition: 'v1a1', segmentDurationMs: 1000, window: 10, keepSegments: false, container: 'fmp4' });
  defer(t, () => w.close());
  for (const ts of [small, big]) for (let i = 0; i < ts.length; i += 32 * 1024) w.write(ts.subarray(i, i + 32 * 1024));
  await w.close();
  const text = await readFile(path.join(dir, 'v1a1', 'index.m3u8'), 'utf8');
  const maps = [...text.matchAll(/^#EXT-X-MAP:URI="(init-[0-9a-f]{12}\.mp4)"$/gm)].map((m) => m[1]!);
  assert.equal(maps.length, 2, text);
  assert.notEqual(maps[0], maps[1]);
  const second = text.indexOf(`#EXT-X-MAP:URI="${maps[1]}"`);
  assert.ok(text.lastIndexOf('#EXT-X-DISCONTINUITY\n', second) > text.indexOf(`#EXT-X-MAP:URI="${maps[0]}"`), 'a discontinuity before the new init');
  parse(text);
  // each init + its segments decode at their own size
  const pl = parse(text) as InstanceType<typeof types.MediaPlaylist>;
  for (const [map, width] of [[maps[0]!, 160], [maps[1]!, 320]] as const) {
    const segs = pl.segments.filter((s) => s.map?.uri === map);
    assert.ok(segs.length >= 2);
    const file = path.join(dir, `${width}.mp4`);
    await writeFile(file, Buffer.concat([await readFile(path.join(dir, 'v1a1', map)), ...(await Promise.all(segs.map((s) => readFile(path.join(dir, 'v1a1', s.uri)))))]));
    const r = spawnSync('ffprobe', ['-v', 'error', '-of', 'json', '-select_streams', 'v', '-show_streams', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { streams: { width: number }[] }).streams[0]!.width, width);
  }
});
