import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange } from '../../../../../src/daemons/node/http/range.js';

test('single byte ranges', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-1000', 100), { kind: 'partial', start: 90, end: 99 }, 'end clamped');
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 }, 'suffix');
  assert.deepEqual(parseRange('bytes=-1000', 100), { kind: 'partial', start: 0, end: 99 }, 'suffix longer than the file');
  assert.deepEqual(parseRange('BYTES = 5 - 5', 100), { kind: 'partial', start: 5, end: 5 });
  assert.deepEqual(parseRange('bytes=99-99', 100), { kind: 'partial', start: 99, end: 99 });
});

test('unsatisfiable: start at or past the end, empty suffix, empty file', () => {
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=100-200', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
});

test('malformed or multi-range headers are ignored (full response)', () => {
  for (const h of ['bytes=5-1', 'bytes=0-1,5-6', 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes=99999999999999999999-']) {
    assert.deepEqual(parseRange(h, 100), { kind: 'full' }, h);
  }
});
