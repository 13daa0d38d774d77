/** The `flux top` header line: node facts, and the cluster membership state when the node is in a cluster. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeLine, type TopSnapshot } from '../../../src/ui/top/model.js';

function snap(cluster: 'ok' | 'degraded' | 'refused' | null): TopSnapshot {
  const node = { name: 'n1', version: '0.1.0', uptime_ms: 65_000, cpu_percent: 1.5, rss_bytes: 50 * 1048576, supervisor_restarts: 0, cluster };
  return { node, streams: [], events: [], error: null, lastOkAt: Date.now() } as unknown as TopSnapshot;
}

test('flux top header: cluster state shown only for a clustered node', () => {
  assert.match(nodeLine(snap('degraded')), /node n1 .*cpu 1\.5% .*rss 50M .*cluster degraded$/);
  assert.match(nodeLine(snap('ok')), /cluster ok$/);
  assert.doesNotMatch(nodeLine(snap(null)), /cluster/);
});
