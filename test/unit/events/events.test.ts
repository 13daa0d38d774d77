/**
 * Webhook sinks on real loopback HTTP servers: batches in order; a down sink's queue is bounded
 * (oldest dropped and counted) and it catches up in order once it answers; only/except filter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSink } from '../../../src/events/sinks.js';
import { EventHub } from '../../../src/events/hub.js';
import { StatusWatcher, StreamEventLog } from '../../../src/events/stream-events.js';

async function server(t: { after(fn: () => unknown): void }, answer: () => number) {
  const got: number[][] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer();
      if (status < 300) got.push((JSON.parse(Buffer.concat(chunks).toString()) as { event_id: number }[]).map((e) => e.event_id));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    s.closeAllConnections();
    s.close();
  });
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, got };
}

test('a sink that is down keeps a bounded queue, counts drops, then delivers the rest in order', async (t) => {
  let status = 503;
  const srv = await server(t, () => status);
  const hub = new EventHub(() => 'n1');
  const sink = new WebhookSink({ url: srv.url }, { maxQueue: 50 });
  t.after(() => sink.close());
  hub.subscribe((e) => sink.offer(e));
  for (let i = 0; i < 300; i++) hub.emit('source_lost', 's', `r${i}`);
  const st = sink.stats();
  // a burst: the newest 50 stay queued (the first POST goes on the next turn), the rest dropped
  assert.equal(st.queued, 50);
  assert.equal(st.dropped, 250);
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 300; i < 400; i++) hub.emit('source_lost', 's', `r${i}`);
  // now 50 are in flight (the oldest, kept for the retry) and the newest 50 queued
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(sink.stats().failed >= 1);
  status = 204;
  await sink.drain(10_000);
  const ids = srv.got.flat();
  assert.deepEqual(ids, [...Array.from({ length: 50 }, (_, i) => 251 + i), ...Array.from({ length: 50 }, (_, i) => 351 + i)]);
  assert.equal(sink.stats().sent, 100);
  assert.equal(sink.stats().dropped, 300);
  assert.equal(sink.stats().queued, 0);
});

test('only/except filter what a sink gets', async (t) => {
  const srv = await server(t, () => 200);
  const hub = new EventHub(() => 'n1');
  const a = new WebhookSink({ url: srv.url, only: ['push_failed', 'push_restored'], except: ['push_restored'] });
  t.after(() => a.close());
  hub.subscribe((e) => a.offer(e));
  hub.emit('push_failed', 's', 'x');
  hub.emit('push_restored', 's', 'x');
  hub.emit('stream_started', 's', 'x');
  await a.drain(5000);
  assert.deepEqual(srv.got.flat(), [1]);
});

test('event ring keeps the newest N; since/stream/limit', () => {
  const hub = new EventHub(() => 'n1', 5);
  for (let i = 0; i < 8; i++) hub.emit('stream_started', i % 2 ? 'a' : 'b', 'x');
  assert.deepEqual(hub.list().map((e) => e.event_id), [4, 5, 6, 7, 8]);
  assert.deepEqual(hub.list({ since: 6 }).map((e) => e.event_id), [7, 8]);
  assert.deepEqual(hub.list({ stream: 'a' }).map((e) => e.event_id), [4, 6, 8]);
  assert.deepEqual(hub.list({ limit: 2 }).map((e) => e.event_id), [7, 8]);
  assert.deepEqual(hub.list({ since: 1 }).map((e) => e.event_id), [4, 5, 6, 7, 8]);
});

test('status watcher: failover order, push failed/restored, DVR error and disk low once', () => {
  let now = 1000;
  const log = new StreamEventLog('s', () => now++);
  const w = new StatusWatcher(log);
  const st = (active: number, states: string[], push: { state: string; errors: number }[] = [], dvr: unknown = null) => ({
    activeInput: active,
    inputs: states.map((state, index) => ({ index, url: `u${index}`, state, lastError: null })),
    push: push.map((p) => ({ url: 'rtmp://x', lastError: null, ...p })),
    dvr,
  });
  w.lifecycle({ type: 'start', reason: 'supervisor started' });
  w.observe(st(0, ['waiting', 'standby']));
  w.observe(st(0, ['active', 'standby'], [{ state: 'connecting', errors: 0 }]));
  w.observe(st(0, ['active', 'standby'], [{ state: 'retrying', errors: 1 }]));
  w.lifecycle({ type: 'switch', reason: 'source_timeout', from: 0, to: 1 });
  w.observe(st(1, ['failed', 'waiting'], [{ state: 'retrying', errors: 2 }]));
  w.observe(st(1, ['failed', 'active'], [{ state: 'running', errors: 2 }], { lastError: 'ENOSPC', disk: { usedPercent: 96 } }));
  w.observe(st(1, ['failed', 'active'], [{ state: 'running', errors: 2 }], { lastError: 'ENOSPC', disk: { usedPercent: 97 } }));
  w.lifecycle({ type: 'stop', reason: 'api' });
  assert.deepEqual(
    log.since(0).map((e) => `${e.event}${e.input ?? ''}`),
    ['stream_started', 'source_ready0', 'push_failed', 'source_lost0', 'source_switched', 'source_ready1', 'push_restored', 'dvr_write_error', 'disk_low', 'stream_stopped'],
  );
  assert.deepEqual(log.since(8).map((e) => e.seq), [9, 10]);
  // a seq from a previous supervisor process (larger than ours): everything we have
  assert.equal(log.since(99).length, 10);
});

test('a long poll wakes on the next event', async () => {
  const log = new StreamEventLog('s');
  const p = log.page(0, 5000);
  setTimeout(() => log.emit('source_lost', 'x'), 50);
  const t0 = Date.now();
  const page = await p;
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(page.events.map((e) => e.event), ['source_lost']);
  assert.equal(page.seq, 1);
});
