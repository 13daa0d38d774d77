/** Deletion of retired segments and restart sweep (daemons/stream/hls-retirement.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../../helpers/index.js';
import { deleteRetired, PART_NAME, sweepStale } from '../../../../src/daemons/stream/hls-retirement.js';
import { silentLogger } from '../../../../src/core/logger.js';

const H1 = '2026/12/06/04';
const H2 = '2026/12/06/05';
const T1 = Date.UTC(2026, 11, 6, 4, 59, 50);
const T2 = Date.UTC(2026, 11, 6, 5, 0, 0);

async function tree(t: Parameters<typeof tempDir>[0], files: string[]): Promise<string> {
  const root = await tempDir(t, 'flux-ret-');
  for (const f of files) {
    await fsp.mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await fsp.writeFile(path.join(root, f), 'x');
  }
  return root;
}

async function list(root: string): Promise<string[]> {
  const out = await fsp.readdir(root, { recursive: true, withFileTypes: true });
  return out.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

test('retired segments are deleted down to the grace, oldest first; an emptied hour dir goes unless in use', async (t) => {
  const a = `${H1}/${T1}-2000.ts`;
  const b = `${H1}/${T1 + 2000}-2000.ts`;
  const c = `${H2}/${T2}-2000.ts`;
  const root = await tree(t, [a, b, c]);
  const retired = [a, b, c, `${H2}/gone-already.ts`];
  await deleteRetired(root, retired, 1, () => false, silentLogger);
  assert.deepEqual(retired, [`${H2}/gone-already.ts`]);
  assert.deepEqual(await list(root), []);
  await assert.rejects(fsp.stat(path.join(root, H1)), 'the emptied hour dir is removed');
  await assert.rejects(fsp.stat(path.join(root, '2026')), 'and its empty parents');

  const root2 = await tree(t, [a]);
  await deleteRetired(root2, [a], 0, (dir) => path.join(root2, H1).startsWith(dir), silentLogger);
  assert.ok((await fsp.stat(path.join(root2, H1))).isDirectory(), 'a dir in use stays');
});

test('sweep: temp and part files go, those in the open segment dir stay; without DVR old unnamed segments go', async (t) => {
  const files = [`${H1}/.abc.tmp`, `${H1}/${T1 - 4000}-2000.ts`, `${H1}/${T1}-2000.ts`, `${H1}/${T1}-p0.m4s`, `${H2}/${T2}-p0.m4s`, `${H2}/.open.tmp`, `${H2}/${T2}-2000.ts`];
  assert.ok(PART_NAME.test(`${T2}-p0.m4s`));
  const root = await tree(t, files);
  await sweepStale(root, {
    keep: new Set([`${H1}/${T1}-2000.ts`]),
    firstStartMs: T2,
    keepSegments: false,
    currentDir: path.join(root, H2),
    inUse: () => false,
  });
  assert.deepEqual(await list(root), [`${H1}/${T1}-2000.ts`, `${H2}/${T2}-p0.m4s`, `${H2}/.open.tmp`, `${H2}/${T2}-2000.ts`].sort());

  const root2 = await tree(t, files);
  await sweepStale(root2, { keep: new Set(), firstStartMs: T2, keepSegments: true, currentDir: undefined, inUse: () => false });
  assert.deepEqual(await list(root2), [`${H1}/${T1 - 4000}-2000.ts`, `${H1}/${T1}-2000.ts`, `${H2}/${T2}-2000.ts`].sort(), 'DVR: only temp and part files go');
});
