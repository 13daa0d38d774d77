/** PES reassembly (media/ts/pes-assembly.ts): growth, announced length, overflow, buffer reuse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { abortPes, appendPes, ASM_COMPLETE, ASM_INITIAL_BYTES, ASM_MORE, ASM_OVERFLOW, beginPes, takePes } from '../../../src/media/ts/pes-assembly.js';
import { TsTrack } from '../../../src/media/ts/track.js';

const track = () => new TsTrack(257, 0x0f, 'audio', 'aac', true);

test('a bounded PES completes at its announced length and is cut to it', () => {
  const t = track();
  beginPes(t, 5);
  assert.equal(appendPes(t, Buffer.from([1, 2, 3]), 0, 3, 1 << 20), ASM_MORE);
  assert.equal(appendPes(t, Buffer.from([0, 4, 5, 6]), 1, 4, 1 << 20), ASM_COMPLETE);
  assert.deepEqual([...takePes(t)], [1, 2, 3, 4, 5]);
  assert.equal(t.asmActive, false);
});

test('an unbounded PES grows past the first buffer and keeps every byte; the buffer is reused', () => {
  const t = track();
  beginPes(t, -1);
  const chunk = Buffer.alloc(184);
  let total = 0;
  for (let i = 0; total < ASM_INITIAL_BYTES * 3; i++) {
    chunk.fill(i & 0xff);
    assert.equal(appendPes(t, chunk, 0, chunk.length, 1 << 24), ASM_MORE);
    total += chunk.length;
  }
  const out = takePes(t);
  assert.equal(out.length, total);
  assert.equal(out[184 * 5], 5);
  const buf = t.asm;
  beginPes(t, -1);
  appendPes(t, chunk, 0, 10, 1 << 24);
  assert.equal(t.asm, buf, 'no new buffer for the next PES');
  assert.equal(takePes(t).length, 10);
});

test('a PES larger than the maximum is dropped', () => {
  const t = track();
  beginPes(t, -1);
  const big = Buffer.alloc(2000);
  assert.equal(appendPes(t, big, 0, 1000, 1500), ASM_MORE);
  assert.equal(appendPes(t, big, 0, 1000, 1500), ASM_OVERFLOW);
  assert.equal(t.asmActive, false);
  assert.equal(t.asmLen, 0);
});

test('abort and an empty PES', () => {
  const t = track();
  beginPes(t, 3);
  appendPes(t, Buffer.from([1]), 0, 1, 100);
  abortPes(t);
  assert.equal(t.asmActive, false);
  beginPes(t, -1);
  assert.equal(takePes(track()).length, 0, 'never appended: an empty payload');
});
