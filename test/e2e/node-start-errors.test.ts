/**
 * `flux node start` refusals: an invalid config (exit 3, file:line:col), a busy HTTP port (exit 1,
 * one line, nothing left behind), a stale pid file of a dead node (cleaned, the node starts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort, runCli, startNode, tempDir, writeConfig } from '../helpers/index.js';

test('node start refuses invalid configs and busy ports, cleans stale pid files', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, 'server: {rtmp: false}\nstreams:\n  a: {inputz: [{url: "publish://"}]}\n');
  const invalid = await runCli(['node', 'start', '--config', bad], { cwd: dir });
  assert.equal(invalid.code, 3);
  assert.match(invalid.stderr, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:7: unknown key "inputz"`, 'm'));
  assert.equal(existsSync(path.join(dir, 'run', 'node.pid')), false);

  // a binary (NUL bytes) or non-UTF-8 file is an invalid config too: exit 3, one line
  const binary = path.join(dir, 'binary.yaml');
  await writeFile(binary, Buffer.from([0x73, 0x3a, 0x00, 0xff, 0x00, 0x0a, 0x89, 0x50, 0x4e, 0x47]));
  const bin = await runCli(['node', 'start', '--config', binary], { cwd: dir });
  assert.equal(bin.code, 3, bin.stderr);
  assert.equal(bin.stderr, `flux: ${binary}: binary data (NUL byte), expected a YAML text file\n`);
  const latin1 = path.join(dir, 'latin1.yaml');
  await writeFile(latin1, Buffer.from('title: caf\xe9\n', 'latin1'));
  const l1 = await runCli(['node', 'start', '--config', latin1], { cwd: dir });
  assert.equal(l1.code, 3, l1.stderr);
  assert.match(l1.stderr, /not UTF-8 text/);
  assert.equal(existsSync(path.join(dir, 'run', 'node.pid')), false);

  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.after(() => busy.close());
  const port = (busy.address() as net.AddressInfo).port;
  const { configFile } = await writeConfig({ dir, server: { http: port }, streams: { a: { inputs: [{ url: 'publish://' }] } } });
  const inUse = await runCli(['node', 'start', '--config', configFile], { cwd: dir });
  assert.equal(inUse.code, 1);
  assert.equal(inUse.stderr, `flux: cannot listen on HTTP 127.0.0.1:${port}: EADDRINUSE\n`);
  assert.equal(existsSync(path.join(dir, 'run', 'node.pid')), false, 'pid file released');
  assert.equal(existsSync(path.join(dir, 'run', 'node.sock')), false);

  // a stale pid file (a dead process) and a stale socket file: cleaned, the node starts
  const dir2 = await tempDir(t);
  await mkdir(path.join(dir2, 'run'), { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  await writeFile(path.join(dir2, 'run', 'node.pid'), `${dead}\n`);
  // a socket file left behind by a process killed while listening
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path.join(dir2, 'run', 'node.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(existsSync(path.join(dir2, 'run', 'node.sock')), 'a stale socket file is there');
  const node = await startNode(t, { dir: dir2, streams: { a: { inputs: [{ url: 'publish://' }] } }, server: { http: await freePort() } });
  assert.notEqual(node.pid, Number(dead));
  assert.equal((await node.info()).pid, node.pid);
});
