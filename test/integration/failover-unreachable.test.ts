/**
 * Unreachable sources: ffmpeg exits at once (connection refused). The supervisor retries with
 * growing delays (0.5 s, 1 s, 2 s, 4 s …), keeps a clear lastError, and burns no CPU meanwhile.
 * With two dead inputs it cycles between them no faster than their source_timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSeconds, freeTcpPort, startSupervisorProc, tempEnv, waitFor, writeSpec } from './supervisor-helpers.js';

test('a refused rtmp pull: restarts back off, lastError says why, CPU stays low', async (t) => {
  const env = await tempEnv(t);
  const port = await freeTcpPort(); // nothing listens there
  const { file } = await writeSpec(env, 'dead', { inputs: [{ url: `rtmp://127.0.0.1:${port}/live/none`, source_timeout: '2s' }] });
  const sup = await startSupervisorProc(t, env, file, 'dead');
  const cpu0 = await cpuSeconds(sup.pid);
  const t0 = Date.now();
  // four failed runs: delays 0.5 + 1 + 2 s between them, then a 4 s wait (the machine may be slow: no upper time bound)
  const st = await waitFor('4 restarts', async () => {
    const s = await sup.status();
    return s.restarts >= 4 ? s : null;
  }, 40_000, 200);
  const wall = (Date.now() - t0) / 1000;
  const cpu = (await cpuSeconds(sup.pid)) - cpu0;
  t.diagnostic(`restarts ${st.restarts} in ${wall.toFixed(1)} s, supervisor CPU ${cpu.toFixed(2)} s`);
  assert.equal(st.state, 'waiting');
  assert.match(st.lastError ?? '', /Connection refused|refused/i);
  assert.match(st.inputs[0]!.lastError ?? '', /refused/i);
  assert.ok(wall >= 3.4, `4 restarts after ${wall.toFixed(1)} s: the delays were not respected`);
  const restarts = st.events.filter((e) => e.type === 'restart');
  const delays = restarts.map((e) => Number(/restart in (\d+) ms/.exec(e.message ?? '')?.[1])).filter((n) => Number.isFinite(n));
  assert.deepEqual(delays.slice(0, 4), [500, 1000, 2000, 4000]);
  // each failure comes at least its delay after the previous one (the delay was waited)
  for (let k = 1; k < restarts.length; k++) assert.ok(restarts[k]!.at - restarts[k - 1]!.at >= delays[k - 1]! - 50, `restart ${k} came too early`);
  assert.ok(cpu < wall * 0.25, `supervisor used ${cpu.toFixed(2)} s CPU in ${wall.toFixed(1)} s`);
});

test('two dead inputs: the supervisor alternates no faster than source_timeout and keeps each input\'s error', async (t) => {
  const env = await tempEnv(t);
  const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
  const { file } = await writeSpec(env, 'dead2', {
    inputs: [
      { url: `tshttp://127.0.0.1:${p1}/a.ts`, source_timeout: '1s' },
      { url: `tshttp://127.0.0.1:${p2}/b.ts`, source_timeout: '1s' },
    ],
  });
  const sup = await startSupervisorProc(t, env, file, 'dead2');
  await waitFor('two switches', async () => (await sup.status()).events.filter((e) => e.type === 'switch').length >= 2, 8000);
  await new Promise((r) => setTimeout(r, 1500));
  const st = await sup.status();
  const sw = st.events.filter((e) => e.type === 'switch');
  for (let k = 1; k < sw.length; k++) assert.ok(sw[k]!.at - sw[k - 1]!.at >= 900, 'switches are at least source_timeout apart');
  assert.ok(sw.every((e) => e.reason === 'input_error'));
  assert.match(st.inputs[0]!.lastError ?? '', /ECONNREFUSED/);
  assert.match(st.inputs[1]!.lastError ?? '', /ECONNREFUSED/);
  assert.equal(st.state, 'waiting');
});
