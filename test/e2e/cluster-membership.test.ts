/**
 * Cluster membership against a real etcd: three nodes see each other with their heartbeat documents
 * (socket and HTTP API, `flux cluster status`), a killed node leaves the list within lease_ttl, a
 * second node with a taken name is refused, and a node survives etcd going away (degraded, then ok).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { http, sleep, startNode, tempDir, waitFor } from '../helpers/index.js';
import { startClusterNode, startEtcdCluster, waitPeers } from './cluster-support.js';

test('three nodes join, list each other, and a killed node leaves within lease_ttl', { timeout: 120_000 }, async (t) => {
  const { etcd } = await startEtcdCluster(t);
  const a = await startClusterNode(t, etcd, 'a');
  const b = await startClusterNode(t, etcd, 'b');
  const c = await startClusterNode(t, etcd, 'c');
  for (const n of [a, b, c]) await waitPeers(n, ['a', 'b', 'c']);

  const st = await a.clusterStatus();
  const doc = st.peers.find((p: { name: string }) => p.name === 'b');
  assert.equal(doc.address, b.baseUrl);
  for (const k of ['role', 'version', 'uptime', 'cpu', 'streams_captured', 'clients', 'output_bitrate', 'last_heartbeat']) assert.ok(k in doc, `heartbeat has ${k}`);
  assert.ok(Math.abs(doc.last_heartbeat - Date.now()) < 5000);

  // the same documents over HTTP (loopback, no users) and through the CLI
  const peers = await http(`${a.baseUrl}/api/v3/cluster/peers`);
  assert.equal(peers.status, 200);
  assert.deepEqual(peers.json.peers.map((p: { name: string }) => p.name), ['a', 'b', 'c']);
  const cli = await a.cli(['cluster', 'status', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.json.cluster, 'ok');
  assert.deepEqual(cli.json.peers.map((p: { name: string }) => p.name), ['a', 'b', 'c']);
  const human = await a.cli(['cluster', 'status']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /NODE\s+ROLE\s+ADDRESS/);
  assert.match(human.stdout, new RegExp(`^c\\s+edge\\s+${c.baseUrl.replace(/\./g, '\\.')}`, 'm'));
  assert.equal((await a.info()).cluster, 'ok');
  const ns = await a.cli(['node', 'status']);
  assert.match(ns.stdout, /^cluster\s+ok$/m);

  // kill -9: the lease (3 s) runs out and c leaves everyone's list
  const killedAt = Date.now();
  c.kill();
  await waitPeers(a, ['a', 'b'], 10_000);
  assert.ok(Date.now() - killedAt < 3000 + 1500, `left after ${Date.now() - killedAt} ms (lease_ttl 3 s)`);
});

test('a second node with a taken name is refused; a node outside a cluster answers 404', { timeout: 60_000 }, async (t) => {
  const { etcd } = await startEtcdCluster(t);
  const a = await startClusterNode(t, etcd, 'dup');
  await waitPeers(a, ['dup']);
  await assert.rejects(startClusterNode(t, etcd, 'dup'), /node name "dup" is already used by another node/);
  await waitPeers(a, ['dup']);

  const solo = await startNode(t, { dir: await tempDir(t) });
  const r = await solo.api('GET', '/api/v3/cluster/status');
  assert.equal(r.status, 404);
  const cli = await solo.cli(['cluster', 'status']);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /not in a cluster/);
});

test('etcd away: the node reports degraded, keeps serving, and rejoins when etcd returns', { timeout: 90_000 }, async (t) => {
  const { etcd } = await startEtcdCluster(t);
  const a = await startClusterNode(t, etcd, 'solo');
  await waitPeers(a, ['solo']);
  await etcd.stop();
  await waitFor(async () => (await a.clusterStatus()).cluster === 'degraded', { timeoutMs: 10_000, message: 'degraded' });
  assert.equal((await a.info()).cluster, 'degraded');
  await sleep(4000); // past lease_ttl: the node keeps running
  assert.equal((await http(`${a.baseUrl}/api/v3/node`)).status, 200);
  await etcd.start();
  await waitPeers(a, ['solo'], 20_000);
});

test('key_prefix and etcd username/password: keys live under the prefix; a wrong password leaves the node degraded', { timeout: 90_000 }, async (t) => {
  const { etcd } = await startEtcdCluster(t);
  const admin = new Etcd3({ hosts: etcd.url });
  await admin.role('root').create().catch(() => undefined);
  await admin.user('root').create('root-pass-1');
  await admin.user('root').addRole('root');
  await admin.auth.authEnable();
  admin.close();

  const a = await startClusterNode(t, etcd, 'pa', { cluster: { key_prefix: '/team1/', username: 'root', password: 'root-pass-1' } });
  await waitPeers(a, ['pa']);
  const client = new Etcd3({ hosts: etcd.url, auth: { username: 'root', password: 'root-pass-1' } });
  t.after(() => client.close());
  assert.deepEqual(await client.getAll().prefix('/team1/nodes/').keys(), ['/team1/nodes/pa']);
  assert.deepEqual(await client.getAll().prefix('/flux/').keys(), []);

  const b = await startClusterNode(t, etcd, 'pb', { cluster: { key_prefix: '/team1/', username: 'root', password: 'wrong-pass' } });
  await waitFor(async () => (await b.clusterStatus()).cluster === 'degraded', { timeoutMs: 10_000, message: 'pb degraded' });
  assert.match((await b.clusterStatus()).error, /auth|password|permission/i);
  await waitPeers(a, ['pa']);
});
