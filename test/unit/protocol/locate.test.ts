/** Where the CLI finds the node's socket: server.run_dir from the config file, read fast or by the library. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { locateNode } from '../../../src/protocol/locate.js';

test('run_dir from the config: the plain subset, YAML only the library reads, and none', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-locate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const saved = process.env.FLUX_SOCKET;
  delete process.env.FLUX_SOCKET;
  t.after(() => (saved === undefined ? delete process.env.FLUX_SOCKET : (process.env.FLUX_SOCKET = saved)));
  const file = path.join(dir, 'flux.yaml');
  const at = async (yaml: string) => {
    await writeFile(file, yaml);
    return locateNode(file);
  };
  // the plain subset (core/fast-yaml.ts reads it)
  let l = await at('server:\n  http: 8080\n  run_dir: ./r1 # here\nstreams:\n  a:\n    inputs: [{ url: "publish://" }]\n');
  assert.equal(l.runDir, path.join(dir, 'r1'));
  assert.equal(l.socketPath, path.join(dir, 'r1', 'node.sock'));
  assert.equal(l.configFile, file);
  // an anchor: the fast parser gives up, the library reads it
  l = await at('dirs: &d /tmp/flux-locate-r2\nserver:\n  run_dir: *d\n');
  assert.equal(l.runDir, '/tmp/flux-locate-r2');
  // no run_dir: ./run next to the file
  l = await at('server:\n  http: 8080\n');
  assert.equal(l.runDir, path.join(dir, 'run'));
  // broken YAML: the default, no throw (a file being edited)
  l = await at('server:\n  run_dir: [unclosed\n');
  assert.equal(l.runDir, path.join(dir, 'run'));
});
