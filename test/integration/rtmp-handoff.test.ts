/**
 * RTMP handoff (protocol/rtmp-handoff.ts) between real processes: the node's RTMP server (here, in
 * the test process, as in the agent) authorizes a real ffmpeg publisher, then hands its socket to a
 * real supervisor process over the IPC channel; the supervisor reads the media and writes HLS.
 * Checked: valid segments (ffprobe), no media parsed on the agent's side, a second publisher
 * refused, a kick over the channel disconnects the publisher, a publisher's disconnect ends the
 * publication (input lost → waiting), and a supervisor without a channel gets the TS over HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { startRtmpServer, createReadableSink, type RtmpServer } from '../../src/daemons/node/rtmp-server.js';
import { ingestInto, rtmpHandoffTarget } from '../../src/daemons/node/publish.js';
import { decodableFrames, expectLive, ffmpegTestSource, ffprobe, startSupervisorProc, tempEnv, waitFor, writeSpec, type SupervisorProc } from './supervisor-helpers.js';
import type { TestContext } from 'node:test';

/** The agent's RTMP server for one stream: hands over to `sup` when it has a channel, else pipes over HTTP. */
async function agentRtmp(t: TestContext, sup: SupervisorProc, opts: { handoff: boolean }) {
  const ch = opts.handoff ? sup.channel : undefined;
  const kicks = new Map<string, (reason: string) => void>();
  const srv: RtmpServer = await startRtmpServer({
    host: '127.0.0.1',
    port: 0,
    authorize: (req) => ({ ok: true, stream: req.name || req.app }),
    handoff: (stream) => (ch?.ready ? rtmpHandoffTarget({ logger: silentLogger, watchPublisher: (s, kick) => (kicks.set(s, kick), () => kicks.delete(s)) }, stream, ch) : undefined),
    onPublish: (_stream, publisher) => {
      const { sink, readable } = createReadableSink();
      ingestInto(sup.sock, readable)
        .catch((e: Error) => publisher.close(e.message))
        .finally(() => readable.destroy());
      return sink;
    },
  });
  // a closing connection is destroyed by an unreferenced 2 s timer: a referenced one keeps this
  // test process alive meanwhile (the agent has other handles)
  t.after(() => Promise.race([srv.close(), new Promise((r) => setTimeout(r, 3000))]));
  if (ch) await waitFor('the supervisor takes handoffs (rtmp-ready)', async () => ch.ready, 10_000);
  return { srv, kicks };
}

function rtmpPublisher(t: TestContext, url: string) {
  return ffmpegTestSource(t, url, { format: 'flv' });
}

test('an RTMP publisher handed to the supervisor: HLS, one publisher, kick, disconnect', { timeout: 120_000 }, async (t) => {
  const env = await tempEnv(t);
  const { file, stream } = await writeSpec(env, 'cam', { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'cam', { ipc: true });
  const { srv, kicks } = await agentRtmp(t, sup, { handoff: true });
  const url = `rtmp://127.0.0.1:${srv.port}/live/cam`;

  const pub = rtmpPublisher(t, url);
  const { status, playlist } = await expectLive(sup, stream, { audio: true });
  assert.equal(status.publisher?.via, 'rtmp-handoff', 'the supervisor reads the RTMP socket itself');
  assert.match(status.publisher?.remote ?? '', /^rtmp 127\.0\.0\.1:\d+$/);
  assert.ok(status.events.some((e) => e.type === 'publish'));
  const seg = path.join(stream.root, 'v1a1', playlist.entries[0]!.uri);
  const probe = ffprobe(seg);
  assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.ok(decodableFrames(seg) > 5);

  // the agent's side: listed, handed off, and not one media message parsed there
  const [info] = srv.sessions();
  assert.equal(info?.stream, 'cam');
  assert.equal(info?.handedOff, true);
  assert.equal(info?.mediaMessages, 0, 'the agent parsed no media');
  const agentBytes = info!.bytesIn;
  const later = await waitFor('more TS over there', async () => {
    const s = await sup.status();
    return s.publisher && s.publisher.bytes > status.publisher!.bytes + 50_000 ? s : null;
  }, 15_000);
  assert.ok(later.publisher!.bytes > 0);
  assert.equal(srv.sessions()[0]?.bytesIn, agentBytes, 'the agent read nothing more from the socket');
  assert.ok(agentBytes < 20_000, `the agent read ${agentBytes} bytes (handshake and commands only)`);

  // a second publisher of the same stream is refused (the first one goes on)
  const second = rtmpPublisher(t, url);
  await waitFor('the second publisher to be refused', async () => second.exitCode !== null || second.signalCode !== null, 20_000);
  assert.match(second.stderrText(), /already being published|Broken pipe|error/i);
  assert.equal((await sup.status()).publisher?.via, 'rtmp-handoff');
  assert.equal(pub.exitCode, null, 'the first publisher still publishes');

  // a kick (the publish backend withdrew its allow) goes over the channel: the publisher is cut
  kicks.get('cam')!('denied on re-check');
  await waitFor('the kicked publisher to exit', async () => pub.exitCode !== null || pub.signalCode !== null, 15_000);
  const afterKick = await waitFor('the publication to end', async () => {
    const s = await sup.status();
    return !s.publisher && s.events.some((e) => e.type === 'unpublish') ? s : null;
  }, 10_000);
  assert.match(afterKick.events.filter((e) => e.type === 'unpublish').at(-1)!.reason, /denied on re-check/);
  await waitFor('the agent to drop the session', async () => srv.sessions().length === 0, 5000);

  // a new publisher, then its abrupt disconnect: input lost, waiting for a publisher
  const third = rtmpPublisher(t, url);
  await waitFor('the third publisher handed over', async () => (await sup.status()).publisher?.via === 'rtmp-handoff', 20_000);
  await waitFor('running on the third', async () => (await sup.status()).state === 'running', 20_000);
  await third.stop(); // SIGKILL: no FCUnpublish, the TCP connection just goes
  const lost = await waitFor('input lost', async () => {
    const s = await sup.status();
    return s.state === 'waiting' && !s.publisher ? s : null;
  }, 20_000);
  assert.match(lost.lastError ?? '', /waiting for a publisher/);
  assert.match(lost.events.filter((e) => e.type === 'unpublish').at(-1)!.reason, /disconnected|idle/);

  // the supervisor holds the one-publisher rule too: with a publisher over HTTP (SRT's way in),
  // a handed-over RTMP publisher is refused there and disconnected
  const src = ffmpegTestSource(t, '-');
  const body = http.request({ socketPath: sup.sock, method: 'POST', path: '/ingest', headers: { 'content-type': 'video/mp2t' } });
  body.on('error', () => {});
  src.stdout!.pipe(body);
  t.after(() => body.destroy());
  await waitFor('the HTTP publisher', async () => (await sup.status()).publisher?.via === 'http', 15_000);
  const refused = rtmpPublisher(t, url);
  await waitFor('the RTMP publisher to be cut', async () => refused.exitCode !== null || refused.signalCode !== null, 20_000);
  await waitFor('the agent to drop it', async () => srv.sessions().length === 0, 5000);
  assert.equal((await sup.status()).publisher?.via, 'http', 'the HTTP publisher goes on');
  assert.match(await sup.log(), /rtmp handoff refused.*|stream already has a publisher/);
});

test('without handoff (a supervisor with no channel) the TS still goes over HTTP', { timeout: 90_000 }, async (t) => {
  const env = await tempEnv(t);
  const { file, stream } = await writeSpec(env, 'cam', { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'cam');
  const { srv } = await agentRtmp(t, sup, { handoff: false });
  rtmpPublisher(t, `rtmp://127.0.0.1:${srv.port}/live/cam`);
  const { status } = await expectLive(sup, stream, { audio: true });
  assert.equal(status.publisher?.via, 'http');
  const [info] = srv.sessions();
  assert.equal(info?.handedOff, false);
  assert.ok((info?.mediaMessages ?? 0) > 0, 'the agent remuxes');
});

test('a live TS reader (WebRTC) gets a handed-over publication at the agent pacing, not in 200 ms batches', { timeout: 90_000 }, async (t) => {
  const env = await tempEnv(t);
  const { file, stream } = await writeSpec(env, 'cam', { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'cam', { ipc: true });
  const { srv } = await agentRtmp(t, sup, { handoff: true });
  rtmpPublisher(t, `rtmp://127.0.0.1:${srv.port}/live/cam`);
  await expectLive(sup, stream, { audio: true });
  // the tap the agent's WebRTC feed opens (src/webrtc/live-feed.ts)
  const arrivals: number[] = [];
  const req = http.get({ socketPath: sup.sock, path: '/live.ts' }, (res) => res.on('data', () => arrivals.push(Date.now())));
  req.on('error', () => {});
  t.after(() => req.destroy());
  await new Promise((r) => setTimeout(r, 3500));
  // from 0.5 s on (the relaxed pause running when the tap came may be 200 ms)
  const from = arrivals[0]! + 500;
  const times = arrivals.filter((a) => a >= from);
  const gaps = times.slice(1).map((a, i) => a - times[i]!).sort((a, b) => a - b);
  assert.ok(gaps.length >= 10, `${gaps.length} chunks reached the tap in 3 s`);
  const median = gaps[Math.floor(gaps.length / 2)]!;
  assert.ok(median < 120, `median gap between TS chunks at the tap: ${median} ms (gaps ${gaps.join(',')})`);
});
