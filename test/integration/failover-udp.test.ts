/**
 * Source failover end to end: primary udp:// (an ffmpeg sender, 160x120) and backup fake://
 * (128x96, so segments tell where they came from). The primary dies → the backup takes over
 * within source_timeout + 2 s → the primary comes back → the supervisor returns to it after
 * return_after. The live playlist stays one gapless media sequence with EXT-X-DISCONTINUITY at
 * each switch; both switches are events with their reasons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { expectLive, ffmpegTestSource, ffprobe, freeUdpPort, readPlaylist, startSupervisorProc, tempEnv, waitFor, writeSpec } from './supervisor-helpers.js';

test('udp primary → fake backup on silence → back to the primary after return_after; playlist continuous', async (t) => {
  const env = await tempEnv(t);
  const port = await freeUdpPort();
  const { file, stream } = await writeSpec(env, 'fo', {
    inputs: [
      { url: `udp://127.0.0.1:${port}`, source_timeout: '2s', return_after: '3s' },
      { url: 'fake://testsrc?size=128x96&fps=15', priority: 2, source_timeout: '2s' },
    ],
    hls: { segment_duration: '1s', window: 40 },
  });
  // the primary sends before the supervisor starts (else a slow ffmpeg start-up counts as a failure)
  let primary = ffmpegTestSource(t, `udp://127.0.0.1:${port}?pkt_size=1316`);
  await new Promise((r) => setTimeout(r, 1000));
  const sup = await startSupervisorProc(t, env, file, 'fo');
  await expectLive(sup, stream, { segments: 2 });
  let st = await sup.status();
  assert.equal(st.activeInput, 0);
  assert.equal(st.inputs[1]!.state, 'standby');
  assert.equal(st.ffmpeg.length, 0, 'standby inputs start on demand: nothing runs for the backup');

  // primary dies
  await primary.stop();
  const killedAt = Date.now();
  st = await waitFor('switch to the backup', async () => {
    const s = await sup.status();
    return s.activeInput === 1 ? s : null;
  }, 6000, 50);
  const switchedAfter = Date.now() - killedAt;
  const seg = await waitFor('first segment from the backup', async () => {
    const p = await readPlaylist(stream);
    const d = p?.entries.find((e) => e.discontinuity);
    return d ?? null;
  }, 10_000, 50);
  const firstBackupSegmentAfter = Date.now() - killedAt;
  t.diagnostic(`switched after ${switchedAfter} ms; first backup segment after ${firstBackupSegmentAfter} ms`);
  assert.ok(switchedAfter >= 1500, `switched after ${switchedAfter} ms, before source_timeout`);
  assert.ok(switchedAfter <= 4000, `switched after ${switchedAfter} ms (source_timeout 2 s + 2 s)`);
  const sw = st.events.filter((e) => e.type === 'switch');
  assert.deepEqual(sw.map((e) => [e.from, e.to, e.reason]), [[0, 1, 'source_timeout']]);
  assert.equal(st.inputs[0]!.state, 'failed');
  assert.match(st.inputs[0]!.lastError ?? '', /no media/);
  assert.equal(ffprobe(path.join(stream.root, 'v1a1', seg.uri)).streams.find((s) => s.codec_type === 'video')?.width, 128, 'the segment after the discontinuity is from the backup');

  // primary back: return after return_after (3 s)
  await new Promise((r) => setTimeout(r, 1500));
  primary = ffmpegTestSource(t, `udp://127.0.0.1:${port}?pkt_size=1316`);
  const backAt = Date.now();
  await waitFor('probe sees the primary', async () => (await sup.status()).inputs[0]!.bitrate > 0, 5000, 100);
  st = await waitFor('return to the primary', async () => {
    const s = await sup.status();
    return s.activeInput === 0 ? s : null;
  }, 12_000, 50);
  const returnedAfter = Date.now() - backAt;
  t.diagnostic(`returned ${returnedAfter} ms after the primary came back`);
  assert.ok(returnedAfter >= 2800, `returned after ${returnedAfter} ms, before return_after`);
  assert.deepEqual(
    st.events.filter((e) => e.type === 'switch').map((e) => [e.from, e.to, e.reason]),
    [
      [0, 1, 'source_timeout'],
      [1, 0, 'priority_return'],
    ],
  );
  assert.equal(st.inputs[0]!.switches, 1);
  assert.equal(st.inputs[1]!.switches, 1);
  await waitFor('backup stopped', async () => (await sup.status()).ffmpeg.length === 0, 3000);

  // the playlist: gapless, a discontinuity at each switch, widths 160 → 128 → 160
  const pl = await waitFor('segments from the primary again', async () => {
    const p = await readPlaylist(stream);
    if (!p) return null;
    const discs = p.entries.filter((e) => e.discontinuity);
    return discs.length >= 2 && p.entries.at(-1)!.msn >= discs[1]!.msn + 1 ? p : null;
  }, 15_000);
  for (let k = 1; k < pl.entries.length; k++) assert.equal(pl.entries[k]!.msn, pl.entries[k - 1]!.msn + 1, 'gapless media sequence');
  const width = (uri: string) => ffprobe(path.join(stream.root, 'v1a1', uri)).streams.find((s) => s.codec_type === 'video')?.width;
  const runs: number[] = [];
  for (const e of pl.entries) {
    const w = width(e.uri)!;
    if (e.discontinuity || runs.length === 0) runs.push(w);
    else assert.equal(w, runs.at(-1), `segment ${e.msn} changed source without a discontinuity`);
  }
  assert.deepEqual(runs.slice(0, 3), [160, 128, 160]);
  assert.equal(pl.entries.filter((e) => e.discontinuity).length, 2, 'one discontinuity per switch');
});
