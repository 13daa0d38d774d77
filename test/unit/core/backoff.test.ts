/** The one backoff (core/backoff.ts), with the settings of each user. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../../src/core/backoff.js';

test('backoff: 0.5 s doubling to a 30 s cap, reset after a healthy run', () => {
  const b = new Backoff();
  assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000]);
  for (let i = 0; i < 10; i++) b.next();
  assert.equal(b.next(), 30_000);
  assert.equal(b.failures, 15);
  assert.equal(b.afterRun(29_000), 30_000, 'a short run does not reset');
  assert.equal(b.afterRun(30_000), 500, 'a 30 s healthy run resets');
  assert.equal(b.peek(), 1000);
  b.reset();
  assert.equal(b.peek(), 500);
});

test('backoff, immediateFirst (supervisor processes): the first death restarts at once, quick deaths back off', () => {
  const b = new Backoff({ initialMs: 500, maxMs: 30_000, resetAfterMs: 10_000, immediateFirst: true });
  assert.deepEqual([b.afterRun(100), b.afterRun(100), b.afterRun(100), b.afterRun(100)], [0, 500, 1000, 2000]);
  assert.equal(b.afterRun(10_000), 0, 'a run of 10 s is healthy: at once again');
  assert.equal(b.afterRun(9_999), 500);
  b.reset();
  assert.equal(b.peek(), 0);
});

test('backoff of a push target: its retry delay doubles to the cap', () => {
  const b = new Backoff({ initialMs: 2000, maxMs: 5000, resetAfterMs: 30_000 });
  assert.deepEqual([b.afterRun(0), b.afterRun(0), b.afterRun(0), b.afterRun(0)], [2000, 4000, 5000, 5000]);
});
