/** failover_on counts in the metrics: flux_stream_input_quality_failovers_total{stream,input,reason}. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FluxMetrics, type MetricsStream } from '../../../src/events/metrics.js';
import { parsePrometheus, sample } from '../../e2e/prometheus-text.js';

test('quality failovers by reason (black, frozen, silence, cc_errors) per input', async () => {
  const stream: MetricsStream = {
    name: 'ch1',
    supervisor: 'running',
    restarts: 0,
    clients: 0,
    status: {
      state: 'running',
      activeInput: 1,
      fps: 25,
      restarts: 0,
      inputs: [
        { index: 0, priority: 1, bitrate: 0, ccErrors: 31, switches: 1, fps: 0, quality: { failovers: { black: 2, frozen: 1, silence: 4, cc_errors: 3 } } },
        { index: 1, priority: 2, bitrate: 1e6, ccErrors: 0, switches: 3, fps: 25 },
      ],
      renditions: [],
      push: [],
      dvr: undefined,
    },
  };
  const m = new FluxMetrics({ node: () => 'n1', startedAt: Date.now(), streams: () => [stream], eventCount: () => 0, eventTotals: () => ({}), sinks: () => [] });
  const p = parsePrometheus((await m.render()).text);
  for (const [reason, v] of [['black', 2], ['frozen', 1], ['silence', 4], ['cc_errors', 3]] as const) {
    assert.equal(sample(p, 'flux_stream_input_quality_failovers_total', { stream: 'ch1', input: '0', reason }), v);
  }
  assert.equal(sample(p, 'flux_stream_input_quality_failovers_total', { stream: 'ch1', input: '1', reason: 'black' }), undefined, 'an unwatched input has no series');
});
