/**
 * /metrics against known traffic: a fixed MPEG-TS file pushed once into a publish:// stream (the
 * supervisor's ingest socket, as the RTMP/SRT listeners do) is counted byte for byte in
 * flux_stream_input_bytes_total; segments and their duration histogram follow; the exposition
 * parses with a strict text-format parser, on the socket (`flux metrics`) and on the HTTP port;
 * publish_started/publish_stopped are events; a scrape during a config reload answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { http, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';
import { socketRequest } from '../../src/protocol/socket-http.js';
import { parsePrometheus, sample } from './prometheus-text.js';

test('metrics: bytes in after a fixed publish, segments, histogram; text format; scrape during reload', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const ts = path.join(dir, 'fixed.ts');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-f', 'mpegts', ts]);
  const size = (await stat(ts)).size;
  const node = await startNode(t, { dir, env: { FLUX_STATUS_POLL_MS: '300' }, streams: { pub: publishStream({ hls: { segment_duration: '1s', window: 10 } }), idle: publishStream() } });
  await waitFor(async () => (await node.stream('pub')).stats.supervisor?.pid, { message: 'pub supervisor' });
  const sock = path.join(node.runDir, 'streams', 'pub.sock');
  await waitFor(async () => (await socketRequest(sock, '/status', { timeoutMs: 1000 }).catch(() => undefined))?.status === 200, { message: 'pub socket' });

  const res = await socketRequest(sock, '/ingest', { method: 'POST', body: await readFile(ts), headers: { 'content-type': 'video/mp2t' }, timeoutMs: 20_000 });
  assert.equal(res.status, 200, res.text);

  const scrape = async () => {
    const r = await node.cli(['metrics']);
    assert.equal(r.code, 0, r.stderr);
    return parsePrometheus(r.stdout);
  };
  const m = await waitFor(async () => {
    const p = await scrape();
    return sample(p, 'flux_stream_input_bytes_total', { stream: 'pub', input: '0' }) === size ? p : undefined;
  }, { timeoutMs: 15_000, message: `flux_stream_input_bytes_total = ${size}` });
  const info = await node.info();
  const segs = sample(m, 'flux_stream_segments_total', { stream: 'pub' })!;
  assert.ok(segs >= 2, `segments ${segs}`);
  assert.equal(sample(m, 'flux_stream_segment_duration_seconds_count', { stream: 'pub', rendition: 'v1a1' }), segs);
  assert.equal(sample(m, 'flux_stream_segment_duration_seconds_bucket', { stream: 'pub', rendition: 'v1a1', le: '+Inf' }), segs);
  assert.ok(sample(m, 'flux_stream_segment_duration_seconds_bucket', { stream: 'pub', rendition: 'v1a1', le: '1.5' })! >= segs - 1, 'segments of ~1 s');
  assert.ok(sample(m, 'flux_stream_output_bytes_total', { stream: 'pub' })! > size / 2);
  assert.equal(sample(m, 'flux_stream_input_bytes_total', { stream: 'idle', input: '0' }), 0);
  assert.equal(sample(m, 'flux_node_supervisors', { state: 'up' }), 2);
  assert.ok(sample(m, 'flux_node_rss_bytes')! > 10e6);
  assert.ok(sample(m, 'flux_node_open_files')! > 5);
  assert.equal(m.types.get('flux_stream_segment_duration_seconds'), 'histogram');
  for (const s of m.samples) assert.equal(s.labels.node, info.name, `${s.name} has the node label`);

  // the HTTP port serves the same (loopback without users), HEAD too; POST is refused
  const h = await http(`${node.baseUrl}/metrics`);
  assert.equal(h.status, 200);
  assert.match(h.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
  assert.equal(sample(parsePrometheus(h.text), 'flux_stream_input_bytes_total', { stream: 'pub', input: '0' }), size);
  // a "simple" POST is refused by the API's cross-site guard first; a JSON one reaches the route
  assert.equal((await http(`${node.baseUrl}/metrics`, { method: 'POST' })).status, 403);
  assert.equal((await http(`${node.baseUrl}/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status, 405);

  // publish events
  const ev = await node.cli(['events', '--json', '--stream', 'pub']);
  const names = ev.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event);
  assert.ok(names.indexOf('publish_started') >= 0 && names.indexOf('publish_started') < names.indexOf('publish_stopped'), names.join(','));

  // a scrape during a reload that adds a stream answers, and the new stream appears
  const yaml = await readFile(node.configFile, 'utf8');
  await writeFile(node.configFile, yaml.replace(/^streams:\n/m, 'streams:\n  added:\n    inputs:\n      - url: publish://\n'));
  const during = await Promise.all([node.api('POST', '/api/v3/config/reload'), ...[0, 1, 2].map(() => node.api('GET', '/metrics'))]);
  for (const r of during) assert.equal(r.status, 200, r.text);
  const after = await waitFor(async () => {
    const p = parsePrometheus((await node.api('GET', '/metrics')).text);
    return sample(p, 'flux_stream_up', { stream: 'added' }) !== undefined ? p : undefined;
  }, { message: 'added stream in metrics' });
  assert.ok(sample(after, 'flux_events_total', { event: 'config_reloaded' })! >= 1);

  // no node: exit 4 with one line saying so
  await node.stop();
  for (const args of [['metrics'], ['events'], ['events', '--follow'], ['top', '--plain', '-n', '1']]) {
    const r = await node.cli(args);
    assert.equal(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /no node running|no node answers/);
  }
});
