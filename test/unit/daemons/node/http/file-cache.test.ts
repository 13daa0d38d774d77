import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileCache } from '../../../../../src/daemons/node/http/file-cache.js';

async function tmp(t: import('node:test').TestContext): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'flux-fc-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('trusted for revalidateMs, then one stat notices a file renamed into place', async (t) => {
  const d = await tmp(t);
  let now = 1000;
  const c = new FileCache({ revalidateMs: 150, maxBytes: 1 << 20, maxFileBytes: 1 << 16, now: () => now });
  const f = path.join(d, 'index.m3u8');
  await writeFile(f, 'v1');
  assert.equal(c.peek(f), undefined, 'nothing cached yet');
  const e1 = await c.load(f);
  assert.equal(e1?.body?.toString(), 'v1');
  await writeFile(f + '.tmp', 'v2-longer');
  await rename(f + '.tmp', f);
  now += 100;
  assert.equal(c.peek(f)?.body?.toString(), 'v1', 'still fresh: no I/O');
  now += 100;
  assert.equal(c.peek(f), undefined, 'stale: caller must load');
  const e2 = await c.load(f);
  assert.equal(e2?.body?.toString(), 'v2-longer');
  assert.notEqual(e2!.etag, e1!.etag);
  now += 200;
  const e3 = await c.load(f);
  assert.equal(e3, e2, 'unchanged file: same entry after the stat');
  assert.equal(c.counters.reads, 2);
});

test('concurrent loads of one path share one read; missing files are remembered', async (t) => {
  const d = await tmp(t);
  let now = 0;
  const c = new FileCache({ revalidateMs: 150, maxBytes: 1 << 20, maxFileBytes: 1 << 16, now: () => now });
  const f = path.join(d, 'seg.ts');
  await writeFile(f, Buffer.alloc(1000, 0x47));
  const all = await Promise.all(Array.from({ length: 50 }, () => c.load(f)));
  assert.ok(all.every((e) => e === all[0]));
  assert.equal(c.counters.loads, 1);
  const missing = path.join(d, 'nope.ts');
  assert.equal(await c.load(missing), null);
  assert.equal(c.peek(missing), null, 'known missing without I/O');
  await unlink(f);
  now += 200;
  assert.equal(await c.load(f), null, 'deletion noticed on revalidation');
  assert.equal(await c.load(d), null, 'a directory is not a file');
});

test('bounded by bytes; large files are described but not held', async (t) => {
  const d = await tmp(t);
  const c = new FileCache({ revalidateMs: 1000, maxBytes: 2500, maxFileBytes: 1500 });
  for (const n of ['a', 'b', 'c']) await writeFile(path.join(d, n), Buffer.alloc(1000));
  await writeFile(path.join(d, 'big'), Buffer.alloc(2000));
  for (const n of ['a', 'b', 'c']) await c.load(path.join(d, n));
  assert.ok(c.cachedBytes <= 2500);
  assert.equal(c.peek(path.join(d, 'a')), undefined, 'oldest evicted');
  assert.ok(c.peek(path.join(d, 'c')));
  const big = await c.load(path.join(d, 'big'));
  assert.equal(big?.body, null);
  assert.equal(big?.size, 2000);
});
