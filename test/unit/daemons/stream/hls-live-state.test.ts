/** The HLS writer's live-state recovery (hls-live-state.ts) on real files in a temp dir. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recoverLiveState } from '../../../../src/daemons/stream/hls-live-state.js';
import { segmentRelPath } from '../../../../src/protocol/layout.js';
import { tempDir } from '../../../helpers/index.js';

const T0 = Date.UTC(2026, 10, 24, 23, 59, 56);

async function segment(dir: string, start: number, dur = 2000): Promise<string> {
  const rel = segmentRelPath(start, dur);
  await mkdir(path.join(dir, path.dirname(rel)), { recursive: true });
  await writeFile(path.join(dir, rel), 'ts');
  return rel;
}

test('live.json wins; segments gone from disk leave the window and advance the sequences', async (t) => {
  const dir = await tempDir(t);
  const a = segmentRelPath(T0, 2000); // not on disk
  const b = await segment(dir, T0 + 2000);
  const c = await segment(dir, T0 + 4000);
  const seg = (uri: string, startMs: number, discontinuity = false) => ({ uri, startMs, durationMs: 2000, bytes: 2, discontinuity, keyframe: true });
  await writeFile(path.join(dir, 'live.json'), JSON.stringify({
    version: 1, rendition: 'v1', mediaSequence: 10, discontinuitySequence: 3, targetDuration: 2, lastEndMs: T0 + 6000,
    segments: [seg(a, T0, true), seg(b, T0 + 2000), seg(c, T0 + 4000)], retired: [], updatedAt: 1,
  }));
  const st = await recoverLiveState(dir, 'v1', 6);
  assert.equal(st.mediaSequence, 11);
  assert.equal(st.discontinuitySequence, 4, 'the dropped segment carried a discontinuity');
  assert.deepEqual(st.segments.map((s) => s.uri), [b, c]);
  assert.equal(st.lastEndMs, T0 + 6000);

  // another rendition's state is not this one's: recovered from the files instead
  const other = await recoverLiveState(dir, 'v2', 6);
  assert.equal(other.mediaSequence, Math.floor((T0 + 6000) / 500) - 2);
});

test('no live.json: the old playlist, else the newest segment files (sequence derived from time)', async (t) => {
  const dir = await tempDir(t);
  const a = await segment(dir, T0);
  const b = await segment(dir, T0 + 2000);
  const c = await segment(dir, T0 + 6000); // a gap before it
  const fromDisk = await recoverLiveState(dir, 'v1', 2);
  assert.deepEqual(fromDisk.segments.map((s) => s.uri), [b, c]);
  assert.equal(fromDisk.segments[1]!.discontinuity, true, 'names that do not chain are a discontinuity');
  assert.equal(fromDisk.lastEndMs, T0 + 8000);
  assert.equal(fromDisk.mediaSequence, Math.floor((T0 + 8000) / 500) - 2);

  await writeFile(path.join(dir, 'index.m3u8'), `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n#EXTINF:2,\n${a}\n#EXTINF:2,\n${b}\n`);
  const fromPl = await recoverLiveState(dir, 'v1', 6);
  assert.equal(fromPl.mediaSequence, 7);
  assert.equal(fromPl.discontinuitySequence, 2);
  assert.deepEqual(fromPl.segments.map((s) => s.uri), [a, b]);
  assert.equal(fromPl.lastEndMs, T0 + 8000, 'a newer segment file than the playlist keeps the timeline ahead of it');

  await writeFile(path.join(dir, 'live.json'), '{ not json');
  assert.equal((await recoverLiveState(dir, 'v1', 6)).mediaSequence, 7, 'a damaged live.json falls back to the playlist');
});
