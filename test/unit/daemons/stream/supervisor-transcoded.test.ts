/**
 * Transcoded streams without ffmpeg: the "ffmpeg" is node copying stdin to fd 1 and fd 3, so the
 * stdin feeding, multi-output routing, restarts and the make-before-break priority return of a
 * transcoded stream are exercised fast.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Supervisor } from '../../../../src/daemons/stream/supervisor.js';
import { Backoff } from '../../../../src/core/backoff.js';
import { PULL_STARTUP_GRACE_MS, type BuildPipelineArgs } from '../../../../src/daemons/stream/pipeline.js';
import { fakeWriterFactory, freeUdpPort, input, logger, stream, UdpSender, waitFor } from './fakes.js';
import type { ResolvedInput } from '../../../../src/config/model.js';

const COPY_TO_1_AND_3 = "const fs=require('fs');process.stdin.on('data',d=>{process.stdout.write(d);try{fs.writeSync(3,d)}catch{}});process.stdin.on('end',()=>process.exit(0))";

const build: BuildPipelineArgs = (s, i) => {
  assert.equal(i, 'stdin', 'native inputs are fed on stdin');
  return { args: ['-e', COPY_TO_1_AND_3], outputs: s.renditions.map((r, k) => ({ rendition: r, fd: k === 0 ? 1 : k + 2 })) };
};

const transcoder = {
  hw: 'cpu' as const,
  fallback: 'none' as const,
  deinterlace: false as const,
  video: [
    { name: 'v1', codec: 'h264' as const, bitrate: 1 },
    { name: 'v2', codec: 'h264' as const, bitrate: 1 },
  ],
  audio: { codec: 'aac' as const, bitrate: 1, perProfile: false },
};

test('native input + transcoder: stdin-fed child, two renditions; kill → restarted with a discontinuity', async (t) => {
  const port = await freeUdpPort();
  const sender = new UdpSender(port, 7).start(20);
  const s = stream('tr', [input(`udp://127.0.0.1:${port}`)], { transcoder, renditions: ['v1a1', 'v2a1'] });
  const wf = fakeWriterFactory();
  const sup = new Supervisor({ stream: s, specHash: 'x' }, { ffmpegPath: process.execPath, buildPipelineArgs: build, openWriter: wf.open, logger, tickMs: 50, backoff: () => new Backoff({ initialMs: 50 }) });
  t.after(async () => {
    sender.close();
    await sup.stop();
  });
  await sup.start();
  await waitFor('both renditions', () => wf.writers.every((w) => w.bytes > 0), 4000);
  const st = sup.status();
  assert.equal(st.ffmpeg.length, 1);
  assert.equal(st.ffmpeg[0]!.role, 'transcoder');
  const pid = st.ffmpeg[0]!.pid;
  process.kill(pid, 'SIGKILL');
  await waitFor('restarted', () => sup.status().ffmpeg[0] && sup.status().ffmpeg[0]!.pid !== pid, 3000);
  const before = wf.writers[0]!.bytes;
  await waitFor('output again', () => wf.writers[0]!.bytes > before + 188 * 20, 3000);
  assert.equal(sup.status().restarts, 1);
  await waitFor('every rendition resumed', () => wf.writers.every((w) => w.timeline().length === 3), 3000);
  for (const w of wf.writers) assert.deepEqual(w.timeline(), [7, 'D', 7]);
  // the error was the restart's, now over: status shows none, the events keep it
  await waitFor('error cleared on recovery', () => sup.status().lastError === null && sup.status().inputs[0]!.lastError === null, 3000);
  assert.ok(sup.status().events.some((e) => e.type === 'restart' && /SIGKILL/.test(e.message ?? '')), JSON.stringify(sup.status().events));
});

/** A "transcoder" that, like ffmpeg probing its stdin, writes nothing until 1.5 s after its first input byte. */
const SLOW_FIRST_OUTPUT =
  "const fs=require('fs');let first=0;const q=[];process.stdin.on('data',d=>{if(!first){first=Date.now();setTimeout(()=>{for(const b of q.splice(0))process.stdout.write(b)},1500)}if(Date.now()-first<1500)q.push(d);else process.stdout.write(d)});process.stdin.on('end',()=>process.exit(0))";

test('a transcoder started long before its source (publish) is not restarted while it probes the first bytes', async (t) => {
  const port = await freeUdpPort();
  const sender = new UdpSender(port, 9);
  const s = stream('late', [input(`udp://127.0.0.1:${port}`, { sourceTimeoutMs: 500 })], { transcoder: { ...transcoder, video: [transcoder.video[0]!] } });
  const wf = fakeWriterFactory();
  const slow: BuildPipelineArgs = () => ({ args: ['-e', SLOW_FIRST_OUTPUT], outputs: [{ rendition: 'v1a1', fd: 1 }] });
  const sup = new Supervisor({ stream: s, specHash: 'x' }, { ffmpegPath: process.execPath, buildPipelineArgs: slow, openWriter: wf.open, logger, tickMs: 50, backoff: () => new Backoff({ initialMs: 50 }) });
  t.after(async () => {
    sender.close();
    await sup.stop();
  });
  await sup.start();
  // nothing comes for longer than source_timeout + the start-up grace: the idle transcoder is left alone
  await new Promise((r) => setTimeout(r, 500 + PULL_STARTUP_GRACE_MS + 500));
  assert.equal(sup.status().restarts, 0);
  sender.start(20); // the publisher arrives
  await waitFor('first output', () => wf.writers[0]!.bytes > 0, 5000);
  await new Promise((r) => setTimeout(r, 500));
  const st = sup.status();
  assert.equal(st.restarts, 0, JSON.stringify(st.events));
  assert.ok(!st.events.some((e) => e.type === 'restart'), JSON.stringify(st.events));
  assert.equal(st.state, 'running');
  assert.equal(st.lastError, null);
  assert.deepEqual(wf.writers[0]!.timeline(), [9]);
});

/**
 * A transcoded two-rendition stream on two UDP inputs fed by senders 1 and 2 (the backup with `backup`
 * options), its supervisor started on fake writers; everything stops after the test.
 */
async function twoUdpInputs(t: TestContext, name: string, backup: Partial<ResolvedInput>) {
  const [p1, p2] = [await freeUdpPort(), await freeUdpPort()];
  const s1 = new UdpSender(p1, 1).start(20);
  const s2 = new UdpSender(p2, 2).start(20);
  const s = stream(
    name,
    [input(`udp://127.0.0.1:${p1}`, { sourceTimeoutMs: 300, returnAfterMs: 400 }, 0), input(`udp://127.0.0.1:${p2}`, { sourceTimeoutMs: 300, ...backup }, 1)],
    { transcoder, renditions: ['v1a1', 'v2a1'] },
  );
  const wf = fakeWriterFactory();
  const sup = new Supervisor({ stream: s, specHash: 'x' }, { ffmpegPath: process.execPath, buildPipelineArgs: build, openWriter: wf.open, logger, tickMs: 50 });
  t.after(async () => {
    s1.close();
    s2.close();
    await sup.stop();
  });
  await sup.start();
  return { s1, sup, wf, w: wf.writers[0]! };
}

test('transcoded stream: the returning primary runs its full pipeline first, then the switch (make-before-break)', async (t) => {
  const { s1, sup, wf, w } = await twoUdpInputs(t, 'tr2', {});
  await waitFor('primary output', () => w.timeline().includes(1), 4000);
  s1.stop();
  await waitFor('backup output', () => w.timeline().at(-1) === 2, 4000);
  s1.start(20);
  await waitFor('primary output again', () => wf.writers.every((x) => x.timeline().at(-1) === 1), 5000);
  const st = sup.status();
  assert.deepEqual(
    st.events.filter((e) => e.type === 'switch').map((e) => [e.from, e.to, e.reason]),
    [
      [0, 1, 'source_timeout'],
      [1, 0, 'priority_return'],
    ],
  );
  // no gap of silence: after the return the writer went straight from backup bytes to primary bytes
  assert.deepEqual(w.timeline(), [1, 'D', 2, 'D', 1]);
  assert.deepEqual(wf.writers[1]!.timeline(), [1, 'D', 2, 'D', 1]);
  await waitFor('one transcoder left', () => sup.status().ffmpeg.length === 1, 3000);
});

test('warm standby (transcoded): the backup\'s transcoder runs beside the primary\'s and takes over as it is', async (t) => {
  const { s1, sup, wf, w } = await twoUdpInputs(t, 'warm', { warm: true });
  await waitFor('primary output', () => w.timeline().includes(1), 4000);
  await waitFor('the warm standby\'s transcoder', () => sup.status().ffmpeg.length === 2, 4000);
  let st = sup.status();
  assert.equal(st.inputs[1]!.role, 'warm');
  const warmPid = st.ffmpeg.find((f) => f.input === 1)!.pid;
  await waitFor('the standby\'s media measured', () => (sup.status().inputs[1]!.bytes ?? 0) > 0, 3000);
  assert.deepEqual(w.timeline(), [1], 'only the active input reaches the writer');

  s1.stop();
  await waitFor('backup output', () => w.timeline().at(-1) === 2, 4000);
  st = sup.status();
  assert.equal(st.inputs[1]!.role, 'active');
  assert.equal(st.ffmpeg.find((f) => f.input === 1)?.pid, warmPid, 'the warm transcoder took over: no new process');

  s1.start(20);
  await waitFor('primary output again', () => w.timeline().at(-1) === 1, 5000);
  await waitFor('the backup warm again', () => sup.status().inputs[1]!.role === 'warm' && sup.status().ffmpeg.length === 2, 3000);
  assert.deepEqual(w.timeline(), [1, 'D', 2, 'D', 1]);
});
