/**
 * `flux dvr export` / `flux dvr ls` with the built CLI on a real archive (real ffmpeg encode, cut by the
 * real HLS writer, indexed by the DvrRecorder). No node is involved: the commands read the disk.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DvrRecorder } from '../../src/dvr/recorder.js';
import { decodeErrors, makeArchive, probeDuration, run } from '../helpers/dvr-fixture.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(REPO, 'bin', 'run.js');
// 22:59:30 UTC: the 60 s archive crosses an hour boundary
const START = Date.UTC(2026, 10, 24, 22, 59, 30);
const sec = (ms: number) => String(Math.floor(ms / 1000));

let dir: string;
let root: string;
let config: string;

const flux = (...args: string[]) => run(process.execPath, [CLI, ...args]);

before(async () => {
  await access(path.join(REPO, 'dist', 'commands', 'dvr', 'export.js')).catch(async () => {
    const r = await run('npm', ['run', '-s', 'build']);
    if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  });
  dir = await mkdtemp(path.join(tmpdir(), 'flux-dvr-export-'));
  root = path.join(dir, 'archive');
  config = path.join(dir, 'flux.yaml');
  await writeFile(
    config,
    `server:\n  data_dir: ${JSON.stringify(path.join(dir, 'data'))}\nstreams:\n  cams/door:\n    inputs:\n      - url: publish://\n    dvr: { path: ${JSON.stringify(root)}, retention: 7d }\n`,
  );
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  const made = await makeArchive(root, { startMs: START, recorder: rec });
  await rec.close();
  assert.ok(made.segments.length >= 29, `segments: ${made.segments.length}`);
});

after(() => rm(dir, { recursive: true, force: true }));

for (const ext of ['ts', 'mp4']) {
  test(`export 20 s from the middle to .${ext}: duration within a keyframe interval, decodes cleanly`, async () => {
    const out = path.join(dir, `mid.${ext}`);
    const r = await flux('dvr', 'export', 'cams/door', '-c', config, '--from', sec(START + 20_000), '--duration', '20s', '-o', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.file, out);
    assert.equal(res.format, ext);
    assert.equal(res.segments, 10);
    assert.equal(res.duration, 20);
    assert.deepEqual(res.gaps, []);
    assert.equal(res.from, new Date(START + 20_000).toISOString());
    const d = await probeDuration(out);
    assert.ok(Math.abs(d - 20) <= 1.0, `duration ${d}`);
    assert.equal(await decodeErrors(out), '');
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
  });
}

test('export with --to and an ISO time across the hour boundary', async () => {
  const out = path.join(dir, 'iso.mp4');
  const r = await flux('dvr', 'export', 'cams/door', '-c', config, '--from', '2026-11-24T22:59:50Z', '--to', '2026-11-24T23:00:10Z', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /iso\.mp4: 20s \(10 segments/);
  assert.ok(Math.abs((await probeDuration(out)) - 20) <= 1.0);
});

test('a range with nothing recorded exits 1 with a one-line reason and writes nothing', async () => {
  const out = path.join(dir, 'none.mp4');
  const [r, j] = await Promise.all([
    flux('dvr', 'export', 'cams/door', '-c', config, '--from', '-10m', '--duration', '5m', '-o', out),
    flux('dvr', 'export', 'cams/door', '-c', config, '--from', sec(START - 3_600_000), '-d', '60', '-o', out, '--json'),
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^flux: nothing recorded for v1a1 between \S+ and \S+\n$/);
  assert.equal(r.stdout, '');
  await assert.rejects(access(out));
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.stdout).error.code, 'E_NO_RECORDING');
});

test('usage errors: unknown stream (with a hint), bad time, missing duration, bad format', async () => {
  const x = path.join(dir, 'x.ts');
  const [a, b, c, d] = await Promise.all([
    flux('dvr', 'export', 'cams/dor', '-c', config, '--from', '-1h', '-d', '1m', '-o', x),
    flux('dvr', 'export', 'cams/door', '-c', config, '--from', 'yesterday', '-d', '1m', '-o', x),
    flux('dvr', 'export', 'cams/door', '-c', config, '--from', '-1h', '-o', x),
    flux('dvr', 'export', 'cams/door', '-c', config, '--from', '-1h', '-d', '1m', '-o', path.join(dir, 'x.mkv')),
  ]);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /stream "cams\/dor" not found .*did you mean "cams\/door"/);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /invalid time "yesterday"/);
  assert.equal(c.code, 2);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /unknown output format/);
});

test('dvr ls: ranges, gaps and disk use (table and --json), from the config, no node', async () => {
  const [j, w, h] = await Promise.all([
    flux('dvr', 'ls', 'cams/door', '-c', config, '--json'),
    flux('dvr', 'ls', 'cams/door', '-c', config, '--from', '2026-11-24T23:00:00Z', '--to', '2026-11-24T23:00:10Z', '--json'),
    flux('dvr', 'ls', 'cams/door', '-c', config),
  ]);
  assert.equal(j.code, 0, j.stderr);
  const l = JSON.parse(j.stdout);
  assert.equal(l.stream, 'cams/door');
  assert.equal(l.root, root);
  assert.equal(l.dvr.retention, 7 * 86_400_000);
  const r = l.renditions[0];
  assert.equal(r.name, 'v1a1');
  assert.ok(r.segments >= 29, j.stdout);
  assert.equal(r.ranges.length, 1);
  assert.equal(r.ranges[0].from, '2026-11-24T22:59:30Z');
  assert.deepEqual(r.gaps, []);
  assert.equal(r.unindexedHours, 0);
  assert.equal(l.disk.archiveBytes, r.bytes);
  assert.equal(l.disk.totalBytes, r.bytes);
  assert.equal(l.disk.overCap, false);
  assert.ok(l.disk.filesystem.totalBytes > 0, j.stdout);
  assert.equal(JSON.parse(w.stdout).renditions[0].segments, 5);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /v1a1: \d+ segments, .* 1 range, 0 gaps/);
  assert.match(h.stdout, /2026-11-24T22:59:30Z/);
});

test('dvr ls says when an archive is over its max_size cap (table and --json)', async () => {
  const capped = path.join(dir, 'capped.yaml');
  await writeFile(capped, `streams:\n  cams/door:\n    inputs:\n      - url: publish://\n    dvr: { path: ${JSON.stringify(root)}, max_size: 10K }\n`);
  const [j, w, h] = await Promise.all([
    flux('dvr', 'ls', 'cams/door', '-c', capped, '--json'),
    flux('dvr', 'ls', 'cams/door', '-c', capped, '--from', '2026-11-24T23:00:00Z', '--to', '2026-11-24T23:00:10Z', '--json'),
    flux('dvr', 'ls', 'cams/door', '-c', capped),
  ]);
  assert.equal(j.code, 0, j.stderr);
  const l = JSON.parse(j.stdout);
  assert.equal(l.dvr.maxSize, 10 * 1024);
  assert.equal(l.disk.overCap, true);
  assert.ok(l.disk.totalBytes > 10 * 1024);
  // a window lists less, but the cap is about the whole archive
  const lw = JSON.parse(w.stdout);
  assert.ok(lw.disk.archiveBytes < l.disk.archiveBytes);
  assert.equal(lw.disk.totalBytes, l.disk.totalBytes);
  assert.equal(lw.disk.overCap, true);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /OVER CAP: the archive holds .* more than its max_size 10K/);
});
