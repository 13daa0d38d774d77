import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, unlink } from 'node:fs/promises';
import { indexFilePath, segmentPath, writeHourIndex } from '../../../src/dvr/index-file.js';
import { hourOf } from '../../../src/protocol/layout.js';
import path from 'node:path';
import { exportArchive, NothingRecordedError, formatOf } from '../../../src/dvr/export.js';
import { parseTime, parseDurationArg } from '../../../src/dvr/time.js';
import { InputError } from '../../../src/core/errors.js';
import { T0, content, run, tableOf, tempRoot, writeSegments } from './helpers.js';

test('parseTime: ISO-8601, unix seconds, relative, now', () => {
  const now = T0 + 3_600_000;
  assert.equal(parseTime('2026-11-24T22:00:00Z', now), T0);
  assert.equal(parseTime('2026-11-24T23:00:00+01:00', now), T0);
  assert.equal(parseTime(String(T0 / 1000), now), T0);
  assert.equal(parseTime('1764021600.5', now), 1764021600500);
  assert.equal(parseTime('-1h', now), T0);
  assert.equal(parseTime('-30m', now), now - 1_800_000);
  assert.equal(parseTime('now', now), now);
  const local = parseTime('2026-11-24T22:00:00', now);
  assert.equal(local, new Date(2026, 10, 24, 22, 0, 0).getTime(), 'no offset = local time');
  for (const bad of ['yesterday', '-1x', '2026-13-45T99:00:00Z', '']) assert.throws(() => parseTime(bad, now), InputError, bad);
  assert.equal(parseDurationArg('20s'), 20_000);
  assert.equal(parseDurationArg('90'), 90_000);
  assert.throws(() => parseDurationArg('0'), InputError);
});

test('formatOf picks the container from the extension', () => {
  assert.equal(formatOf('a.ts'), 'ts');
  assert.equal(formatOf('A.MP4'), 'mp4');
  assert.equal(formatOf('a.mkv'), undefined);
});

test('.ts export is the byte concatenation of the whole segments overlapping the range, across a gap', async (t) => {
  const root = await tempRoot(t);
  const segs = [...run(T0, 5, 2000, 188), ...run(T0 + 20_000, 5, 2000, 188)];
  await writeSegments(root, 'v1a1', segs);
  const out = path.join(root, 'out', 'x.ts');
  const seen: number[] = [];
  const r = await exportArchive({ root, rendition: 'v1a1', fromMs: T0 + 5000, toMs: T0 + 25_000, output: out, onProgress: (p) => seen.push(p.segments) });
  const want = [...segs.slice(2, 5), ...segs.slice(5, 8)];
  assert.deepEqual(await readFile(out), Buffer.concat(want.map(content)));
  assert.equal(r.segments, 6);
  assert.equal(r.durationMs, 12_000);
  assert.equal(r.bytes, 6 * 188);
  assert.equal(r.fromMs, T0 + 4000);
  assert.equal(r.toMs, T0 + 26_000);
  assert.deepEqual(r.gaps.map((g) => [g.fromMs - T0, g.toMs - T0, g.reason]), [[10_000, 20_000, 'missing']]);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual((await readdir(path.dirname(out))).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
});

test('nothing recorded: a one-line reason and no file; an aborted export leaves no file', async (t) => {
  const root = await tempRoot(t);
  await writeSegments(root, 'v1a1', run(T0, 50, 2000, 188));
  const out = path.join(root, 'none.ts');
  await assert.rejects(exportArchive({ root, rendition: 'v1a1', fromMs: T0 - 60_000, toMs: T0 - 1000, output: out }), (e: unknown) => {
    assert.ok(e instanceof NothingRecordedError);
    assert.equal((e as NothingRecordedError).code, 'E_NO_RECORDING');
    assert.doesNotMatch((e as Error).message, /\n/);
    return true;
  });
  const ac = new AbortController();
  await assert.rejects(
    exportArchive({
      root,
      rendition: 'v1a1',
      fromMs: T0,
      toMs: T0 + 100_000,
      output: out,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.segments === 10) ac.abort();
      },
    }),
  );
  assert.deepEqual((await readdir(root)).filter((n) => n !== 'v1a1'), [], 'neither output nor temp file');
});

test('segments listed by the index but gone from disk are skipped and reported as a gap', async (t) => {
  const root = await tempRoot(t);
  const segs = run(T0, 10, 2000, 188);
  await writeSegments(root, 'v1a1', segs);
  await writeHourIndex(indexFilePath(root, 'v1a1', hourOf(T0)), tableOf(segs));
  for (const s of segs.slice(4, 6)) await unlink(segmentPath(root, 'v1a1', s.startMs, s.durationMs));
  const out = path.join(root, 'x.ts');
  const r = await exportArchive({ root, rendition: 'v1a1', fromMs: T0, toMs: T0 + 20_000, output: out });
  assert.equal(r.missing, 2);
  assert.equal(r.segments, 8);
  assert.deepEqual(r.gaps.map((g) => [g.fromMs - T0, g.toMs - T0]), [[8000, 12_000]]);
  assert.deepEqual(await readFile(out), Buffer.concat([...segs.slice(0, 4), ...segs.slice(6)].map(content)));
});
