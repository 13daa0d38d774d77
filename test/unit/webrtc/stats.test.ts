/**
 * The WebRTC counters behind /metrics: sessions and ICE failures by kind, connected gauges that
 * come and go (a release counts once), bytes of live sessions read at snapshot time and kept in the
 * totals after the session closes; a meter that throws reads as zero.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIceFailure, pcBytes, WebrtcStats } from '../../../src/webrtc/stats.js';

test('WebrtcStats: gauges, counters and bytes across a session life', () => {
  const st = new WebrtcStats();
  assert.deepEqual(st.snapshot(), [], 'no stream before its first session');
  st.opened('cam', 'whep');
  st.opened('cam', 'whep');
  st.opened('pub', 'whip');
  const v = st.connected('cam', 'whep');
  const p = st.connected('pub', 'whip');
  const live = { sent: 1000, received: 50 };
  const stopMeter = st.meter('cam', () => live);
  st.meter('pub', () => {
    throw new Error('transport gone');
  });
  let cam = st.snapshot().find((s) => s.stream === 'cam')!;
  assert.deepEqual(cam, { stream: 'cam', viewers: 1, publishers: 0, sessions: { whep: 2, whip: 0 }, iceFailures: { whep: 0, whip: 0 }, bytesSent: 1000, bytesReceived: 50 });
  assert.equal(st.snapshot().find((s) => s.stream === 'pub')!.publishers, 1);
  live.sent = 5000;
  assert.equal(st.snapshot().find((s) => s.stream === 'cam')!.bytesSent, 5000, 'live bytes read at snapshot time');
  // the viewer leaves: its bytes stay in the totals, the gauge drops once
  live.sent = 6000;
  stopMeter();
  stopMeter();
  live.sent = 1e9;
  v();
  v();
  st.iceFailed('cam', 'whep');
  p();
  cam = st.snapshot().find((s) => s.stream === 'cam')!;
  assert.equal(cam.viewers, 0);
  assert.equal(cam.bytesSent, 6000);
  assert.equal(cam.bytesReceived, 50);
  assert.deepEqual(cam.iceFailures, { whep: 1, whip: 0 });
  const pub = st.snapshot().find((s) => s.stream === 'pub')!;
  assert.equal(pub.publishers, 0);
  assert.equal(pub.bytesReceived, 0, 'a throwing meter reads 0');
  // snapshots are copies
  cam.sessions.whep = 99;
  assert.equal(st.snapshot().find((s) => s.stream === 'cam')!.sessions.whep, 2);
});

test('pcBytes sums the DTLS transports; ICE failures are the timeout and a failed connection', () => {
  assert.deepEqual(pcBytes({ dtlsTransports: [{ bytesSent: 10, bytesReceived: 1 }, { bytesSent: 5, bytesReceived: 2 }] }), { sent: 15, received: 3 });
  assert.ok(isIceFailure('ICE did not complete'));
  assert.ok(isIceFailure('connection failed'));
  assert.ok(!isIceFailure('connection closed'));
  assert.ok(!isIceFailure('deleted'));
});
