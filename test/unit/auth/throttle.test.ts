import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureThrottle, Semaphore } from '../../../src/auth/throttle.js';
import { hostOf, isJsonContentType } from '../../../src/auth/api-guard.js';

test('FailureThrottle: failures plus attempts in flight capped per address, Retry-After from the oldest failure', () => {
  let now = 1_000_000;
  const th = new FailureThrottle({ maxFailures: 3, windowMs: 10_000, now: () => now });
  for (let i = 0; i < 3; i++) assert.equal(th.begin('a'), 0);
  assert.ok(th.begin('a') > 0, 'three in flight: the fourth waits');
  assert.equal(th.begin('b'), 0, 'another address is not affected');
  th.done('b', true);
  for (let i = 0; i < 3; i++) th.done('a', false);
  now += 4000;
  assert.equal(th.begin('a'), 6, 'seconds until the oldest failure leaves the window');
  now += 6001;
  assert.equal(th.begin('a'), 0);
  th.done('a', true);
  assert.equal(th.begin('a'), 0, 'a success clears the address');
});

test('Semaphore runs at most N at once', async () => {
  const s = new Semaphore(1);
  let active = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 5 }, () => s.run(async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5));
    active--;
  })));
  assert.equal(peak, 1);
});

test('api-guard helpers: Host parsing and JSON content types', () => {
  assert.equal(hostOf('Example.COM:8080'), 'example.com');
  assert.equal(hostOf('[::1]:80'), '::1');
  assert.equal(hostOf(':80'), undefined);
  assert.ok(isJsonContentType('application/json; charset=utf-8'));
  assert.ok(isJsonContentType('application/merge-patch+json'));
  assert.ok(!isJsonContentType('text/plain'));
  assert.ok(!isJsonContentType(undefined));
});
