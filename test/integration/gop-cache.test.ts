/** GopCache (src/media/hls/gop-cache.ts): what a warm standby replays when it takes over. Checked with ffprobe. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GopCache } from '../../src/media/hls/gop-cache.js';
import { generateTs, probePackets, tempDir } from './hls-support.js';

test('GopCache: PAT/PMT and the latest keyframe first, everything after it, bounded', async (t) => {
  const ts = await generateTs({ seconds: 3.5, gop: 25 }); // keyframes at 0, 1, 2, 3 s
  const cache = new GopCache();
  for (let i = 0; i < ts.length; i += 1316) cache.push(ts.subarray(i, i + 1316));
  const out = Buffer.concat(cache.take());
  assert.ok(out.length > 0 && out.length < ts.length / 2, `cached ${out.length} of ${ts.length} bytes`);
  const file = path.join(await tempDir(t), 'gop.ts');
  await writeFile(file, out);
  const { errors, packets } = await probePackets(file);
  assert.equal(errors, '', 'ffprobe reads it from its first byte (PAT/PMT first)');
  const video = packets.filter((p) => p.type === 'video');
  assert.ok(video[0]!.key, 'the first video packet is a keyframe');
  assert.equal(video.filter((p) => p.key).length, 1, 'one GOP: the latest');
  const span = video.at(-1)!.pts - video[0]!.pts;
  assert.ok(span > 0.3 && span < 1, `the last GOP's frames since its keyframe: ${span} s`);
  assert.deepEqual(cache.take(), [], 'taken: empty until the next keyframe');

  const small = new GopCache(10_000);
  for (let i = 0; i < ts.length; i += 1316) small.push(ts.subarray(i, i + 1316));
  assert.deepEqual(small.take(), [], 'a GOP larger than maxBytes is not kept');
});
