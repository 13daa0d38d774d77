/**
 * The node agent supervises real supervisor daemons (real ffmpeg, fake:// sources):
 * ffmpeg restarts, supervisor restarts, re-adoption after a kill -9 of the node, a second node
 * refused, graceful stop of everything. Through every kill -9 the live playlists stay continuous:
 * media sequence without a hole or reset, program date time chained (a discontinuity where a
 * producer restarted, none at all across the node's own death).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fakeStream, pidAlive, REPO_ROOT, startNode, tempDir, waitFor } from '../helpers/index.js';
import { assertContinuous, hasDiscontinuity, watchPlaylist } from './playlist-watch.js';

test('node supervises, restarts, re-adopts and stops supervisors', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { a: fakeStream(), 'cams/b': fakeStream({}, { tone: false }) }, waitAlive: true });
  const wa = watchPlaylist(() => path.join(dir, 'data', 'a', 'v1a1', 'index.m3u8'));
  const wb = watchPlaylist(() => path.join(dir, 'data', 'cams', 'b', 'v1a1', 'index.m3u8'));
  t.after(() => {
    wa.stop();
    wb.stop();
  });
  const segmentsAfter = (w: typeof wa, msn: number, what: string) =>
    waitFor(() => (w.last() >= msn + 3 ? true : undefined), { timeoutMs: 20_000, intervalMs: 200, message: `3 segments of ${what} after ${msn}` });
  await segmentsAfter(wa, -1, 'a');
  await segmentsAfter(wb, -1, 'cams/b');
  const firstA = Math.min(...wa.seen.keys());
  const firstB = Math.min(...wb.seen.keys());

  // node status
  const st = await node.cli(['node', 'status', '--json']);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(st.json.pid, node.pid);
  assert.equal(st.json.streams_count, 2);
  assert.equal(st.json.config_file, node.configFile);
  assert.match(st.json.version, /^\d+\.\d+\.\d+/);
  assert.ok(st.json.ffmpeg.path, 'ffmpeg in use');
  const human = await node.cli(['node', 'status']);
  assert.match(human.stdout, /uptime/);
  assert.match(human.stdout, new RegExp(`pid ${node.pid}`));

  // a second node on the same run dir is refused (CLI pre-check and the daemon's own lock)
  const second = await node.cli(['node', 'start']);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /already running on run dir .* \(pid \d+\)/);
  const direct = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'flux-node.js'), '--config', node.configFile], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(direct.status, 1);
  assert.match(direct.stderr, /already running/);
  assert.equal((await node.info()).pid, node.pid, 'the first node still answers');

  // kill -9 an ffmpeg child: the supervisor runs it again
  const a0 = await node.stream('a');
  const ff = a0.stats.ffmpeg[0];
  assert.ok(ff && (await pidAlive(ff.pid)), 'stream a has a running ffmpeg child');
  const ffKillMsn = wa.last();
  process.kill(ff.pid, 'SIGKILL');
  const a1 = await waitFor(
    async () => {
      const s = await node.stream('a');
      const now = s.stats.ffmpeg[0];
      return now && now.pid !== ff.pid && (await pidAlive(now.pid)) ? s : undefined;
    },
    { timeoutMs: 3000, intervalMs: 100, message: 'a new ffmpeg child of stream a' },
  );
  assert.ok(a1.stats.retry_count >= 1, 'the ffmpeg restart is counted');
  await segmentsAfter(wa, ffKillMsn, 'a');
  assertContinuous(wa.seen, firstA);
  assert.ok(hasDiscontinuity(wa.seen, ffKillMsn), 'EXT-X-DISCONTINUITY after the ffmpeg restart');

  // kill -9 a supervisor: the node starts it again and counts it
  const b0 = await node.stream('cams/b');
  const supB = b0.stats.supervisor!.pid!;
  const supKillMsn = wb.last();
  process.kill(supB, 'SIGKILL');
  const b1 = await waitFor(
    async () => {
      const s = await node.stream('cams/b');
      return s.stats.supervisor?.pid && s.stats.supervisor.pid !== supB && s.stats.alive ? s : undefined;
    },
    { timeoutMs: 15_000, message: 'cams/b supervisor restarted by the node' },
  );
  assert.equal(b1.stats.supervisor!.restarts, 1);
  assert.ok(b1.stats.events.some((e) => e.type === 'supervisor_restart'));
  assert.equal((await node.info()).supervisor_restarts, 1);
  await segmentsAfter(wb, supKillMsn, 'cams/b');
  assertContinuous(wb.seen, firstB);
  assert.ok(hasDiscontinuity(wb.seen, supKillMsn), 'EXT-X-DISCONTINUITY after the supervisor restart');

  // kill -9 the node: supervisors keep running; the next node re-adopts them without interruption
  const before = await node.supervisorPids();
  assert.deepEqual(Object.keys(before).sort(), ['a', 'cams/b']);
  const lifetimeA = (await node.stream('a')).stats.lifetime;
  const nodeKillMsn = { a: wa.last(), b: wb.last() };
  node.kill();
  await waitFor(async () => !(await pidAlive(node.pid)), { message: 'node gone' });
  for (const pid of Object.values(before)) assert.ok(await pidAlive(pid), `supervisor ${pid} survives the node`);
  const offline = await node.cli(['stream', 'list', '--json']);
  assert.equal(offline.code, 0);
  assert.match(offline.stderr, /no node running/);
  assert.equal(offline.json.streams.length, 2);
  const unreachable = await node.cli(['node', 'status']);
  assert.equal(unreachable.code, 4);
  assert.match(unreachable.stderr, /^flux: no node running \(socket .*node\.sock\): start one with "flux node start"\n$/);

  const oldNode = node.pid;
  await node.restart(); // the stale pid file and socket of the killed node are cleaned
  assert.notEqual(node.pid, oldNode);
  assert.deepEqual(await node.supervisorPids(), before, 'same supervisor pids');
  for (const name of ['a', 'cams/b']) {
    const s = await node.stream(name);
    assert.equal(s.stats.supervisor!.pid, before[name]);
    assert.equal(s.stats.supervisor!.adopted, true);
  }
  assert.ok((await node.stream('a')).stats.lifetime > lifetimeA, 'stream a kept its uptime (not restarted)');
  // the node's death and re-adoption: not a single discontinuity
  await segmentsAfter(wa, nodeKillMsn.a, 'a');
  await segmentsAfter(wb, nodeKillMsn.b, 'cams/b');
  assertContinuous(wa.seen, nodeKillMsn.a, { strict: true });
  assertContinuous(wb.seen, nodeKillMsn.b, { strict: true });
  assertContinuous(wa.seen, firstA);
  assertContinuous(wb.seen, firstB);

  // node stop --keep-streams: the node goes, supervisors stay and are adopted by the next node
  const keep = await node.cli(['node', 'stop', '--keep-streams', '--json']);
  assert.equal(keep.code, 0, keep.stderr);
  assert.equal(keep.json.keep_streams, true);
  assert.equal(await pidAlive(node.pid), false);
  for (const pid of Object.values(before)) assert.ok(await pidAlive(pid), `supervisor ${pid} kept`);
  await node.restart();
  assert.deepEqual(await node.supervisorPids(), before, 'adopted again');

  // graceful stop: supervisors and their ffmpeg children are gone, run files removed
  const ffPids = (await node.stream('a')).stats.ffmpeg.map((f) => f.pid);
  const stop = await node.stop();
  assert.equal(stop?.code, 0, stop?.stderr);
  assert.match(stop!.stdout, /flux node stopped/);
  for (const pid of [...Object.values(before), ...ffPids, node.pid]) assert.equal(await pidAlive(pid), false, `pid ${pid} stopped`);
  assert.equal(existsSync(path.join(node.runDir, 'node.pid')), false);
  assert.equal(existsSync(node.socket), false);
  assert.deepEqual(await node.supervisorPids(), {});
  const again = await node.cli(['node', 'stop']);
  assert.equal(again.code, 4, 'stopping a stopped node: exit 4');
});
