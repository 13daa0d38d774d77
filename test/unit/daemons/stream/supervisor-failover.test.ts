import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Supervisor } from '../../../../src/daemons/stream/supervisor.js';
import { Backoff } from '../../../../src/core/backoff.js';
import { fakeWriterFactory, freeUdpPort, input, logger, stream, UdpSender, waitFor } from './fakes.js';

const noFfmpeg = () => {
  throw new Error('no ffmpeg in this test');
};

function makeSupervisor(s: ReturnType<typeof stream>) {
  const wf = fakeWriterFactory();
  const sup = new Supervisor(
    { stream: s, specHash: 'x' },
    {
      ffmpegPath: '/bin/false',
      buildPipelineArgs: noFfmpeg,
      openWriter: wf.open,
      logger,
      tickMs: 50,
      backoff: () => new Backoff({ initialMs: 50, maxMs: 200 }),
    },
  );
  return { sup, wf };
}

test('udp primary fails over to the backup on silence and returns after return_after', async (t) => {
  const [p1, p2] = [await freeUdpPort(), await freeUdpPort()];
  const s1 = new UdpSender(p1, 1).start(20);
  const s2 = new UdpSender(p2, 2).start(20);
  const s = stream('fo', [
    input(`udp://127.0.0.1:${p1}`, { sourceTimeoutMs: 400, returnAfterMs: 600 }, 0),
    input(`udp://127.0.0.1:${p2}`, { sourceTimeoutMs: 400, returnAfterMs: 600 }, 1),
  ]);
  const { sup, wf } = makeSupervisor(s);
  t.after(async () => {
    s1.close();
    s2.close();
    await sup.stop();
  });
  await sup.start();
  const w = wf.writers[0]!;
  await waitFor('primary media', () => w.bytes > 0);
  assert.equal(sup.status().activeInput, 0);
  await waitFor('running', () => sup.status().state === 'running');

  s1.stop();
  const cut = Date.now();
  await waitFor('switch to backup', () => sup.status().activeInput === 1, 3000);
  const took = Date.now() - cut;
  assert.ok(took >= 350, `switched after ${took} ms, before source_timeout`);
  await waitFor('backup media', () => w.timeline().at(-1) === 2);
  let st = sup.status();
  assert.equal(st.inputs[0]!.state, 'failed');
  assert.match(st.inputs[0]!.lastError ?? '', /no media/);
  assert.equal(st.inputs[1]!.state, 'active');
  assert.equal(st.inputs[0]!.role, 'probe', 'the preferred input is probed');
  const sw1 = st.events.filter((e) => e.type === 'switch');
  assert.deepEqual(
    sw1.map((e) => [e.from, e.to, e.reason]),
    [[0, 1, 'source_timeout']],
  );

  s1.start(20);
  const back = Date.now();
  await waitFor('return to primary', () => sup.status().activeInput === 0, 4000);
  const tookBack = Date.now() - back;
  assert.ok(tookBack >= 550, `returned after ${tookBack} ms, before return_after`);
  await waitFor('primary media again', () => w.timeline().at(-1) === 1);
  st = sup.status();
  assert.deepEqual(
    st.events.filter((e) => e.type === 'switch').map((e) => [e.from, e.to, e.reason]),
    [
      [0, 1, 'source_timeout'],
      [1, 0, 'priority_return'],
    ],
  );
  assert.equal(st.inputs[0]!.switches, 1);
  assert.equal(st.inputs[1]!.switches, 1);
  // the writer saw: primary, discontinuity, backup, discontinuity, primary
  assert.deepEqual(w.timeline(), [1, 'D', 2, 'D', 1]);
  assert.equal(st.inputs[1]!.role, null, 'the backup is stopped once the primary is back (on-demand standby)');
});

test('a refused source fails over with reason input_error and a clear lastError', async (t) => {
  // a TCP port with nothing listening
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const deadPort = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const p2 = await freeUdpPort();
  const s2 = new UdpSender(p2, 2).start(20);
  const s = stream('fo2', [
    input(`tshttp://127.0.0.1:${deadPort}/x.ts`, { sourceTimeoutMs: 400, returnAfterMs: 10_000 }, 0),
    input(`udp://127.0.0.1:${p2}`, { sourceTimeoutMs: 400 }, 1),
  ]);
  const { sup, wf } = makeSupervisor(s);
  t.after(async () => {
    s2.close();
    await sup.stop();
  });
  await sup.start();
  await waitFor('switch', () => sup.status().activeInput === 1, 3000);
  const st = sup.status();
  const sw = st.events.find((e) => e.type === 'switch')!;
  assert.equal(sw.reason, 'input_error');
  assert.match(st.inputs[0]!.lastError ?? '', /ECONNREFUSED/);
  await waitFor('backup media', () => (wf.writers[0]?.bytes ?? 0) > 0);
  // no discontinuity before the very first bytes
  assert.equal(wf.writers[0]!.timeline()[0], 2);
});

test('a single silent input waits (no switching) and says why', async (t) => {
  const p = await freeUdpPort();
  const s = stream('one', [input(`udp://127.0.0.1:${p}`, { sourceTimeoutMs: 300 })]);
  const { sup } = makeSupervisor(s);
  t.after(() => sup.stop());
  await sup.start();
  assert.equal(sup.status().state, 'starting');
  await waitFor('waiting', () => sup.status().state === 'waiting', 2000);
  const st = sup.status();
  assert.equal(st.activeInput, 0);
  assert.equal(st.inputs[0]!.state, 'waiting');
  assert.match(st.lastError ?? '', /no media/);
  assert.equal(st.events.filter((e) => e.type === 'switch').length, 0);
  const sender = new UdpSender(p, 9).start(20);
  t.after(() => sender.close());
  await waitFor('running', () => sup.status().state === 'running', 2000);
  assert.ok(sup.status().inputs[0]!.bitrate >= 0);
});

test('stop closes the writers and stops inputs', async () => {
  const p = await freeUdpPort();
  const sender = new UdpSender(p, 3).start(10);
  const s = stream('stop', [input(`udp://127.0.0.1:${p}`)]);
  const { sup, wf } = makeSupervisor(s);
  await sup.start();
  await waitFor('media', () => wf.writers[0]!.bytes > 0);
  await sup.stop();
  assert.equal(wf.writers[0]!.closed, true);
  const after = wf.writers[0]!.bytes;
  await new Promise((r) => setTimeout(r, 100));
  sender.close();
  assert.equal(wf.writers[0]!.bytes, after, 'no writes after stop');
  assert.equal(sup.status().state, 'stopping');
});

test('a source silent at start-up ("no media for N s") and then delivering: running with no stale error', async (t) => {
  const port = await freeUdpPort();
  const sender = new UdpSender(port, 4);
  const { sup } = makeSupervisor(stream('late', [input(`udp://127.0.0.1:${port}`, { sourceTimeoutMs: 300 })]));
  t.after(async () => {
    sender.close();
    await sup.stop();
  });
  await sup.start();
  const waiting = await waitFor('waiting', () => (sup.status().state === 'waiting' ? sup.status() : null), 3000);
  assert.match(waiting.inputs[0]!.lastError ?? '', /no media/);
  assert.match(waiting.lastError ?? '', /no media/);
  sender.start(20);
  const st = await waitFor('running, error over', () => {
    const s = sup.status();
    return s.state === 'running' && s.lastError === null && s.inputs[0]!.lastError === null ? s : null;
  }, 3000);
  assert.equal(st.inputs[0]!.state, 'active');
});

test('warm standby (passthrough): the backup is read while the primary is active, kept warm after the return; not warm: on demand', async (t) => {
  const [p1, p2, p3] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
  const s1 = new UdpSender(p1, 1).start(20);
  const s2 = new UdpSender(p2, 2).start(20);
  const s3 = new UdpSender(p3, 3).start(20);
  const s = stream('warm', [
    input(`udp://127.0.0.1:${p1}`, { sourceTimeoutMs: 400, returnAfterMs: 400 }, 0),
    input(`udp://127.0.0.1:${p2}`, { sourceTimeoutMs: 400, warm: true }, 1),
    input(`udp://127.0.0.1:${p3}`, { sourceTimeoutMs: 400 }, 2),
  ]);
  const { sup, wf } = makeSupervisor(s);
  t.after(async () => {
    for (const x of [s1, s2, s3]) x.close();
    await sup.stop();
  });
  await sup.start();
  const w = wf.writers[0]!;
  await waitFor('primary media', () => w.bytes > 0);
  await waitFor('the warm standby reads its source', () => (sup.status().inputs[1]!.bytes ?? 0) > 0, 3000);
  let st = sup.status();
  assert.equal(st.inputs[1]!.role, 'warm');
  assert.equal(st.inputs[1]!.state, 'standby');
  assert.equal(st.inputs[2]!.role, null, 'an input without warm is not started');
  assert.equal(st.inputs[2]!.bytes, 0);
  assert.deepEqual(w.timeline(), [1]);

  s1.stop();
  await waitFor('switch to the warm backup', () => sup.status().activeInput === 1, 3000);
  await waitFor('backup media', () => w.timeline().at(-1) === 2);
  st = sup.status();
  assert.equal(st.inputs[1]!.role, 'active');
  assert.equal(st.inputs[0]!.role, 'probe');

  s1.start(20);
  await waitFor('return to primary', () => sup.status().activeInput === 0, 4000);
  await waitFor('the backup warm again', () => sup.status().inputs[1]!.role === 'warm', 2000);
  // the primary's datagrams reach the writer in a batch (Supervisor.batchPauseMs: 100 ms here)
  await waitFor('primary media again', () => w.timeline().at(-1) === 1, 2000);
  assert.deepEqual(w.timeline(), [1, 'D', 2, 'D', 1]);
});
