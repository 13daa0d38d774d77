/**
 * failover_on end to end: a udp:// primary whose picture turns black (drawbox over the whole frame),
 * freezes (freezeframes: frame 59 repeated) or whose sound goes silent (volume 0) from t = 4 s to t = 14 s, a fake://
 * backup. The supervisor switches within the threshold + 2 s with the condition as the reason, and
 * returns to the primary after return_after of good media. The quality watch's CPU is reported.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { cpuSeconds, ffmpegTestSource, freeUdpPort, startSupervisorProc, tempEnv, waitFor, writeSpec } from './supervisor-helpers.js';

const V = 'testsrc2=size=160x120:rate=15';
const A = 'sine=frequency=440:sample_rate=48000';
const CASES = [
  { name: 'black', failover_on: { black: '3s' }, video: `${V},drawbox=enable='between(t,4,14)':c=black:t=fill`, audio: A, thresholdMs: 3000 },
  { name: 'frozen', failover_on: { frozen: '3s' }, video: `${V},split[m][r];[m][r]freezeframes=first=60:last=210:replace=59`, audio: A, thresholdMs: 3000 },
  { name: 'silence', failover_on: { silence: '3s' }, video: V, audio: `${A},volume=enable='between(t,4,14)':volume=0`, thresholdMs: 3000 },
] as const;

/**
 * Cleanups in reverse order of registration (supervisor and sender stopped before their temp dir is
 * removed; node:test runs `after` hooks in registration order, and a failed rm would skip the kills).
 */
function lifo(t: TestContext): TestContext {
  const fns: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });
  return { after: (fn: () => unknown) => fns.push(fn) } as unknown as TestContext;
}

/** pids of the supervisor's quality-watch children (ffmpeg with signalstats/astats on stdin). */
async function qualityPids(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent) continue;
      const cmd = await readFile(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('lavfi.signalstats') || cmd.includes('lavfi.astats')) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

for (const c of CASES) {
  test(`failover_on ${c.name}: switch within threshold + 2 s, back after return_after`, { timeout: 120_000 }, async (tc: TestContext) => {
    const t = Object.assign(lifo(tc), { diagnostic: (m: string) => tc.diagnostic(m) });
    const env = await tempEnv(t);
    const port = await freeUdpPort();
    const { file } = await writeSpec(env, 'q', {
      inputs: [
        { url: `udp://127.0.0.1:${port}`, source_timeout: '3s', return_after: '3s', failover_on: c.failover_on },
        { url: 'fake://testsrc?size=128x96&fps=10', priority: 2 },
      ],
      hls: { segment_duration: '1s', window: 20 },
    });
    const senderStart = Date.now();
    ffmpegTestSource(t, `udp://127.0.0.1:${port}?pkt_size=1316`, { gop: 15, inputArgs: ['-f', 'lavfi', '-i', c.video, '-f', 'lavfi', '-i', c.audio] });
    await new Promise((r) => setTimeout(r, 800));
    const sup = await startSupervisorProc(t, env, file, 'q');
    await waitFor('the primary is active', async () => (await sup.status()).activeInput === 0, 8000);
    const onset = senderStart + 4000;
    const st = await waitFor(`switch on ${c.name}`, async () => {
      const s = await sup.status();
      return s.activeInput === 1 ? s : null;
    }, 14_000, 50);
    const after = Date.now() - onset;
    t.diagnostic(`${c.name}: switched ${after} ms after the onset (threshold ${c.thresholdMs} ms)`);
    assert.ok(after >= c.thresholdMs - 500, `switched after ${after} ms: not before the threshold`);
    assert.ok(after <= c.thresholdMs + 2000, `switched after ${after} ms: within threshold + 2 s`);
    const sw = st.events.filter((e) => e.type === 'switch');
    assert.deepEqual(sw.map((e) => [e.from, e.to, e.reason]), [[0, 1, c.name]]);
    assert.match(st.inputs[0]!.lastError ?? '', new RegExp(`failover_on ${c.name} 3 s`));
    assert.deepEqual(st.inputs[0]!.quality, { watch: [c.name], failovers: { [c.name]: 1 }, error: null }, 'status (API, stream show, metrics) counts the failover by reason');

    // the primary is probed meanwhile, its quality still watched: measure that watch's CPU for 3 s
    const [qp] = await waitFor('the probed primary has a quality watch', async () => {
      const p = await qualityPids(sup.pid);
      return p.length === 1 ? p : null;
    }, 5000);
    const cpu0 = await cpuSeconds(qp!);
    await new Promise((r) => setTimeout(r, 3000));
    const cpu = await cpuSeconds(qp!);
    t.diagnostic(`${c.name}: quality watch CPU ${((100 * (cpu - cpu0)) / 3).toFixed(1)} % of a core (160x120 15 fps source)`);

    // the condition ends at t = 14 s: back to the primary after return_after (3 s) of good media
    const back = await waitFor('return to the primary', async () => {
      const s = await sup.status();
      return s.activeInput === 0 ? s : null;
    }, 25_000, 100);
    const backAfter = Date.now() - (senderStart + 14_000);
    t.diagnostic(`${c.name}: returned ${backAfter} ms after the condition ended`);
    assert.ok(backAfter >= 3000 - 500, `returned after ${backAfter} ms: only after return_after of good media`);
    assert.deepEqual(back.events.filter((e) => e.type === 'switch').map((e) => [e.from, e.to, e.reason]), [[0, 1, c.name], [1, 0, 'priority_return']]);
  });
}

test('failover_on cc_errors: TS packets dropped on the UDP feed switch to the backup, back once the feed is clean', { timeout: 120_000 }, async (tc: TestContext) => {
  const t = Object.assign(lifo(tc), { diagnostic: (m: string) => tc.diagnostic(m) });
  const dgram = await import('node:dgram');
  const env = await tempEnv(t);
  const [inPort, outPort] = [await freeUdpPort(), await freeUdpPort()];
  // a relay between the sender and the supervisor that drops one TS packet of every 5th datagram while `lossy`
  let lossy = false;
  let n = 0;
  const relay = dgram.createSocket('udp4');
  await new Promise<void>((r) => relay.bind(inPort, '127.0.0.1', () => r()));
  t.after(() => relay.close());
  relay.on('message', (msg) => {
    let out = msg;
    if (lossy && ++n % 5 === 0 && msg.length >= 2 * 188) out = Buffer.concat([msg.subarray(0, 188), msg.subarray(2 * 188)]);
    relay.send(out, outPort, '127.0.0.1');
  });
  const { file } = await writeSpec(env, 'cc', {
    inputs: [
      { url: `udp://127.0.0.1:${outPort}`, source_timeout: '3s', return_after: '3s', failover_on: { cc_errors: '10/5s' } },
      { url: 'fake://testsrc?size=128x96&fps=10', priority: 2 },
    ],
    hls: { segment_duration: '1s', window: 20 },
  });
  ffmpegTestSource(t, `udp://127.0.0.1:${inPort}?pkt_size=1316`, { gop: 15 });
  await new Promise((r) => setTimeout(r, 800));
  const sup = await startSupervisorProc(t, env, file, 'cc');
  await waitFor('the primary is active', async () => (await sup.status()).activeInput === 0, 8000);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal((await sup.status()).activeInput, 0, 'a clean feed stays on the primary');
  lossy = true;
  const lossAt = Date.now();
  const st = await waitFor('switch on cc_errors', async () => {
    const s = await sup.status();
    return s.activeInput === 1 ? s : null;
  }, 10_000, 50);
  t.diagnostic(`cc_errors: switched ${Date.now() - lossAt} ms after the loss began`);
  assert.deepEqual(st.events.filter((e) => e.type === 'switch').map((e) => [e.from, e.to, e.reason]), [[0, 1, 'cc_errors']]);
  assert.match(st.inputs[0]!.lastError ?? '', /\d+ CC errors in 5 s \(failover_on cc_errors 10\/5s\)/);
  lossy = false;
  const cleanAt = Date.now();
  await waitFor('return to the primary', async () => (await sup.status()).activeInput === 0, 20_000, 100);
  const backAfter = Date.now() - cleanAt;
  t.diagnostic(`cc_errors: returned ${backAfter} ms after the feed was clean`);
  assert.ok(backAfter >= 3000, `returned after ${backAfter} ms: only after return_after of clean media`);
});
