/**
 * `flux cluster join | leave | apply` against a real etcd and real nodes: join writes the cluster:
 * section (comments kept) and the running node joins; an unreachable etcd exits 4 with the config
 * unchanged; a taken name is refused; apply validates (file:line:col, nothing written) and every
 * node runs the shared streams; leave takes the node out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort, http, startNode, tempDir, waitFor } from '../helpers/index.js';
import { startClusterNode, startEtcdCluster, waitPeers } from './cluster-support.js';

test('join: unreachable etcd exits 4 and changes nothing; join writes cluster: and the node joins; leave', { timeout: 120_000 }, async (t) => {
  const { etcd } = await startEtcdCluster(t);
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: {} });
  await writeFile(node.configFile, '# my node, keep this comment\n' + (await readFile(node.configFile, 'utf8')));
  const before = await readFile(node.configFile, 'utf8');

  const dead = `http://127.0.0.1:${await freePort()}`;
  const bad = await node.cli(['cluster', 'join', '--etcd', dead, '--name', 'n1']);
  assert.equal(bad.code, 4, bad.stderr);
  assert.match(bad.stderr, /cannot reach etcd at http:\/\/127\.0\.0\.1:\d+/);
  assert.equal(await readFile(node.configFile, 'utf8'), before, 'config unchanged');

  const usage = await node.cli(['cluster', 'join', '--etcd', 'ftp://x']);
  assert.equal(usage.code, 2, usage.stderr);

  const ok = await node.cli(['cluster', 'join', '--etcd', etcd.url, '--name', 'n1', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.json.cluster, 'ok');
  assert.deepEqual(ok.json.peers, ['n1']);
  const after = await readFile(node.configFile, 'utf8');
  assert.ok(after.startsWith(before), 'the rest of the file is kept byte for byte');
  assert.match(after, /^cluster:\n {2}etcd:\n {4}- http:\/\/127\.0\.0\.1:\d+\n {2}node_name: n1\n/m);

  // another node wants the same name: refused before its config is touched
  const other = await startNode(t, { dir: await tempDir(t), streams: {} });
  const otherBefore = await readFile(other.configFile, 'utf8');
  const dup = await other.cli(['cluster', 'join', '--etcd', etcd.url, '--name', 'n1']);
  assert.equal(dup.code, 1, dup.stderr);
  assert.match(dup.stderr, /node name "n1" is already used by another node/);
  assert.equal(await readFile(other.configFile, 'utf8'), otherBefore);

  // joining again with the same name from the same node is fine (idempotent)
  const again = await node.cli(['cluster', 'join', '--etcd', etcd.url, '--name', 'n1']);
  assert.equal(again.code, 0, again.stderr);

  const left = await node.cli(['cluster', 'leave', '--json']);
  assert.equal(left.code, 0, left.stderr);
  assert.equal(left.json.applied, true);
  assert.equal(await readFile(node.configFile, 'utf8'), before);
  const c = new Etcd3({ hosts: etcd.url });
  t.after(() => c.close());
  await waitFor(async () => (await c.get('/flux/nodes/n1').string()) === null, { timeoutMs: 5000, message: 'node key revoked' });
  assert.equal((await node.api('GET', '/api/v3/cluster/status')).status, 404);
  const notIn = await node.cli(['cluster', 'leave']);
  assert.equal(notIn.code, 1);
  assert.match(notIn.stderr, /no cluster: section/);
});

test('apply: invalid file changes nothing; every node runs the shared streams; re-apply removes them', { timeout: 150_000 }, async (t) => {
  const { etcd, dir } = await startEtcdCluster(t);
  const a = await startClusterNode(t, etcd, 'a');
  const b = await startClusterNode(t, etcd, 'b', { streams: { mine: { inputs: [{ url: 'publish://' }] } } });
  await waitPeers(a, ['a', 'b']);

  const badFile = path.join(dir, 'bad.yaml');
  await writeFile(badFile, 'streams:\n  sh1:\n    inputs:\n      - url: fake://testsrc\n    hls: { segment_duration: forever }\n');
  const bad = await a.cli(['cluster', 'apply', badFile]);
  assert.equal(bad.code, 3, bad.stderr);
  assert.match(bad.stderr, /bad\.yaml:5:30: streams\.sh1\.hls\.segment_duration: invalid duration "forever"/);
  const serverFile = path.join(dir, 'server.yaml');
  await writeFile(serverFile, 'server: { http: 1 }\nstreams: {}\n');
  const srv = await a.cli(['cluster', 'apply', serverFile]);
  assert.equal(srv.code, 1);
  assert.match(srv.stderr, /"server" cannot be shared/);
  const c = new Etcd3({ hosts: etcd.url });
  t.after(() => c.close());
  assert.deepEqual(await c.getAll().prefix('/flux/streams/').keys(), []);

  const file = path.join(dir, 'shared.yaml');
  await writeFile(
    file,
    [
      'templates:',
      '  small: { prefix: sh, hls: { segment_duration: 1s, window: 4 } }',
      'streams:',
      '  sh1:',
      '    inputs: [{ url: "fake://testsrc?size=160x120&fps=10" }]',
      '',
    ].join('\n'),
  );
  const ok = await a.cli(['cluster', 'apply', file, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(ok.json.added, ['sh1']);
  // every node runs it: its playlist is served by each node itself
  for (const n of [a, b]) {
    await waitFor(async () => (await http(`${n.baseUrl}/sh1/index.m3u8`)).status === 200, { timeoutMs: 30_000, message: `${n.name} serves sh1` });
    assert.ok('sh1' in (await n.supervisorPids()));
  }
  // shared streams are listed like the node's own, and cannot be removed through one node
  const list = await b.cli(['stream', 'list', '--json']);
  assert.deepEqual(list.json.streams.map((s: { name: string }) => s.name), ['mine', 'sh1']);
  await waitFor(async () => (await b.stream('sh1')).stats.alive, { timeoutMs: 20_000, message: 'sh1 alive in its stream document' });
  const rmShared = await b.cli(['stream', 'rm', 'sh1']);
  assert.equal(rmShared.code, 1);
  assert.match(rmShared.stderr, /shared stream of the cluster/);
  const stored = JSON.parse((await c.get('/flux/streams/sh1').string())!);
  assert.equal(stored.hls.segment_duration, '1s', 'templates of the apply file are applied before storing');
  assert.ok('mine' in (await b.supervisorPids()), 'node-local streams keep running');

  // same file again: unchanged; an empty set removes it everywhere
  const same = await a.cli(['cluster', 'apply', file, '--json', '--etcd', etcd.url]);
  assert.deepEqual(same.json.unchanged, ['sh1']);
  await writeFile(file, 'streams: {}\n');
  const rm = await a.cli(['cluster', 'apply', file, '--json']);
  assert.deepEqual(rm.json.removed, ['sh1']);
  for (const n of [a, b]) await waitFor(async () => !('sh1' in (await n.supervisorPids())), { timeoutMs: 20_000, message: `${n.name} stops sh1` });
  assert.ok('mine' in (await b.supervisorPids()));
});
