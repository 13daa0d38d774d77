/**
 * The supervisor daemon end to end, on a fake:// source: spec file → pid file + 0600 socket →
 * live playlist with valid segments; /status shape; kill -9 of the ffmpeg child → running again
 * within 2 s (restarts counted, discontinuity in the playlist); SIGTERM / POST /stop → graceful.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  REPO,
  decodableFrames,
  ffprobe,
  pidAlive,
  readPlaylist,
  startSupervisorProc,
  tempEnv,
  waitFor,
  writeSpec,
} from './supervisor-helpers.js';

const FAKE = 'fake://testsrc?size=160x120&fps=15';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

test('fake:// → playlist and valid segments; status shape; kill -9 of ffmpeg → back within 2 s; SIGTERM is graceful', async (t) => {
  const env = await tempEnv(t);
  const { file, stream } = await writeSpec(env, 'cams/fake1', { inputs: [{ url: FAKE }], hls: { segment_duration: '1s', window: 6 } });
  const sup = await startSupervisorProc(t, env, file, 'cams/fake1');

  // pid file and 0600 socket
  assert.equal((await readFile(sup.pidFile, 'utf8')).trim(), String(sup.pid));
  assert.equal((await stat(sup.sock)).mode & 0o777, 0o600);

  const pl = await waitFor('3 segments', async () => {
    const p = await readPlaylist(stream);
    return p && p.entries.length >= 3 ? p : null;
  }, 20_000);
  const seg = path.join(stream.root, 'v1a1', pl.entries[1]!.uri);
  const probe = ffprobe(seg);
  const v = probe.streams.find((s) => s.codec_type === 'video');
  assert.equal(v?.codec_name, 'h264');
  assert.equal(v?.width, 160);
  assert.ok(probe.streams.some((s) => s.codec_type === 'audio'), 'audio track present');
  assert.ok(decodableFrames(seg) >= 10, 'segment decodes');
  assert.ok(pl.entries.every((e) => e.durationMs > 0 && e.durationMs <= 2000));
  assert.ok(existsSync(path.join(stream.root, 'index.m3u8')), 'master playlist written');

  // status shape
  const st = await sup.status();
  assert.equal(st.name, 'cams/fake1');
  assert.equal(st.pid, sup.pid);
  assert.match(st.specHash, /^[0-9a-f]{64}$/);
  assert.equal(st.state, 'running');
  assert.equal(st.activeInput, 0);
  assert.ok(st.startedAt <= Date.now() && st.startedAt > Date.now() - 60_000);
  assert.equal(st.inputs.length, 1);
  const i0 = st.inputs[0]!;
  for (const k of ['index', 'url', 'priority', 'state', 'bitrate', 'fps', 'ccErrors', 'lostPackets', 'lastPacketAgeMs', 'switches', 'lastError'] as const) assert.ok(k in i0, `inputs[0].${k}`);
  assert.equal(i0.state, 'active');
  assert.ok(i0.bitrate > 10_000, `input bitrate ${i0.bitrate}`);
  assert.ok(i0.fps > 10 && i0.fps < 20, `input fps ${i0.fps}`);
  assert.equal(i0.ccErrors, 0);
  assert.ok(i0.lastPacketAgeMs !== null && i0.lastPacketAgeMs < 1000);
  assert.ok(st.bitrate > 0);
  assert.equal(st.restarts, 0);
  assert.equal(st.lastError, null);
  assert.ok(st.mediaInfo && (st.mediaInfo as { width?: number }).width === 160);
  assert.equal(st.renditions.length, 1);
  assert.equal(st.renditions[0]!.name, 'v1a1');
  assert.ok(st.renditions[0]!.segments >= 3);
  assert.ok(st.renditions[0]!.lastSegmentAt! > 0);
  assert.deepEqual(st.push, []);
  assert.ok(Array.isArray(st.events) && st.events.some((e) => e.type === 'start'));
  assert.equal(st.ffmpeg.length, 1);
  assert.ok(st.ffmpeg[0]!.args.includes('pipe:1') || st.ffmpeg[0]!.args.some((a) => a.startsWith('pipe:')));
  const oldPid = st.ffmpeg[0]!.pid;
  assert.ok(pidAlive(oldPid));

  // kill -9 the ffmpeg child: running again within 2 s
  const msnBefore = (await readPlaylist(stream))!.entries.at(-1)!.msn;
  process.kill(oldPid, 'SIGKILL');
  const t0 = Date.now();
  await waitFor('a new ffmpeg child', async () => {
    const c = (await sup.status()).ffmpeg[0];
    return c && c.pid !== oldPid && pidAlive(c.pid);
  }, 5000, 50);
  const took = Date.now() - t0;
  t.diagnostic(`ffmpeg running again ${took} ms after kill -9`);
  assert.ok(took < 2000, `ffmpeg back after ${took} ms`);
  const back = await waitFor('media flowing again', async () => {
    const s = await sup.status();
    return s.state === 'running' && s.inputs[0]!.lastPacketAgeMs! < 500 && Date.now() - s.inputs[0]!.lastPacketAgeMs! > t0 ? s : null;
  }, 10_000, 50);
  assert.equal(back.restarts, 1);
  // the restart's error is history once media flows again: in the events, not in lastError
  assert.ok(back.events.some((e) => e.type === 'restart' && e.reason === 'ffmpeg_exit' && /SIGKILL/.test(e.message ?? '')), JSON.stringify(back.events));
  await waitFor('error cleared on recovery', async () => {
    const s = await sup.status();
    return s.lastError === null && s.inputs[0]!.lastError === null ? s : null;
  }, 3000, 50);
  assert.ok(!pidAlive(oldPid));

  // the playlist goes on: gapless media sequence, a discontinuity where the new process began
  const after = await waitFor('segments after the restart', async () => {
    const p = await readPlaylist(stream);
    return p && p.entries.at(-1)!.msn >= msnBefore + 3 ? p : null;
  }, 15_000);
  for (let k = 1; k < after.entries.length; k++) assert.equal(after.entries[k]!.msn, after.entries[k - 1]!.msn + 1);
  assert.ok(after.entries.some((e) => e.msn > msnBefore && e.discontinuity), 'EXT-X-DISCONTINUITY after the restart');

  // SIGTERM: graceful
  const childPid = (await sup.status()).ffmpeg[0]!.pid;
  process.kill(sup.pid, 'SIGTERM');
  const ex = await sup.exited;
  assert.equal(ex.code, 0);
  assert.ok(!existsSync(sup.pidFile), 'pid file removed');
  assert.ok(!existsSync(sup.sock), 'socket removed');
  await waitFor('ffmpeg child gone', () => !pidAlive(childPid), 3000);
  const files = await walk(path.join(stream.root, 'v1a1'));
  assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  const final = (await readPlaylist(stream))!;
  const last = final.entries.at(-1)!;
  assert.ok(existsSync(path.join(stream.root, 'v1a1', last.uri)), 'last segment in place');
  // the open segment was closed (shorter than the target, or exactly at a cut)
  assert.ok(last.msn >= after.entries.at(-1)!.msn);
  const log = await sup.log();
  assert.match(log, /"msg":"stopped"/);
  for (const line of log.trim().split('\n')) JSON.parse(line); // JSON lines only
});

test('POST /restart counts a restart; POST /stop exits 0; a second supervisor on a live socket refuses; unknown routes 404', async (t) => {
  const env = await tempEnv(t);
  const { file, stream } = await writeSpec(env, 'fake2', { inputs: [{ url: FAKE }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'fake2');
  await waitFor('running', async () => (await sup.status()).state === 'running', 15_000);
  const pid1 = (await sup.status()).ffmpeg[0]!.pid;

  const r = await sup.post('/restart');
  assert.equal(r.status, 200);
  assert.equal(r.json<{ restarts: number }>().restarts, 1);
  const st = await waitFor('restarted ffmpeg', async () => {
    const s = await sup.status();
    return s.ffmpeg[0] && s.ffmpeg[0].pid !== pid1 ? s : null;
  }, 5000);
  assert.ok(st.events.some((e) => e.type === 'restart' && e.reason === 'api'));

  assert.equal((await sup.post('/ingest')).status, 404, 'no publish:// input');
  assert.equal((await sup.post('/nope')).status, 404);

  // a second daemon for the same stream must not steal the socket
  const second = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'bin/flux-stream.js'), '--spec', file], {
    cwd: REPO,
    env: { ...process.env, FLUX_STREAM_SRC: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  second.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((res) => second.on('exit', (c) => res(c)));
  assert.equal(code, 1);
  assert.match(err, /another supervisor/);
  assert.equal((await sup.status()).pid, sup.pid, 'the first one still answers');

  const lastBefore = await waitFor('a segment', async () => (await readPlaylist(stream))?.entries.at(-1) ?? null, 15_000);
  const stop = await sup.post('/stop');
  assert.equal(stop.status, 200);
  assert.equal((await sup.exited).code, 0);
  assert.ok(!existsSync(sup.sock));
  assert.ok(!existsSync(sup.pidFile));

  // stateless: a new supervisor carries on from what is on disk (media sequence continues, marked discontinuous)
  const endMsn = (await readPlaylist(stream))!.entries.at(-1)!.msn;
  assert.ok(endMsn >= lastBefore.msn);
  const again = await startSupervisorProc(t, env, file, 'fake2');
  const pl = await waitFor('segments of the second run', async () => {
    const p = await readPlaylist(stream);
    return p && p.entries.at(-1)!.msn >= endMsn + 2 ? p : null;
  }, 20_000);
  for (let k = 1; k < pl.entries.length; k++) assert.equal(pl.entries[k]!.msn, pl.entries[k - 1]!.msn + 1);
  assert.ok(pl.entries.find((e) => e.msn === endMsn + 1)!.discontinuity, 'the first segment of the new run is a discontinuity');
  process.kill(again.pid, 'SIGTERM');
  assert.equal((await again.exited).code, 0);
});

test('a bad spec exits 1 with a one-line reason', async (t) => {
  const env = await tempEnv(t);
  const bad = path.join(env.dir, 'bad.json');
  await import('node:fs/promises').then((fs) => fs.writeFile(bad, JSON.stringify({ stream: { name: '../x' } })));
  const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'bin/flux-stream.js'), '--spec', bad], {
    cwd: REPO,
    env: { ...process.env, FLUX_STREAM_SRC: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  p.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
  assert.equal(code, 1);
  assert.match(err, /invalid supervisor spec/);
  assert.equal(err.trim().split('\n').length, 1);
});
