import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveFfmpeg, resolveFfprobe } from '../../../src/ffmpeg/resolve.js';
import { ExternalError } from '../../../src/core/errors.js';

async function tree(t: { after: (f: () => Promise<void>) => void }) {
  const root = await mkdtemp(path.join(tmpdir(), 'flux-resolve-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const mk = async (rel: string, exec = true) => {
    const p = path.join(root, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, '#!/bin/sh\n');
    await chmod(p, exec ? 0o755 : 0o644);
    return p;
  };
  return { root, mk };
}

test('order: FLUX_FFMPEG → config → PATH', async (t) => {
  const { root, mk } = await tree(t);
  const envBin = await mk('env/ffmpeg');
  const cfgBin = await mk('cfg/ffmpeg');
  const pathBin = await mk('bin/ffmpeg');
  const PATH = path.join(root, 'bin');
  assert.deepEqual(await resolveFfmpeg(cfgBin, { env: { FLUX_FFMPEG: envBin, PATH } }), { path: envBin, source: 'env' });
  assert.deepEqual(await resolveFfmpeg(cfgBin, { env: { PATH } }), { path: cfgBin, source: 'config' });
  assert.deepEqual(await resolveFfmpeg(undefined, { env: { PATH } }), { path: pathBin, source: 'path' });
});

test('a configured bare name is looked up on PATH', async (t) => {
  const { root, mk } = await tree(t);
  const bin = await mk('bin/ffmpeg6');
  assert.deepEqual(await resolveFfmpeg('ffmpeg6', { env: { PATH: path.join(root, 'bin') } }), { path: bin, source: 'config' });
});

test('an explicit choice that is not executable is an error, not skipped', async (t) => {
  const { root, mk } = await tree(t);
  const notExec = await mk('x/ffmpeg', false);
  await mk('bin/ffmpeg');
  const PATH = path.join(root, 'bin');
  await assert.rejects(resolveFfmpeg(undefined, { env: { FLUX_FFMPEG: notExec, PATH } }), (e: unknown) => e instanceof ExternalError && /FLUX_FFMPEG is not an executable/.test((e as Error).message));
  await assert.rejects(resolveFfmpeg('/nonexistent/ffmpeg', { env: { PATH } }), /server\.ffmpeg is not an executable/);
});

test('nothing anywhere: ExternalError telling how to install', async (t) => {
  const { root } = await tree(t);
  await assert.rejects(
    resolveFfmpeg(undefined, { env: { PATH: root }, packages: false }),
    (e: unknown) => e instanceof ExternalError && /apt-get install ffmpeg/.test((e as Error).message),
  );
  await assert.rejects(resolveFfprobe(undefined, undefined, { env: { PATH: root }, packages: false }), /apt-get install ffmpeg/);
});

test('ffprobe: FLUX_FFPROBE → config → sibling of ffmpeg → PATH', async (t) => {
  const { root, mk } = await tree(t);
  const ff = await mk('opt/ff/ffmpeg');
  const sib = await mk('opt/ff/ffprobe');
  const onPath = await mk('bin/ffprobe');
  const envP = await mk('env/ffprobe');
  const PATH = path.join(root, 'bin');
  assert.deepEqual(await resolveFfprobe(undefined, ff, { env: { FLUX_FFPROBE: envP, PATH } }), { path: envP, source: 'env' });
  assert.deepEqual(await resolveFfprobe(onPath, ff, { env: { PATH } }), { path: onPath, source: 'config' });
  assert.deepEqual(await resolveFfprobe(undefined, ff, { env: { PATH } }), { path: sib, source: 'sibling' });
  assert.deepEqual(await resolveFfprobe(undefined, path.join(root, 'elsewhere/ffmpeg'), { env: { PATH } }), { path: onPath, source: 'path' });
});

test('a versioned ffmpeg name finds its versioned ffprobe sibling', async (t) => {
  const { mk } = await tree(t);
  const ff = await mk('o/ffmpeg-7');
  const sib = await mk('o/ffprobe-7');
  assert.deepEqual(await resolveFfprobe(undefined, ff, { env: { PATH: '' } }), { path: sib, source: 'sibling' });
});
