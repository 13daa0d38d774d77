/**
 * Events, webhooks and metrics on a real node: a scripted scenario (start, source loss, switch,
 * push failure, stop) arrives in order at a good webhook while a hanging sink and a 500 sink sit
 * next to it (they get retried, the good one is not held up); `flux events` prints the same feed
 * (NDJSON with --json, --stream filters, --follow streams); /metrics counts the switch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { CLI, freePort, http as fetchHttp, startNode, tempDir, waitFor } from '../helpers/index.js';
import { ffmpegTestSource, freeUdpPort } from '../integration/supervisor-helpers.js';
import { parsePrometheus, sample } from './prometheus-text.js';

interface Ev {
  event_id: number;
  event: string;
  stream: string | null;
  reason: string;
  utc_ms: number;
  node: string;
  input?: number;
  from?: number | null;
  to?: number;
}

async function sink(t: { after(fn: () => unknown): void }, mode: 'ok' | 'hang' | '500'): Promise<{ url: string; batches: Ev[][]; posts: () => number }> {
  const batches: Ev[][] = [];
  let posts = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts++;
      if (mode === 'hang') return; // never answers
      if (mode === '500') return void res.writeHead(500).end('no');
      batches.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Ev[]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, batches, posts: () => posts };
}

test('events: scripted failover scenario reaches webhooks in order; flux events; metrics count it', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const [good, hang, bad] = [await sink(t, 'ok'), await sink(t, 'hang'), await sink(t, '500')];
  const udp = await freeUdpPort();
  const deadRtmp = await freePort();
  let primary = ffmpegTestSource(t, `udp://127.0.0.1:${udp}?pkt_size=1316`);
  await new Promise((r) => setTimeout(r, 800));
  const node = await startNode(t, {
    dir,
    env: { FLUX_STATUS_POLL_MS: '500' },
    streams: {
      sc: {
        inputs: [
          { url: `udp://127.0.0.1:${udp}`, source_timeout: '2s', return_after: '60s' },
          { url: 'fake://testsrc?size=128x96&fps=10', priority: 2, source_timeout: '3s' },
        ],
        hls: { segment_duration: '1s', window: 4 },
        push: [{ url: `rtmp://127.0.0.1:${deadRtmp}/live/sc` }],
      },
    },
    extra: {
      events: {
        sinks: [
          { url: hang.url },
          { url: good.url, except: ['play_opened', 'play_closed'] },
          { url: bad.url, only: ['stream_started', 'source_switched'] },
        ],
      },
    },
  });
  const startedAt = Date.now();
  const goodEvents = () => good.batches.flat().filter((e) => e.stream === 'sc');
  const has = (name: string, pred: (e: Ev) => boolean = () => true) => goodEvents().some((e) => e.event === name && pred(e));

  await waitFor(() => has('source_ready', (e) => e.input === 0), { timeoutMs: 30_000, message: 'source_ready of the udp input at the good sink' });
  await waitFor(() => has('push_failed'), { timeoutMs: 30_000, message: 'push_failed at the good sink' });

  // the source goes away: source_lost → source_switched → source_ready of the backup
  await primary.stop();
  await waitFor(() => has('source_ready', (e) => e.input === 1), { timeoutMs: 30_000, message: 'failover to the backup' });

  // metrics: the switch is counted on the backup input; bytes came in on both
  const m = await waitFor(async () => {
    const r = await node.api('GET', '/api/v3/metrics');
    const p = parsePrometheus(r.text);
    return sample(p, 'flux_stream_input_source_switches_total', { stream: 'sc', input: '1' }) === 1 ? p : undefined;
  }, { timeoutMs: 15_000, message: 'switch counted in /metrics' });
  assert.equal(sample(m, 'flux_stream_input_source_switches_total', { stream: 'sc', input: '0' }), 0);
  assert.ok(sample(m, 'flux_stream_input_bytes_total', { stream: 'sc', input: '0' })! > 10_000);
  assert.equal(sample(m, 'flux_stream_active_input', { stream: 'sc' }), 2, 'the backup (priority 2) is active');
  assert.equal(sample(m, 'flux_push_up', { stream: 'sc', push: '0' }), 0);
  assert.equal(m.types.get('flux_stream_input_bytes_total'), 'counter');
  assert.ok(sample(m, 'flux_events_total', { event: 'source_switched' })! >= 1);

  // stop the stream: stream_stopped arrives last
  const rm = await node.cli(['stream', 'rm', 'sc']);
  assert.equal(rm.code, 0, rm.stderr);
  await waitFor(() => has('stream_stopped'), { timeoutMs: 30_000, message: 'stream_stopped at the good sink' });

  // order: the scripted scenario as a subsequence, ids increasing, nothing out of order
  const seq = goodEvents();
  const ids = good.batches.flat().map((e) => e.event_id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'event ids increase across batches');
  const scenario = seq.filter((e) => ['stream_started', 'source_lost', 'source_switched', 'source_ready', 'stream_stopped'].includes(e.event)).map((e) => `${e.event}${e.input ?? ''}${e.event === 'source_switched' ? `${e.from}>${e.to}` : ''}`);
  assert.deepEqual(scenario, ['stream_started', 'source_ready0', 'source_lost0', 'source_switched0>1', 'source_ready1', 'stream_stopped'], JSON.stringify(seq.map((e) => e.event)));
  const sw = seq.find((e) => e.event === 'source_switched')!;
  assert.equal(sw.reason, 'source_timeout');
  assert.ok(sw.node.length > 0 && sw.utc_ms > 0);
  assert.ok(seq.findIndex((e) => e.event === 'push_failed') < seq.findIndex((e) => e.event === 'stream_stopped'));

  // the 500 sink was tried again and again; the hanging one got its first POST and waits on it
  assert.ok(bad.posts() >= 2, `500 sink posts ${bad.posts()}`);
  // one POST in flight at a time, abandoned after 5 s, then retried with backoff
  const elapsed = Date.now() - startedAt;
  assert.ok(hang.posts() >= 1 && hang.posts() <= Math.ceil(elapsed / 5000) + 1, `hanging sink: ${hang.posts()} POSTs in ${elapsed} ms`);
  const m2 = parsePrometheus((await node.api('GET', '/api/v3/metrics')).text);
  assert.ok(sample(m2, 'flux_sink_failed_posts_total', { sink: bad.url })! >= 1);
  assert.ok(sample(m2, 'flux_sink_queued_events', { sink: hang.url })! >= 5, 'the hanging sink holds its events');
  assert.equal(sample(m2, 'flux_sink_dropped_events_total', { sink: good.url }), 0);

  // flux events: NDJSON, the same ids; --stream filters; a bad --since is a usage error
  const ev = await node.cli(['events', '--json', '--stream', 'sc']);
  assert.equal(ev.code, 0, ev.stderr);
  const lines = ev.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
  assert.deepEqual(lines.filter((e) => e.event !== 'play_opened' && e.event !== 'play_closed').map((e) => e.event_id), seq.map((e) => e.event_id));
  const human = await node.cli(['events', '--limit', '3']);
  assert.equal(human.code, 0);
  assert.equal(human.stdout.trim().split('\n').length, 3);
  assert.match(human.stdout, /stream_stopped\s+sc/);
  assert.equal((await node.cli(['events', '--limit', 'x'])).code, 2);

  // the HTTP API serves the same page (loopback, no users configured)
  const page = await fetchHttp(`${node.baseUrl}/api/v3/events?stream=sc&limit=1`);
  assert.equal(page.status, 200);
  assert.equal(page.json.events[0].event, 'stream_stopped');
  assert.equal((await fetchHttp(`${node.baseUrl}/api/v3/events?since=-1`)).status, 400);

  // --follow: prints a config_reloaded as it happens
  const follower = spawn(process.execPath, [CLI, 'events', '--follow', '--json', '--limit', '0', '--config', node.configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => follower.kill('SIGKILL'));
  let out = '';
  follower.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await node.api('POST', '/api/v3/config/reload')).status, 200);
  await waitFor(() => out.includes('"config_reloaded"'), { timeoutMs: 10_000, message: 'follower sees config_reloaded' });
  assert.equal(out.trim().split('\n').length, 1, out);
  follower.kill('SIGINT');
  primary = undefined as never;
});

test('events survive an agent restart: the adopted supervisor\'s history is read back, not re-sent to sinks', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const good = await sink(t, 'ok');
  const node = await startNode(t, { dir, streams: { idle: { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s' } } }, extra: { events: { sinks: [{ url: good.url }] } } });
  await waitFor(() => good.batches.flat().some((e) => e.event === 'stream_started' && e.stream === 'idle'), { timeoutMs: 20_000, message: 'stream_started delivered' });
  const before = (await node.cli(['events', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
  const started = before.find((e) => e.event === 'stream_started')!;
  const supPid = (await node.supervisorPids()).idle;

  node.kill();
  await new Promise((r) => setTimeout(r, 500));
  await node.restart();
  assert.equal((await node.supervisorPids()).idle, supPid, 'the supervisor was adopted, not restarted');
  const after = await waitFor(async () => {
    const r = await node.cli(['events', '--json', '--stream', 'idle']);
    const evs = r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev) : [];
    return evs.some((e) => e.event === 'stream_started') ? evs : undefined;
  }, { timeoutMs: 15_000, message: 'history read back' });
  const again = after.find((e) => e.event === 'stream_started')!;
  assert.equal(again.utc_ms, started.utc_ms, 'the same event, read back from the supervisor');
  // the sink got it once (from the first agent) and not again
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(good.batches.flat().filter((e) => e.event === 'stream_started').length, 1);

  // a supervisor that dies is restarted by the node: supervisor_restarted, then its new stream_started
  process.kill(supPid!, 'SIGKILL');
  await waitFor(() => good.batches.flat().some((e) => e.event === 'supervisor_restarted' && e.stream === 'idle'), { timeoutMs: 20_000, message: 'supervisor_restarted delivered' });
  await waitFor(() => good.batches.flat().filter((e) => e.event === 'stream_started').length === 2, { timeoutMs: 20_000, message: 'the new supervisor\'s stream_started' });
  const restarted = good.batches.flat().find((e) => e.event === 'supervisor_restarted')!;
  assert.match(restarted.reason, /exited|gone/);
});
