/**
 * The metrics exposition built from supervisor status documents: every family parses with a strict
 * text-format parser, counters carry the supervisors' totals, labels are escaped, the histogram is
 * cumulative, and 200 streams render well within the 100 ms scrape budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { FluxMetrics, type MetricsStatus, type MetricsStream } from '../../../src/events/metrics.js';
import { parsePrometheus, sample } from '../../e2e/prometheus-text.js';

function status(i: number): MetricsStatus {
  return {
    state: i % 10 === 0 ? 'waiting' : 'running',
    activeInput: 1,
    fps: 25,
    restarts: i % 3,
    inputs: [
      { index: 0, priority: 1, bitrate: 0, ccErrors: 2, switches: 0, bytes: 1000, fps: 0 },
      { index: 1, priority: 2, bitrate: 4_000_000 + i, ccErrors: 0, switches: 1, bytes: 5_000_000 + i, fps: 25 },
    ],
    renditions: [{ name: 'v1a1', segments: 3, bytes: 123_456, durations: { le: [1, 2, 4], counts: [1, 2, 0], sum: 4.5, count: 3 } }],
    push: [{ url: 'rtmp://cdn/live/"x"\\y', state: i % 2 ? 'running' : 'retrying', bytes: 10, outBytes: 99, restarts: 4 }],
    dvr: { bytes: 1e9, oldest: Date.now() - 3600_000 },
  };
}

test('200 streams: every metric family, values from the status documents, under 100 ms', async (t) => {
  const streams: MetricsStream[] = Array.from({ length: 200 }, (_, i) => ({ name: `cams/c${i}`, supervisor: 'running', restarts: 1, status: status(i), clients: i % 5 }));
  streams.push({ name: 'down', supervisor: undefined, restarts: 0, status: undefined, clients: 0 });
  const m = new FluxMetrics({
    node: () => 'n1',
    startedAt: Date.now() - 5000,
    streams: () => streams,
    eventCount: (e, s) => (e === 'dvr_write_error' && s === 'cams/c7' ? 2 : 0),
    eventTotals: () => ({ source_switched: 200 }),
    sinks: () => [{ url: 'http://hook', queued: 3, sent: 10, dropped: 1, failed: 2 }],
  });
  await m.render();
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    text = (await m.render()).text;
    times.push(performance.now() - a);
  }
  const ms = times.sort((a, b) => a - b)[2]!;
  t.diagnostic(`render of 200 streams: median ${ms.toFixed(1)} ms, ${text.length} bytes`);
  const p = parsePrometheus(text);
  assert.ok(ms < 100, `render of 200 streams took ${ms.toFixed(1)} ms`);
  assert.equal(sample(p, 'flux_stream_input_bytes_total', { stream: 'cams/c5', input: '1' }), 5_000_005);
  assert.equal(sample(p, 'flux_stream_input_source_switches_total', { stream: 'cams/c5', input: '1' }), 1);
  assert.equal(sample(p, 'flux_stream_input_cc_errors_total', { stream: 'cams/c5', input: '0' }), 2);
  assert.equal(sample(p, 'flux_stream_up', { stream: 'cams/c10' }), 0);
  assert.equal(sample(p, 'flux_stream_up', { stream: 'down' }), 0);
  assert.equal(sample(p, 'flux_stream_active_input', { stream: 'cams/c5' }), 2);
  assert.equal(sample(p, 'flux_stream_online_clients', { stream: 'cams/c7' }), 2);
  assert.equal(sample(p, 'flux_stream_segment_duration_seconds_bucket', { stream: 'cams/c5', le: '2' }), 3, 'cumulative');
  assert.equal(sample(p, 'flux_stream_segment_duration_seconds_bucket', { stream: 'cams/c5', le: '+Inf' }), 3);
  assert.equal(sample(p, 'flux_stream_segment_duration_seconds_sum', { stream: 'cams/c5' }), 4.5);
  assert.equal(sample(p, 'flux_push_bytes_total', { stream: 'cams/c5', push: '0' }), 99);
  assert.equal(sample(p, 'flux_push_up', { stream: 'cams/c5', push: '0' }), 1);
  assert.equal(p.samples.find((s) => s.name === 'flux_push_up')!.labels.url, 'rtmp://cdn/live/"x"\\y', 'label values escaped and read back');
  assert.equal(sample(p, 'flux_dvr_write_errors_total', { stream: 'cams/c7' }), 2);
  assert.ok(Math.abs(sample(p, 'flux_dvr_oldest_seconds', { stream: 'cams/c7' })! - 3600) < 5);
  assert.equal(sample(p, 'flux_node_supervisors', { state: 'down' }), 1);
  assert.equal(sample(p, 'flux_node_ffmpeg_restarts_total'), streams.reduce((a, s) => a + (s.status?.restarts ?? 0), 0));
  assert.equal(sample(p, 'flux_sink_dropped_events_total', { sink: 'http://hook' }), 1);
  assert.equal(sample(p, 'flux_events_total', { event: 'source_switched' }), 200);
  for (const name of ['flux_stream_fps', 'flux_stream_output_bytes_total', 'flux_stream_segments_total', 'flux_push_reconnects_total', 'flux_dvr_disk_bytes', 'flux_node_cpu_seconds_total', 'flux_node_rss_bytes', 'flux_node_open_files', 'flux_node_supervisor_restarts_total', 'flux_stream_ffmpeg_restarts_total', 'flux_stream_input_bitrate_bits']) {
    assert.ok(p.samples.some((s) => s.name === name), name);
  }
  assert.ok(p.samples.every((s) => s.labels.node === 'n1'));
});

test('WebRTC metrics: gauges and counters per stream (and kind) from the gateway counters; none without sessions', async () => {
  const webrtc = [{ stream: 'cam', viewers: 2, publishers: 0, sessions: { whep: 5, whip: 0 }, iceFailures: { whep: 1, whip: 0 }, bytesSent: 123_456, bytesReceived: 789 }];
  const m = new FluxMetrics({ node: () => 'n1', startedAt: 0, streams: () => [], eventCount: () => 0, eventTotals: () => ({}), sinks: () => [], webrtc: () => webrtc });
  const p = parsePrometheus((await m.render()).text);
  assert.equal(sample(p, 'flux_webrtc_viewers', { stream: 'cam' }), 2);
  assert.equal(sample(p, 'flux_webrtc_publishers', { stream: 'cam' }), 0);
  assert.equal(sample(p, 'flux_webrtc_sessions_total', { stream: 'cam', kind: 'whep' }), 5);
  assert.equal(sample(p, 'flux_webrtc_sessions_total', { stream: 'cam', kind: 'whip' }), 0);
  assert.equal(sample(p, 'flux_webrtc_bytes_sent_total', { stream: 'cam' }), 123_456);
  assert.equal(sample(p, 'flux_webrtc_bytes_received_total', { stream: 'cam' }), 789);
  assert.equal(sample(p, 'flux_webrtc_ice_failures_total', { stream: 'cam', kind: 'whep' }), 1);
  assert.equal(p.types.get('flux_webrtc_viewers'), 'gauge');
  assert.equal(p.types.get('flux_webrtc_sessions_total'), 'counter');
  webrtc.length = 0;
  const none = parsePrometheus((await m.render()).text);
  assert.ok(!none.samples.some((s) => s.name.startsWith('flux_webrtc_')));
});

test('templates: the Grafana dashboard queries only metrics Flux exports; the Prometheus example scrapes /metrics', async () => {
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const { parse } = await import('yaml');
  const { REPO_ROOT } = await import('../../helpers/index.js');
  const m = new FluxMetrics({ node: () => 'n', startedAt: 0, streams: () => [], eventCount: () => 0, eventTotals: () => ({}), sinks: () => [] });
  const known = new Set(m.registry.getMetricsAsArray().map((x) => (x as { name: string }).name));
  const dash = JSON.parse(readFileSync(path.join(REPO_ROOT, 'templates', 'grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const used = new Set<string>();
  for (const p of dash.panels) for (const t of p.targets) for (const name of t.expr.match(/flux_[a-z_]+/g) ?? []) used.add(name.replace(/_(bucket|sum|count)$/, ''));
  assert.ok(used.size >= 15, `dashboard uses ${used.size} metrics`);
  assert.deepEqual([...used].filter((n) => !known.has(n)), []);
  const prom = parse(readFileSync(path.join(REPO_ROOT, 'templates', 'prometheus.yml'), 'utf8')) as { scrape_configs: { metrics_path: string; basic_auth?: unknown }[] };
  assert.equal(prom.scrape_configs[0]!.metrics_path, '/metrics');
  assert.ok(prom.scrape_configs[0]!.basic_auth);
});

test('playback workers: their gauges and counters when there are some, nothing when there are none', async () => {
  const base = { node: () => 'n1', startedAt: Date.now(), streams: () => [], eventCount: () => 0, eventTotals: () => ({}), sinks: () => [] };
  const off = parsePrometheus((await new FluxMetrics({ ...base, httpWorkers: () => undefined }).render()).text);
  assert.equal(off.samples.filter((s) => s.name.startsWith('flux_http_worker')).length, 0);
  const on = parsePrometheus((await new FluxMetrics({ ...base, httpWorkers: () => ({ workers: 3, ready: 2, served: 1000, proxied: 7, restarts: 1 }) }).render()).text);
  assert.equal(sample(on, 'flux_http_workers', { state: 'ready' }), 2);
  assert.equal(sample(on, 'flux_http_workers', { state: 'down' }), 1);
  assert.equal(sample(on, 'flux_http_worker_requests_total', { handled_by: 'worker' }), 1000);
  assert.equal(sample(on, 'flux_http_worker_requests_total', { handled_by: 'agent' }), 7);
  assert.equal(sample(on, 'flux_http_worker_restarts_total'), 1);
});
