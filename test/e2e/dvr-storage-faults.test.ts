/**
 * DVR storage faults on a real filesystem: a tiny tmpfs that fills up, and one remounted read-only
 * mid-run. Mounting needs root (chmod does not stop root); without it these tests skip.
 * Checks: live playlist continuity (media sequence, no discontinuity, program date time advancing
 * by segment durations), the supervisor status, the archive.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSupervisorProc, tempEnv, waitFor, writeSpec } from '../integration/supervisor-helpers.js';
import { listArchive } from '../../src/dvr/listing.js';
import { assertContinuous, pdtEntries, watchPlaylist } from './playlist-watch.js';
import { fakeStream, startNode, tempDir, waitFor as waitUntil } from '../helpers/index.js';

const isRoot = process.getuid?.() === 0;
const canMount = isRoot && spawnSync('mount', ['--version']).status === 0;
const SKIP = !canMount && 'needs root to mount a tmpfs (chmod does not stop root; a non-root run cannot make one): skipped';

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * A tmpfs of `size` (mounted on a hidden dir), seen through a bind mount: `dir` is where the stream
 * records. `readOnly()` stacks a read-only bind of the same tmpfs on `dir` (a plain remount,ro is
 * refused while the writer holds a segment open: this is atomic, and the open file finishes on
 * the layer below, like a disk that turns read-only between two files); `writable()` removes it.
 * Everything is unmounted (lazily: a supervisor may still hold files) and removed after the test.
 */
async function tmpfs(t: TestContext, size: string): Promise<{ dir: string; readOnly(): void; writable(): void }> {
  const store = await mkdtemp(path.join(os.tmpdir(), 'flux-tmpfs-'));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-dvrmnt-'));
  sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', store]);
  let layers = 0;
  t.after(async () => {
    for (let i = 0; i <= layers; i++) spawnSync('umount', ['-l', dir]);
    spawnSync('umount', ['-l', store]);
    await rm(dir, { recursive: true, force: true });
    await rm(store, { recursive: true, force: true });
  });
  sh('mount', ['--bind', store, dir]);
  return {
    dir,
    readOnly() {
      sh('mount', ['--bind', store, dir]);
      layers++;
      sh('mount', ['-o', 'remount,bind,ro', dir]);
    },
    writable() {
      sh('umount', ['-l', dir]);
      layers--;
    },
  };
}

const FAKE = 'fake://testsrc2?size=320x240&fps=15&bitrate=600k';

test('full DVR disk (1 MiB tmpfs): the oldest segments are evicted before writes fail; no segment lost, live continuous', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const env = await tempEnv(t, 'flux-dvrfull-');
  const mnt = (await tmpfs(t, '1m')).dir;
  const { file, stream } = await writeSpec(env, 'full', { inputs: [{ url: FAKE }], hls: { segment_duration: '1s', window: 3 }, dvr: { path: mnt, disk_headroom: '64K' } });
  const sup = await startSupervisorProc(t, env, file, 'full');
  const w = watchPlaylist(() => path.join(stream.root, 'v1a1', 'index.m3u8'));
  t.after(() => w.stop());
  t.after(() => sup.post('/stop').catch(() => {}));
  // fill the disk several times over
  const st = await waitFor('the disk filled and was pruned', async () => {
    const s = await sup.status();
    const dvr = s.dvr as { retention: { removedSegments: number } };
    return dvr.retention.removedSegments >= 15 ? s : null;
  }, 90_000, 500);
  w.stop();
  const dvr = st.dvr as { paused: boolean; lastError?: string; headroomBytes?: number; disk?: { availableBytes: number } };
  assert.equal(dvr.paused, false, dvr.lastError);
  assert.equal(dvr.lastError, undefined);
  assert.ok(dvr.headroomBytes! > 64 * 1024, String(dvr.headroomBytes));
  assert.equal(st.lastError, null);
  assert.equal(st.state, 'running');
  assertContinuous(w.seen, Math.min(...w.seen.keys()) + 1);
  assert.doesNotMatch(await sup.log(), /segment dropped|ENOSPC/);
});

test('DVR storage remounted read-only mid-run: state error with the reason, live goes on from the data dir, the archive gap shows, all recovers', { skip: SKIP, timeout: 150_000 }, async (t) => {
  const env = await tempEnv(t, 'flux-dvrro-');
  const fs = await tmpfs(t, '32m');
  const mnt = fs.dir;
  const { file, stream } = await writeSpec(env, 'ro', { inputs: [{ url: FAKE }], hls: { segment_duration: '1s', window: 4 }, dvr: { path: mnt } });
  const fallback = path.join(env.dataDir, 'ro');
  const sup = await startSupervisorProc(t, env, file, 'ro');
  t.after(() => sup.post('/stop').catch(() => {}));
  const primary = watchPlaylist(() => path.join(stream.root, 'v1a1', 'index.m3u8'));
  const moved = watchPlaylist(() => path.join(fallback, 'v1a1', 'index.m3u8'));
  t.after(() => {
    primary.stop();
    moved.stop();
  });
  await waitFor('3 segments on the DVR storage', async () => ((await sup.status()).renditions[0]!.segments >= 3 ? true : null), 30_000, 200);
  assert.equal((await sup.status()).state, 'running');

  fs.readOnly();
  const roAt = Date.now();
  const err = await waitFor('state error', async () => {
    const s = await sup.status();
    return s.state === 'error' ? s : null;
  }, 10_000, 100);
  // at most a segment and a tick after the remount
  assert.ok(Date.now() - roAt < 4000, `${Date.now() - roAt} ms to notice`);
  assert.match(err.lastError ?? '', new RegExp(`storage ${mnt} is not writable \\(EROFS\\): live output continues from ${fallback}, archive paused`));
  assert.ok(err.events.some((e) => e.type === 'error' && e.reason === 'storage_unwritable'), JSON.stringify(err.events));
  await waitFor('live output moved', async () => ((await sup.status()).liveRoot === fallback ? true : null), 10_000, 100);
  const lastPrimary = Math.max(...primary.seen.keys());
  // live goes on: new segments in the fallback, the media sequence carried on (not restarted)
  await waitFor('3 live segments in the fallback', () => (moved.seen.size >= 3 ? true : null), 20_000, 200);
  const movedMsns = [...moved.seen.keys()].sort((a, b) => a - b);
  assert.ok(movedMsns[0]! > lastPrimary, `fallback starts at ${movedMsns[0]}, primary ended at ${lastPrimary}`);
  assert.equal(moved.seen.get(movedMsns[0]!)!.discontinuity, true);
  assertContinuous(moved.seen, movedMsns[0]!);
  assert.equal((await sup.status()).state, 'error');
  assert.match(await sup.log(), /is not writable \(EROFS\)/);

  // writable again: live output returns, the error clears, recording resumes
  fs.writable();
  const back = await waitFor('recovered', async () => {
    const s = await sup.status();
    return s.state === 'running' && s.liveRoot === undefined && s.lastError === null ? s : null;
  }, 15_000, 200);
  assert.ok(back.events.some((e) => e.reason === 'storage_recovered'));
  const lastMoved = Math.max(...moved.seen.keys());
  await waitFor('primary playlist advances past the fallback', () => (Math.max(...primary.seen.keys()) > lastMoved + 2 ? true : null), 20_000, 200);
  const resumed = [...primary.seen.keys()].filter((m) => m > lastMoved).sort((a, b) => a - b);
  assertContinuous(primary.seen, resumed[0]!);
  await waitFor('recording resumed', async () => {
    const d = (await sup.status()).dvr as { paused: boolean };
    return d.paused ? null : true;
  }, 10_000, 200);

  // the archive: recorded before and after, a gap where the storage was read-only
  const l = await listArchive({ name: 'ro', root: mnt, renditions: ['v1a1'], dvr: stream.dvr });
  const v = l.renditions[0]!;
  assert.ok(v.ranges.length >= 2, JSON.stringify(v));
  assert.ok(v.gaps.some((g) => g.duration >= 2), JSON.stringify(v.gaps));
});

test('through a node: read-only DVR storage shows as error in `stream show` and the API; HLS playback goes on from the data dir', { skip: SKIP, timeout: 150_000 }, async (t) => {
  const dir = await tempDir(t, 'flux-dvrro-node-');
  const fs = await tmpfs(t, '32m');
  const node = await startNode(t, { dir, streams: { cam: fakeStream({ dvr: { path: fs.dir } }) }, waitAlive: true });
  const playlist = async () => {
    const r = await fetch(`${node.baseUrl}/cam/tracks-v1a1/index.m3u8`);
    return r.status === 200 ? pdtEntries(await r.text()) : [];
  };
  await waitUntil(async () => ((await playlist()).length >= 2 ? true : undefined), { timeoutMs: 30_000, message: 'live playlist' });
  fs.readOnly();
  const lastBefore = Math.max(...(await playlist()).map((e) => e.msn));
  const shown = await waitUntil(
    async () => {
      const r = await node.cli(['stream', 'show', 'cam', '--json']);
      const doc = JSON.parse(r.stdout) as { stats: { status: string; source_error: string | null } };
      return doc.stats.status === 'error' ? doc : undefined;
    },
    { timeoutMs: 8000, intervalMs: 300, message: 'stream show: status error' },
  );
  assert.match(shown.stats.source_error ?? '', /is not writable \(EROFS\): live output continues from .*data\/cam, archive paused/);
  await waitUntil(
    async () => {
      const r = await node.cli(['status', '--json']);
      const doc = JSON.parse(r.stdout) as { streams: { streams: { name: string; stats: { status: string } }[] } };
      return doc.streams.streams.find((x) => x.name === 'cam')?.stats.status === 'error' ? true : undefined;
    },
    { timeoutMs: 8000, intervalMs: 500, message: 'flux status: cam in error' },
  );
  const api = await node.stream('cam');
  assert.equal(api.stats.status, 'error');
  assert.equal(api.stats.alive, false);
  assert.match(api.stats.source_error ?? '', /not writable/);
  // players keep getting new segments (served from the data dir), the sequence going on
  const later = await waitUntil(
    async () => {
      const p = await playlist();
      return p.length && Math.max(...p.map((e) => e.msn)) >= lastBefore + 3 ? p : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 300, message: 'live playlist advancing while the DVR storage is read-only' },
  );
  const newest = (await (await fetch(`${node.baseUrl}/cam/tracks-v1a1/index.m3u8`)).text()).trim().split('\n').pop()!;
  const seg = await fetch(`${node.baseUrl}/cam/tracks-v1a1/${newest}`);
  assert.equal(seg.status, 200);
  assert.ok((await seg.arrayBuffer()).byteLength > 1000);
  assert.ok(later.some((e) => e.msn > lastBefore && e.discontinuity) || later.every((e) => e.msn > lastBefore + 1), 'the switch is marked');

  fs.writable();
  await waitUntil(
    async () => {
      const s = await node.stream('cam');
      return s.stats.status === 'running' && s.stats.source_error === null ? s : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 300, message: 'running again, error cleared' },
  );
});
