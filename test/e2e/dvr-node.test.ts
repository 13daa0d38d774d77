/**
 * DVR through a real node: a fake:// stream with dvr records for ~12 s, its supervisor is killed with
 * SIGKILL mid-recording, the node starts it again, recording goes on. Then: the archive on disk has a
 * short gap and nothing else wrong (the index, when the supervisor keeps one, agrees with the files), and
 * archive playback through the node's HTTP port works across the gap (ffmpeg plays the playlist; .ts
 * downloads decode; recording_status.json shows the gap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { fakeStream, pidAlive, sleep, startNode, tempDir, waitFor } from '../helpers/index.js';
import { Archive } from '../../src/dvr/archive.js';
import { readHourIndex, indexFilePath, scanHourNames } from '../../src/dvr/index-file.js';
import { walkHourDirs } from '../../src/protocol/walk.js';
import { parseIndexFileName } from '../../src/protocol/layout.js';
import { FFMPEG, decodeErrors, probeDuration, run } from '../helpers/dvr-fixture.js';

test('kill -9 of a recording supervisor leaves a short gap; archive playback works across it', { timeout: 150_000 }, async (t) => {
  const dir = await tempDir(t, 'flux-dvr-node-');
  const root = path.join(dir, 'dvr', 'cam');
  const node = await startNode(t, {
    dir,
    streams: { cam: fakeStream({ dvr: { path: './dvr/cam', retention: '1h' }, hls: { segment_duration: '1s', window: 4 } }) },
    waitAlive: true,
  });
  const archive = new Archive(root);
  const count = async () => (await archive.summary('v1a1')).segments;
  await waitFor(async () => (await count()) >= 10, { timeoutMs: 40_000, intervalMs: 500, message: '10 segments recorded' });

  const s0 = await node.stream('cam');
  const sup = s0.stats.supervisor!.pid!;
  process.kill(sup, 'SIGKILL');
  await waitFor(async () => !(await pidAlive(sup)), { message: 'supervisor gone' });
  const before = await count();
  await waitFor(
    async () => {
      const s = await node.stream('cam');
      return s.stats.supervisor?.pid && s.stats.supervisor.pid !== sup && s.stats.alive ? s : undefined;
    },
    { timeoutMs: 30_000, message: 'supervisor restarted by the node' },
  );
  await waitFor(async () => (await count()) >= before + 8, { timeoutMs: 40_000, intervalMs: 500, message: '8 more segments after the restart' });

  // the archive: two ranges (or one with a discontinuity), a short gap between them
  const sum = await archive.summary('v1a1');
  assert.ok(sum.gaps.length >= 1, `a gap after the restart: ${JSON.stringify(sum.gaps)}`);
  assert.ok(sum.gaps.length <= 2, `only the restart's gap: ${JSON.stringify(sum.gaps)}`);
  for (const g of sum.gaps) assert.ok(g.durationMs < 20_000, `short gap: ${JSON.stringify(g)}`);

  // playback through the node: the archive playlist across the gap
  const from = Math.floor(sum.oldestMs! / 1000);
  const dur = Math.ceil(sum.newestMs! / 1000) - from;
  const url = `${node.baseUrl}/cam/archive-${from}-${dur}.m3u8`;
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const pl = HLS.parse(await res.text()) as HLS.types.MediaPlaylist;
  assert.equal(pl.endlist, true);
  assert.ok(pl.segments.some((s) => s.discontinuity), 'EXT-X-DISCONTINUITY at the restart');
  const d = await tempDir(t, 'flux-dvr-node-play-');
  const played = path.join(d, 'played.ts');
  const r = await run(FFMPEG, ['-hide_banner', '-v', 'error', '-i', url, '-c', 'copy', '-f', 'mpegts', played]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await probeDuration(played)) >= 10, 'ffmpeg played the archive');

  const ts = await fetch(`${node.baseUrl}/cam/archive-${from}-${dur}.ts`);
  assert.equal(ts.status, 200);
  await writeFile(path.join(d, 'dl.ts'), Buffer.from(await ts.arrayBuffer()));
  assert.equal(await decodeErrors(path.join(d, 'dl.ts')), '');
  const st = (await (await fetch(`${node.baseUrl}/cam/recording_status.json`)).json()) as { ranges: unknown[]; gaps: unknown[] };
  assert.ok(st.ranges.length >= 2 && st.gaps.length >= 1, JSON.stringify(st));

  // the supervisor keeps the index: it agrees with the files once recording stops
  await node.stop();
  await sleep(200);
  const idxDir = path.join(root, 'v1a1', 'index');
  const idxFiles = await readdir(idxDir).catch(() => [] as string[]);
  const hours = idxFiles.map(parseIndexFileName).filter((h): h is number => h !== undefined);
  assert.ok(hours.length > 0, 'the supervisor wrote a DVR index');
  const indexed: number[] = [];
  for (const h of hours) {
    const ri = await readHourIndex(indexFilePath(root, 'v1a1', h));
    assert.equal(ri.damaged, false, `index hour ${h} intact`);
    indexed.push(...ri.table.start.subarray(0, ri.table.length));
  }
  const files: number[] = [];
  for (const h of await walkHourDirs(path.join(root, 'v1a1'))) files.push(...(await scanHourNames(root, 'v1a1', h)).map((x) => x.startMs));
  assert.deepEqual(indexed, files, 'one record per segment file, in order');
});
