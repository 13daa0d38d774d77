/** The one atomic writer (core/atomic-write.ts): config edits, DVR index, playlists, pid and spec files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../../src/core/atomic-write.js';
import { tempDir } from '../../helpers/index.js';

test('writeFileAtomic replaces content, keeps the existing mode, applies an explicit mode, leaves no temp file', async (t) => {
  const dir = await tempDir(t, 'flux-atomic-');
  const file = path.join(dir, 'f.txt');
  await writeFile(file, 'old');
  await chmod(file, 0o600);
  await writeFileAtomic(file, 'new content');
  assert.equal(await readFile(file, 'utf8'), 'new content');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await writeFileAtomic(file, Buffer.from('bytes'), { mode: 0o640 });
  assert.equal((await stat(file)).mode & 0o777, 0o640);
  assert.equal(await readFile(file, 'utf8'), 'bytes');
  assert.deepEqual(await readdir(dir), ['f.txt']);
  await assert.rejects(writeFileAtomic(path.join(dir, 'missing-dir', 'x'), 'x'));
});

test('writeFileAtomic without fsync (playlists, live state) is just as atomic', async (t) => {
  const dir = await tempDir(t, 'flux-atomic-');
  const file = path.join(dir, 'index.m3u8');
  await writeFileAtomic(file, '#EXTM3U\n', { fsync: false });
  assert.equal(await readFile(file, 'utf8'), '#EXTM3U\n');
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  assert.deepEqual(await readdir(dir), ['index.m3u8']);
});
