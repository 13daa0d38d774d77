import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEmptyConfig, judgeReload, keptApiUsers, STABLE_MS } from '../../../../src/daemons/node/reload-guard.js';
import type { ConfigInput } from '../../../../src/config/schema.js';

const withStreams: ConfigInput = { streams: { a: { inputs: [{ url: 'publish://' }] } } } as ConfigInput;
const noStreams: ConfigInput = { server: { http: 8080 } } as ConfigInput;

test('an empty file is never applied over running streams unless forced', () => {
  for (const input of [{} as ConfigInput, null as unknown as ConfigInput]) {
    assert.ok(isEmptyConfig(input));
    const v = judgeReload({ input, runningStreams: 3, nextStreams: 0, force: false, suspect: { fingerprint: JSON.stringify(input), since: 0 }, now: 1e12 });
    assert.equal(v.kind, 'empty');
    assert.match((v as { message: string }).message, /empty: not applied, the 3 running stream\(s\) are kept.*--force/);
    assert.equal(judgeReload({ input, runningStreams: 3, nextStreams: 0, force: true, suspect: undefined, now: 0 }).kind, 'apply');
  }
  // nothing runs: nothing to protect
  assert.equal(judgeReload({ input: {} as ConfigInput, runningStreams: 0, nextStreams: 0, force: false, suspect: undefined, now: 0 }).kind, 'apply');
});

test('a stream-less file is held until the same content is read again STABLE_MS later', () => {
  const first = judgeReload({ input: noStreams, runningStreams: 2, nextStreams: 0, force: false, suspect: undefined, now: 1000 });
  assert.equal(first.kind, 'hold');
  const fp = (first as { fingerprint: string }).fingerprint;
  const suspect = { fingerprint: fp, since: 1000 };
  assert.equal(judgeReload({ input: noStreams, runningStreams: 2, nextStreams: 0, force: false, suspect, now: 1000 + STABLE_MS - 1 }).kind, 'hold');
  assert.equal(judgeReload({ input: noStreams, runningStreams: 2, nextStreams: 0, force: false, suspect, now: 1000 + STABLE_MS }).kind, 'apply');
  // changed meanwhile: held again
  const other = { server: { http: 9090 } } as ConfigInput;
  assert.equal(judgeReload({ input: other, runningStreams: 2, nextStreams: 0, force: false, suspect, now: 1e12 }).kind, 'hold');
  // a file with streams is applied at once
  assert.equal(judgeReload({ input: withStreams, runningStreams: 2, nextStreams: 1, force: false, suspect: undefined, now: 0 }).kind, 'apply');
});

test('a reload never removes every API user', () => {
  assert.deepEqual(keptApiUsers(['admin'], []), { users: ['admin'], kept: true });
  assert.deepEqual(keptApiUsers(['admin'], ['ops']), { users: ['ops'], kept: false });
  assert.deepEqual(keptApiUsers([], []), { users: [], kept: false });
});
