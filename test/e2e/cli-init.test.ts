import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEMPLATE } from '../helpers/config-fixtures.js';
import { runCli, assertBuilt, assertNoStack, tempDir } from '../helpers/index.js';

before(() => assertBuilt());

test('init writes the commented sample and its schema; the result validates', async (t) => {
  const dir = await tempDir(t, 'flux-init-');
  const r = await runCli(['init'], { cwd: dir, env: { FLUX_CONFIG: undefined } });
  assertNoStack(r);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^wrote flux\.yaml and flux\.schema\.json$/m);
  const written = await readFile(path.join(dir, 'flux.yaml'), 'utf8');
  assert.equal(written, await readFile(TEMPLATE, 'utf8'));
  assert.equal(written.split('\n')[0], '# yaml-language-server: $schema=./flux.schema.json');
  assert.equal((await stat(path.join(dir, 'flux.yaml'))).mode & 0o777, 0o644);
  const schema = JSON.parse(await readFile(path.join(dir, 'flux.schema.json'), 'utf8'));
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  const v = await runCli(['validate', 'flux.yaml'], { cwd: dir });
  assert.equal(v.code, 0, v.stderr);
});

test('init refuses to overwrite without --force (exit 1, one clear line, file untouched)', async (t) => {
  const dir = await tempDir(t, 'flux-init-');
  const file = path.join(dir, 'mine.yaml');
  await writeFile(file, 'streams: {}  # my own\n');
  const r = await runCli(['init', 'mine.yaml'], { cwd: dir });
  assertNoStack(r);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'flux: mine.yaml already exists; use --force to overwrite it\n');
  assert.equal(await readFile(file, 'utf8'), 'streams: {}  # my own\n');
  const j = await runCli(['init', '--json', 'mine.yaml'], { cwd: dir });
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.stdout).error.code, 'E_EXISTS');

  const f = await runCli(['init', '--force', '--json', 'mine.yaml'], { cwd: dir });
  assert.equal(f.code, 0, f.stderr);
  assert.deepEqual(JSON.parse(f.stdout), { file: 'mine.yaml', schema: path.join('.', 'flux.schema.json') });
  assert.equal(await readFile(file, 'utf8'), await readFile(TEMPLATE, 'utf8'));
});

test('init into a new directory; --no-schema writes only the config', async (t) => {
  const dir = await tempDir(t, 'flux-init-');
  const r = await runCli(['init', '--no-schema', 'etc/flux/flux.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  await stat(path.join(dir, 'etc/flux/flux.yaml'));
  await assert.rejects(stat(path.join(dir, 'etc/flux/flux.schema.json')));
});

test('on the config init writes, a new stream may receive the sample\'s multicast group (disabled channel1 takes no port)', async (t) => {
  const dir = await tempDir(t, 'flux-init-');
  const env = { FLUX_CONFIG: undefined, FLUX_SOCKET: path.join(dir, 'no-node.sock') };
  assert.equal((await runCli(['init'], { cwd: dir, env })).code, 0);
  assert.match(await readFile(path.join(dir, 'flux.yaml'), 'utf8'), /url: udp:\/\/239\.0\.0\.1:1234/);
  const add = await runCli(['stream', 'add', 'extra', '--input', 'udp://239.0.0.1:1234'], { cwd: dir, env });
  assertNoStack(add);
  assert.equal(add.code, 0, add.stderr);
  const again = await runCli(['stream', 'add', 'extra2', '--input', 'udp://239.0.0.1:1234'], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await runCli(['validate', 'flux.yaml'], { cwd: dir, env })).code, 0);
  // one unicast address and port is still one listener
  assert.equal((await runCli(['stream', 'add', 'u1', '--input', 'udp://127.0.0.1:6000'], { cwd: dir, env })).code, 0);
  const clash = await runCli(['stream', 'add', 'u2', '--input', 'udp://127.0.0.1:6000'], { cwd: dir, env });
  assert.equal(clash.code, 3, clash.stderr);
  assert.match(clash.stderr, /udp port 6000 \(127\.0\.0\.1\) is already used by streams\.u1/);
});
