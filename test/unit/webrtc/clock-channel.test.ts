/**
 * The flux-clock DataChannel protocol (src/webrtc/clock-channel.ts) on a stand-in channel: clock
 * messages at most every CLOCK_INTERVAL_MS of stream time with the RTP timestamp as sent, pongs
 * that echo the viewer's time, and viewer input that is ignored (other labels, junk, floods).
 * The real channel between werift and Chromium is exercised by test/e2e/webrtc-chromium-play.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RTCDataChannel } from 'werift';
import { CLOCK_INTERVAL_MS, CLOCK_LABEL, ClockChannel } from '../../../src/webrtc/clock-channel.js';

function channel(label = CLOCK_LABEL) {
  const c = {
    label,
    readyState: 'open',
    sent: [] as string[],
    fn: null as ((m: string | Buffer) => void) | null,
    send(m: string) {
      c.sent.push(m);
    },
    onMessage: {
      subscribe(fn: (m: string | Buffer) => void) {
        c.fn = fn;
      },
    },
    receive(m: string | Buffer) {
      c.fn!(m);
    },
  };
  return c;
}

test('clock messages: the first frame, then one per CLOCK_INTERVAL_MS of arrival time, RTP timestamps as unsigned 32 bits', () => {
  const clock = new ClockChannel();
  clock.frameSent(1000, 5_000); // no channel yet: nothing, no throw
  const dc = channel();
  assert.equal(clock.attach(dc as unknown as RTCDataChannel), true);
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 25; i++) clock.frameSent((0xfffff000 + i * 3600) >>> 0, t0 + i * 40);
  const msgs = dc.sent.map((m) => JSON.parse(m) as { type: string; rtp: number; wall: number });
  assert.equal(msgs.length, Math.ceil((24 * 40 + 1) / CLOCK_INTERVAL_MS));
  assert.deepEqual(msgs[0], { type: 'clock', rtp: 0xfffff000, wall: t0 });
  assert.deepEqual(msgs[1], { type: 'clock', rtp: (0xfffff000 + 5 * 3600) >>> 0, wall: t0 + 200 }, 'wraps as u32');
  assert.equal(clock.sent, msgs.length);
  // a channel that is not open gets nothing
  dc.readyState = 'closing';
  clock.frameSent(1, t0 + 10_000);
  assert.equal(dc.sent.length, msgs.length);
});

test('ping → pong with the viewer time echoed and the node clock; junk, oversized, binary and floods ignored; other labels refused', () => {
  const clock = new ClockChannel();
  assert.equal(clock.attach(channel('chat') as unknown as RTCDataChannel), false);
  const dc = channel();
  clock.attach(dc as unknown as RTCDataChannel);
  const before = Date.now();
  dc.receive(JSON.stringify({ type: 'ping', id: 7, t: 123.5 }));
  const pong = JSON.parse(dc.sent[0]!) as { type: string; id: number; t: number; wall: number };
  assert.equal(pong.type, 'pong');
  assert.equal(pong.id, 7);
  assert.equal(pong.t, 123.5);
  assert.ok(pong.wall >= before && pong.wall <= Date.now());
  for (const bad of ['not json', 'null', '{"type":"ping","id":"x","t":1}', '{"type":"pong","id":1,"t":1}', `{"type":"ping","id":1,"t":1,"pad":"${'x'.repeat(300)}"}`]) dc.receive(bad);
  dc.receive(Buffer.from('{"type":"ping","id":1,"t":1}'));
  assert.equal(dc.sent.length, 1, 'nothing answered to junk');
  for (let i = 0; i < 100; i++) dc.receive(JSON.stringify({ type: 'ping', id: i, t: i }));
  assert.ok(dc.sent.length <= 20, `pings are budgeted per second (${dc.sent.length} answered)`);
});
