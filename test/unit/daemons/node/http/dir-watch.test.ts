/**
 * Playlists dropped from the cache when their directory's watch sees them replaced
 * (http/dir-watch.ts, FileCache.invalidate): a renamed-in playlist is served at once, not after
 * the revalidation interval; a load in flight when the file changes does not keep the old version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileCache } from '../../../../../src/daemons/node/http/file-cache.js';
import { DirWatch } from '../../../../../src/daemons/node/http/dir-watch.js';
import { waitFor } from '../../../../helpers/index.js';

async function tmp(t: import('node:test').TestContext): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'flux-dw-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function replace(file: string, text: string): Promise<void> {
  await writeFile(file + '.tmp', text);
  await rename(file + '.tmp', file);
}

test('a watched playlist replaced by rename leaves the cache at once; an unwatched one stays until revalidated', async (t) => {
  const d = await tmp(t);
  await mkdir(path.join(d, 'w'));
  await mkdir(path.join(d, 'u'));
  let dirs: DirWatch | undefined;
  // an hour without a stat: only the watch can tell
  const watched = new FileCache({ revalidateMs: 3_600_000, maxBytes: 1 << 20, maxFileBytes: 1 << 16, onLoad: (p) => dirs!.ensure(p) });
  dirs = new DirWatch(watched, /\.m3u8$/);
  t.after(() => dirs!.close());
  const plain = new FileCache({ revalidateMs: 3_600_000, maxBytes: 1 << 20, maxFileBytes: 1 << 16 });
  const fw = path.join(d, 'w', 'index.m3u8');
  const fu = path.join(d, 'u', 'index.m3u8');
  await writeFile(fw, 'v1');
  await writeFile(fu, 'v1');
  assert.equal((await watched.load(fw))?.body?.toString(), 'v1');
  assert.equal((await plain.load(fu))?.body?.toString(), 'v1');
  assert.equal(dirs.size, 1);
  for (const v of ['v2', 'v3-longer', 'v4']) {
    await replace(fw, v);
    await replace(fu, v);
    await waitFor(() => watched.peek(fw) === undefined, { timeoutMs: 2000, intervalMs: 1, message: `watched ${v} invalidated` });
    assert.equal((await watched.load(fw))?.body?.toString(), v);
    assert.equal(plain.peek(fu)?.body?.toString(), 'v1', 'the unwatched cache still trusts v1');
  }
  // other files of the directory (segments, temporary names) leave playlists alone
  await writeFile(path.join(d, 'w', '123-1000.ts'), 'x');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(watched.peek(fw)?.body?.toString(), 'v4');
});

test('invalidated while its load is in flight: the loaded entry is revalidated by the next request', async (t) => {
  const d = await tmp(t);
  const c = new FileCache({ revalidateMs: 3_600_000, maxBytes: 1 << 20, maxFileBytes: 1 << 16 });
  const f = path.join(d, 'index.m3u8');
  await writeFile(f, 'v1');
  const loading = c.load(f);
  c.invalidate(f);
  assert.equal((await loading)?.body?.toString(), 'v1');
  assert.equal(c.peek(f), undefined, 'not trusted: it may be the version the watch saw replaced');
  await replace(f, 'v2');
  assert.equal((await c.load(f))?.body?.toString(), 'v2');
  // the byte count survives invalidations of entries revalidated in flight
  const again = c.load(f);
  c.invalidate(f);
  await again;
  assert.equal(c.cachedBytes, 2);
});
