/** The HLS writer's disk queue (daemons/stream/hls-write-queue.ts): order, writev coalescing, failures, byte accounting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../../helpers/index.js';
import { MAX_WRITEV, WriteQueue, type QueuedFile, type StepOp } from '../../../../src/daemons/stream/hls-write-queue.js';

interface F extends QueuedFile {
  file: string;
}


function queue(log: string[]) {
  const errors: string[] = [];
  const q = new WriteQueue<F>(
    async (op: StepOp<F>) => {
      log.push(`${op.kind} ${path.basename(op.seg.file)}`);
      if (op.kind === 'open') op.seg.fh = await fsp.open(op.seg.file, 'w');
      else {
        await op.seg.fh?.close();
        op.seg.fh = null;
      }
    },
    (err, msg) => void errors.push(`${msg}: ${(err as Error).message}`),
  );
  return { q, errors };
}

test('operations run in order; consecutive chunks of one file are one writev; bytes are accounted', async (t) => {
  const dir = await tempDir(t, 'flux-wq-');
  const log: string[] = [];
  const { q, errors } = queue(log);
  const a: F = { file: path.join(dir, 'a'), fh: null, failed: null, bytes: 0 };
  const b: F = { file: path.join(dir, 'b'), fh: null, failed: null, bytes: 0 };
  let writevs = 0;
  q.push({ kind: 'open', seg: a });
  q.push({
    kind: 'fn',
    fn: async () => {
      // wrap a's handle to count writev calls
      const fh = a.fh!;
      const orig = fh.writev.bind(fh);
      fh.writev = ((bufs: Buffer[]) => {
        writevs++;
        return orig(bufs);
      }) as typeof fh.writev;
      log.push('fn');
    },
  });
  for (let i = 0; i < 5; i++) q.push({ kind: 'data', seg: a, chunk: Buffer.from([i]) });
  assert.equal(q.queuedBytes, 5);
  q.push({ kind: 'close', seg: a, durationMs: 1, keyframe: true });
  q.push({ kind: 'open', seg: b });
  q.push({ kind: 'data', seg: b, chunk: Buffer.from('xy') });
  q.push({ kind: 'close', seg: b, durationMs: 1, keyframe: true });
  assert.deepEqual(
    [...q.pending()].map((o) => o.kind).slice(-3),
    ['open', 'data', 'close'],
  );
  await q.drain();
  assert.deepEqual(log, ['open a', 'fn', 'close a', 'open b', 'close b']);
  assert.equal(writevs, 1, 'five queued chunks, one writev');
  assert.deepEqual([...(await fsp.readFile(a.file))], [0, 1, 2, 3, 4]);
  assert.equal(await fsp.readFile(b.file, 'utf8'), 'xy');
  assert.equal(a.bytes, 5);
  assert.equal(q.queuedBytes, 0);
  assert.deepEqual(errors, []);
  assert.deepEqual([...q.pending()], []);
});

test('a writev never takes more than MAX_WRITEV chunks', async (t) => {
  const dir = await tempDir(t, 'flux-wq-');
  const { q } = queue([]);
  const a: F = { file: path.join(dir, 'a'), fh: null, failed: null, bytes: 0 };
  q.push({ kind: 'open', seg: a });
  const sizes: number[] = [];
  q.push({
    kind: 'fn',
    fn: async () => {
      const fh = a.fh!;
      const orig = fh.writev.bind(fh);
      fh.writev = ((bufs: Buffer[]) => {
        sizes.push(bufs.length);
        return orig(bufs);
      }) as typeof fh.writev;
    },
  });
  for (let i = 0; i < MAX_WRITEV + 10; i++) q.push({ kind: 'data', seg: a, chunk: Buffer.from([1]) });
  q.push({ kind: 'close', seg: a, durationMs: 1, keyframe: true });
  await q.drain();
  assert.deepEqual(sizes, [MAX_WRITEV, 10]);
  assert.equal(a.bytes, MAX_WRITEV + 10);
});

test('a write error marks the file failed, later data is skipped, the queue goes on; a throwing step is reported', async (t) => {
  const dir = await tempDir(t, 'flux-wq-');
  const log: string[] = [];
  const { q, errors } = queue(log);
  const a: F = { file: path.join(dir, 'a'), fh: null, failed: null, bytes: 0 };
  q.push({ kind: 'open', seg: a });
  q.push({
    kind: 'fn',
    fn: async () => {
      a.fh!.writev = (() => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' }))) as never;
    },
  });
  q.push({ kind: 'data', seg: a, chunk: Buffer.from('abc') });
  q.push({ kind: 'fn', fn: () => Promise.reject(new Error('boom')) });
  q.push({ kind: 'data', seg: a, chunk: Buffer.from('def') });
  q.push({ kind: 'fn', fn: async () => void log.push('after') });
  await q.drain();
  assert.equal(a.failed?.message, 'no space');
  assert.equal(a.bytes, 0);
  assert.equal(q.queuedBytes, 0);
  assert.deepEqual(errors, ['hls writer step failed: boom']);
  assert.deepEqual(log, ['open a', 'after']);
  await a.fh?.close();
});
