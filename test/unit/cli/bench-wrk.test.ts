import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLatencyDistribution } from '../../../bench/wrk.js';

// real output of `wrk -t1 -c10 -d1s --latency` (wrk 4.1.0), units us/ms mixed as wrk prints them
const OUT = `Running 1s test @ http://127.0.0.1:39871/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.03ms    3.86ms  44.02ms   97.06%
    Req/Sec    33.46k    15.27k   50.75k    70.00%
  Latency Distribution
     50%  255.00us
     75%  356.00us
     90%    1.37ms
     99%   25.49ms
  33212 requests in 1.00s, 3.90MB read
Requests/sec:  33174.02
Transfer/sec:      3.89MB
`;

test('wrk --latency: the distribution block, in ms, and not the thread stats above it', () => {
  const p = parseLatencyDistribution(OUT);
  assert.deepEqual(Object.keys(p), ['50', '75', '90', '99']);
  assert.ok(Math.abs(p['50']! - 0.255) < 1e-9, `p50 ${p['50']}`);
  assert.ok(Math.abs(p['75']! - 0.356) < 1e-9);
  assert.equal(p['90'], 1.37);
  assert.equal(p['99'], 25.49);
  assert.equal(parseLatencyDistribution(OUT.replace('25.49ms', '1.50s'))['99'], 1500);
});

test('wrk without --latency: no percentiles', () => {
  assert.deepEqual(parseLatencyDistribution(OUT.replace(/  Latency Distribution\n(.*\n){4}/, '')), {});
});
