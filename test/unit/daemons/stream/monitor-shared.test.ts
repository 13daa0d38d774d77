/**
 * One demux pass per passthrough stream (issue #14): the active native input's monitor reads the
 * HLS writer's demux of rendition 0 (SharedDemuxView) instead of demuxing the same bytes again.
 * These tests pin that (1) the shared path reports what the monitor's own pass reports for the same
 * bytes, CC errors and lost packets included, (2) the monitor's own demux does not run while its
 * input is the active passthrough one, and does run for a probe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Supervisor } from '../../../../src/daemons/stream/supervisor.js';
import { HlsWriter } from '../../../../src/daemons/stream/hls-writer.js';
import { InputMonitor, SharedDemuxView, createTsAnalyzer, type TsAnalyzer } from '../../../../src/daemons/stream/monitor.js';
import { Segmenter } from '../../../../src/media/hls/segmenter.js';
import { Backoff } from '../../../../src/core/backoff.js';
import { sleep, tempDir } from '../../../helpers/index.js';
import { h264Fixture, packetsOf, pidOf } from '../../media/_helpers.js';
import { freeUdpPort, input, logger, stream, tsPackets, UdpSender, waitFor } from './fakes.js';

/** A real ffmpeg TS (H.264 + AAC, 6 s at 25 fps, 583 video packets) with packets lost in runs of 1, 3 and 7 (some in the last GOP), and a packet repeated twice. */
function impairedTs(): { data: Buffer; lost: number } {
  const out: Buffer[] = [];
  let video = 0;
  let audio = 0;
  let lost = 0;
  for (const p of packetsOf(h264Fixture().data)) {
    const pid = pidOf(p);
    if (pid === 256) {
      video++;
      if (video % 150 === 20 || (video >= 300 && video < 303) || (video >= 500 && video < 507) || video === 550) {
        lost++;
        continue;
      }
      out.push(p);
      if (video === 420) out.push(p, p); // one repeat is allowed, the second one is an error (reads as 15 lost)
    } else {
      if (pid === 257 && ++audio === 40) {
        lost++;
        continue;
      }
      out.push(p);
    }
  }
  return { data: Buffer.concat(out), lost };
}

/** `n` chunks of whole packets. */
function split(data: Buffer, n: number): Buffer[] {
  const pkts = data.length / 188;
  const per = Math.ceil(pkts / n);
  const out: Buffer[] = [];
  for (let i = 0; i < pkts; i += per) out.push(data.subarray(i * 188, Math.min(pkts, i + per) * 188));
  return out;
}

const nullSink = { openSegment() {}, data() {}, closeSegment() {} };

/** makeAnalyzer that counts what the monitors' own passes are given. */
function countingAnalyzers() {
  const c = { made: 0, pushes: 0, bytes: 0 };
  const make = (): TsAnalyzer => {
    c.made++;
    const a = createTsAnalyzer();
    return {
      push(chunk) {
        c.pushes++;
        c.bytes += chunk.length;
        a.push(chunk);
      },
      get stats() {
        return a.stats;
      },
    };
  };
  return { c, make };
}

test('monitor: a shared view of the segmenter reports the same CC errors, lost packets and fps as its own pass', () => {
  const { data, lost } = impairedTs();
  const own = new InputMonitor(createTsAnalyzer);
  const { c, make } = countingAnalyzers();
  const shared = new InputMonitor(make);
  const seg = new Segmenter(nullSink);
  // the writer had demuxed other bytes before this input became the active one: deltas from now on
  seg.push(split(data, 4)[0]!);
  seg.markDiscontinuity(); // (the supervisor's writer.discontinuity() when another pipeline's bytes come)
  assert.ok(seg.stats.ccErrors > 0);
  shared.share(new SharedDemuxView(() => seg.stats));
  assert.equal(shared.sharing, true);
  let now = 1_000_000;
  own.tick(now);
  shared.tick(now);
  for (const chunk of split(data, 24)) {
    now += 250;
    own.feed(chunk, now);
    shared.feed(chunk, now); // the monitor sees the bytes (bitrate, last packet) …
    seg.push(chunk); // … and the writer demuxes them
    own.tick(now);
    shared.tick(now);
    assert.deepEqual(shared.snapshot(), own.snapshot());
  }
  assert.equal(c.made, 0, 'no demux of its own while shared');
  assert.ok(own.ccErrors >= 6, `cc errors ${own.ccErrors}`);
  assert.equal(own.lostPackets, lost + 15, 'gap sizes: every lost packet, and 15 for the second repeat');
  assert.ok(own.fps > 15 && own.fps < 35, `fps ${own.fps}`);
  assert.equal(shared.fps, own.fps);
});

test('monitor: counters stay cumulative across share/unshare, resets and a writer replaced', () => {
  const { data } = impairedTs();
  const chunks = split(data, 12);
  const { c, make } = countingAnalyzers();
  const m = new InputMonitor(make);
  const ref = new InputMonitor(createTsAnalyzer);
  let seg = new Segmenter(nullSink);
  const feedBoth = (k: number) => {
    m.feed(chunks[k]!);
    ref.feed(chunks[k]!);
    seg.push(chunks[k]!);
  };
  // own pass first (a probe)
  feedBoth(0);
  feedBoth(1);
  assert.equal(c.made, 1);
  const pushes = c.pushes;
  // becomes the active passthrough input: the writer's pass from now on
  m.share(new SharedDemuxView(() => seg.stats));
  feedBoth(2);
  feedBoth(3);
  assert.equal(c.pushes, pushes, 'no push to the own pass while shared');
  m.reset(); // a new byte stream: the view stays, the writer resets its own demux
  assert.equal(m.sharing, true);
  seg.markDiscontinuity();
  ref.reset();
  feedBoth(4);
  const mid = { cc: m.ccErrors, lost: m.lostPackets, frames: m.videoFrames };
  // live output moves: a new writer (fresh demux) behind the same view
  seg = new Segmenter(nullSink);
  ref.reset(); // (the reference restarts its CC state where the fresh writer does)
  assert.equal(m.ccErrors, mid.cc, 'a new writer does not take counts back');
  assert.equal(m.lostPackets, mid.lost);
  assert.equal(m.videoFrames, mid.frames);
  for (let k = 5; k < 9; k++) feedBoth(k);
  assert.ok(m.ccErrors >= mid.cc && m.lostPackets >= mid.lost && m.videoFrames > mid.frames, 'the new writer is counted');
  // not active any more (it may be probed next): its own pass again, from the next byte
  m.share(null);
  ref.reset();
  assert.equal(m.sharing, false);
  const atSwap = { cc: m.ccErrors, lost: m.lostPackets, frames: m.videoFrames };
  for (let k = 9; k < 12; k++) feedBoth(k);
  assert.equal(c.made, 2, 'a new own pass');
  assert.ok(c.pushes > pushes);
  assert.ok(m.ccErrors >= atSwap.cc && m.lostPackets >= atSwap.lost && m.videoFrames > atSwap.frames);
  // every CC error and lost packet counted once, whichever pass counted it
  assert.equal(m.ccErrors, ref.ccErrors);
  assert.equal(m.lostPackets, ref.lostPackets);
});

/** A publisher's request body as PublishHub.accept reads it. */
class FakePublisher extends EventEmitter {
  headers = {};
  socket = { remoteAddress: '127.0.0.1' };
  destroy(): void {
    this.emit('close');
  }
}

function supervisorFor(s: ReturnType<typeof stream>, make: () => TsAnalyzer, now?: () => number) {
  return new Supervisor(
    { stream: s, specHash: 'x' },
    {
      ffmpegPath: '/bin/false',
      buildPipelineArgs: () => {
        throw new Error('no ffmpeg in this test');
      },
      openWriter: (o) => HlsWriter.open(o),
      makeAnalyzer: make,
      logger,
      tickMs: 10,
      backoff: () => new Backoff({ initialMs: 50, maxMs: 200 }),
      ...(now ? { now } : {}),
    },
  );
}

test('supervisor: the active publish input reads the writer\'s demux: same counters as a standalone pass, no demux of its own', async (t) => {
  const root = await tempDir(t, 'flux-shared-');
  const { data, lost } = impairedTs();
  const { c, make } = countingAnalyzers();
  let clock = 5_000_000;
  const sup = supervisorFor(stream('pub', [input('publish://')], { root }), make, () => clock);
  const pub = new FakePublisher();
  t.after(() => sup.stop());
  await sup.start();
  const ref = new InputMonitor(createTsAnalyzer);
  ref.tick(clock);
  await sleep(50); // the supervisor's first tick opens its rate window at the same time
  void sup.publishHub.accept(pub as unknown as IncomingMessage);
  for (const chunk of split(data, 24)) {
    clock += 250;
    pub.emit('data', chunk);
    ref.feed(chunk, clock);
    ref.tick(clock);
    await sleep(30); // a few ticks at this time
  }
  const i0 = sup.status().inputs[0]!;
  assert.equal(i0.role, 'active');
  assert.equal(i0.bytes, data.length);
  assert.deepEqual(
    { ccErrors: i0.ccErrors, lostPackets: i0.lostPackets, fps: i0.fps, bitrate: i0.bitrate },
    { ccErrors: ref.ccErrors, lostPackets: ref.lostPackets, fps: ref.fps, bitrate: ref.bitrate },
  );
  assert.equal(i0.lostPackets, lost + 15);
  assert.ok(i0.ccErrors >= 6 && i0.fps > 15, JSON.stringify(i0));
  assert.deepEqual(c, { made: 0, pushes: 0, bytes: 0 }, 'the monitor ran no demux of its own');
  assert.ok(sup.status().renditions[0]!.segments >= 2, 'the writer did cut the bytes it demuxed');
});

test('supervisor: a probe demuxes on its own; once it returns as the active passthrough input it reads the writer\'s pass', async (t) => {
  const root = await tempDir(t, 'flux-shared-');
  const port = await freeUdpPort();
  const { data } = impairedTs();
  const { c, make } = countingAnalyzers();
  const s = stream('fo', [input(`udp://127.0.0.1:${port}`, { sourceTimeoutMs: 300, returnAfterMs: 1500 }, 0), input('publish://', { sourceTimeoutMs: 5000 }, 1)], { root });
  const sup = supervisorFor(s, make);
  const pub = new FakePublisher();
  const udp = new UdpSender(port, 1);
  const sock = dgram.createSocket('udp4');
  t.after(async () => {
    udp.close();
    sock.close();
    await sup.stop();
  });
  await sup.start();
  await waitFor('failover to publish', () => sup.status().activeInput === 1, 3000);
  void sup.publishHub.accept(pub as unknown as IncomingMessage);
  for (const chunk of split(data, 8)) pub.emit('data', chunk);
  let st = sup.status();
  assert.equal(st.inputs[1]!.bytes, data.length);
  assert.ok(st.inputs[1]!.ccErrors >= 6, 'the active publish input counts through the writer');
  assert.deepEqual(c, { made: 0, pushes: 0, bytes: 0 }, 'no demux of its own for the active passthrough input');
  const pubCounters = { cc: st.inputs[1]!.ccErrors, lost: st.inputs[1]!.lostPackets };

  // the preferred input comes back: its probe runs a demux of its own on every byte it gets
  udp.start(20);
  await waitFor('probe media', () => (sup.status().inputs[0]!.bytes ?? 0) > 5000, 3000);
  st = sup.status();
  assert.equal(st.inputs[0]!.role, 'probe');
  assert.equal(st.activeInput, 1);
  assert.ok(c.made >= 1);
  assert.equal(c.bytes, st.inputs[0]!.bytes, 'the probe demuxed every byte it got');

  // priority return: the udp input is the active passthrough one now, and stops demuxing on its own
  await waitFor('return to udp', () => sup.status().activeInput === 0, 5000);
  const atReturn = { pushes: c.pushes, bytes: sup.status().inputs[0]!.bytes ?? 0 };
  await waitFor('more udp media', () => sup.status().inputs[0]!.bytes! > atReturn.bytes + 5000, 3000);
  assert.equal(c.pushes, atReturn.pushes, 'no push to an own pass after the return');
  // its CC errors come from the writer's demux: a gap of 3 packets is 1 error and 3 lost
  udp.stop();
  // the sender's last batch delivered (a batch waits 75 ms here): the byte count holds still
  let sent = -1;
  for (let now = sup.status().inputs[0]!.bytes!; now !== sent; now = sup.status().inputs[0]!.bytes!) {
    sent = now;
    await sleep(100);
  }
  const send = (b: Buffer) => new Promise<void>((r) => sock.send(b, port, '127.0.0.1', () => r()));
  await send(tsPackets(7, 1, 0));
  // delivered (datagrams reach the chain in batches: Supervisor.batchPauseMs, 75 ms here)
  await waitFor('the first datagram counted', () => sup.status().inputs[0]!.bytes! >= sent + 7 * 188, 2000);
  const base = sup.status().inputs[0]!;
  await send(tsPackets(7, 1, 7));
  await send(tsPackets(7, 1, 14 + 3));
  await waitFor('gap counted', () => sup.status().inputs[0]!.ccErrors > base.ccErrors, 2000);
  const after = sup.status().inputs[0]!;
  assert.equal(after.ccErrors - base.ccErrors, 1);
  assert.equal(after.lostPackets - base.lostPackets, 3);
  assert.equal(c.pushes, atReturn.pushes);
  // the former active input keeps what it counted (monotonic counters)
  assert.equal(after.role, 'active');
  const i1 = sup.status().inputs[1]!;
  assert.deepEqual({ cc: i1.ccErrors, lost: i1.lostPackets }, pubCounters);
});

test('supervisor: a warm standby taking over does not count its replayed GOP twice', async (t) => {
  const root = await tempDir(t, 'flux-shared-');
  const port = await freeUdpPort();
  const { data } = impairedTs();
  const { c, make } = countingAnalyzers();
  const s = stream('warm', [input(`udp://127.0.0.1:${port}`, { sourceTimeoutMs: 400, returnAfterMs: 60_000 }, 0), input('publish://', { sourceTimeoutMs: 5000, warm: true }, 1)], { root });
  const sup = supervisorFor(s, make);
  const pub = new FakePublisher();
  const udp = new UdpSender(port, 1).start(20);
  t.after(async () => {
    udp.close();
    await sup.stop();
  });
  await sup.start();
  await waitFor('warm standby', () => sup.status().inputs[1]!.role === 'warm', 3000);
  void sup.publishHub.accept(pub as unknown as IncomingMessage);
  for (const chunk of split(data, 24)) pub.emit('data', chunk);
  const before = sup.status();
  const warm = before.inputs[1]!;
  assert.equal(warm.bytes, data.length);
  assert.ok(c.made >= 1 && c.bytes === data.length, 'the warm standby demuxes on its own');
  assert.ok(warm.ccErrors >= 6, JSON.stringify(warm));
  // the primary goes silent: the warm standby takes over, its latest GOP replayed into the writers
  udp.stop();
  await waitFor('switch to the warm standby', () => sup.status().activeInput === 1, 3000);
  const after = sup.status();
  assert.ok((after.renditions[0]!.bytes ?? 0) > (before.renditions[0]!.bytes ?? 0), 'the cached GOP went to the writer');
  const i1 = after.inputs[1]!;
  assert.equal(i1.role, 'active');
  // the replayed bytes were counted by the standby's own pass already: not again through the writer's
  assert.deepEqual({ cc: i1.ccErrors, lost: i1.lostPackets }, { cc: warm.ccErrors, lost: warm.lostPackets });
  assert.equal(c.bytes, data.length, 'no demux of its own once active');
  // nor through the former active input's (it read the writer's pass until the switch)
  const i0 = after.inputs[0]!;
  assert.deepEqual({ cc: i0.ccErrors, lost: i0.lostPackets }, { cc: before.inputs[0]!.ccErrors, lost: before.inputs[0]!.lostPackets });
});
