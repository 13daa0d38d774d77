/**
 * Cluster ingest on real nodes and a real etcd (lease_ttl 3 s): a cluster_ingest stream runs on
 * exactly one node, others answer its playback URLs with a 302 to the owner; kill -9 of the owner's
 * machine (agent and captures) → another node serves new segments within lease_ttl + 3 s; the
 * capture_at node takes it back once after return_after; an agent-only crash keeps the stream where
 * it is; etcd away for 30 s → nothing doubles, and the cluster recovers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { killLeftovers, pidAlive, sleep, waitFor } from '../helpers/index.js';
import { startClusterNode, startEtcdCluster, waitPeers, type ClusterNode } from './cluster-support.js';

const STREAM = (extra: Record<string, unknown> = {}) => ({ inputs: [{ url: 'fake://testsrc?size=160x120&fps=10' }], hls: { segment_duration: '1s', window: 4 }, cluster_ingest: true, ...extra });

async function capturing(nodes: ClusterNode[], name: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of nodes) {
    const pid = (await n.supervisorPids())[name];
    if (pid && (await pidAlive(pid))) out.push(n.name);
  }
  return out;
}

/** a segment newer than `since` (ms) listed in the node's live playlist */
async function freshSegment(n: ClusterNode, name: string, since: number): Promise<boolean> {
  const r = await fetch(`${n.baseUrl}/${name}/tracks-v1a1/index.m3u8`, { redirect: 'manual' }).catch(() => undefined);
  if (!r || r.status !== 200) return false;
  const starts = [...(await r.text()).matchAll(/(\d{13})-\d+\.ts/g)].map((m) => Number(m[1]));
  return starts.some((s) => s >= since);
}

async function applyShared(dir: string, a: ClusterNode, streams: Record<string, unknown>): Promise<void> {
  const file = path.join(dir, 'shared.json');
  await writeFile(file, JSON.stringify({ streams }));
  const r = await a.cli(['cluster', 'apply', file]);
  assert.equal(r.code, 0, r.stderr);
}

test('one owner; 302 elsewhere; kill -9 of the owner → takeover within lease_ttl + 3 s; agent-only crash keeps it', { timeout: 180_000 }, async (t) => {
  const { etcd, dir } = await startEtcdCluster(t);
  const nodes = [await startClusterNode(t, etcd, 'a'), await startClusterNode(t, etcd, 'b'), await startClusterNode(t, etcd, 'c')];
  for (const n of nodes) await waitPeers(n, ['a', 'b', 'c']);
  await applyShared(dir, nodes[0]!, { live: STREAM() });

  const owners = await waitFor(async () => {
    const c = await capturing(nodes, 'live');
    return c.length === 1 && (await freshSegment(nodes.find((n) => n.name === c[0])!, 'live', 0)) ? c : undefined;
  }, { timeoutMs: 30_000, message: 'one node capturing live' });
  const owner = nodes.find((n) => n.name === owners[0])!;
  const others = nodes.filter((n) => n !== owner);
  await sleep(1500);
  assert.deepEqual(await capturing(nodes, 'live'), [owner.name], 'exactly one capture');

  // any other node redirects playback to the owner
  for (const n of others) {
    const r = await fetch(`${n.baseUrl}/live/index.m3u8?x=1`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), `${owner.baseUrl}/live/index.m3u8?x=1`);
  }
  const viaOther = await fetch(`${others[0]!.baseUrl}/live/index.m3u8`);
  assert.equal(viaOther.status, 200, 'a player following the redirect gets the playlist');

  // the agent alone dies, for longer than lease_ttl: its supervisor keeps capturing and keeps the
  // stream (it keeps the capture lease alive); the restarted agent re-adopts it
  const supPid = (await owner.supervisorPids()).live!;
  owner.kill();
  await sleep(5000);
  assert.deepEqual(await capturing(nodes, 'live'), [owner.name], 'no takeover while the capture runs');
  await owner.restart();
  await sleep(2000);
  assert.deepEqual(await capturing(nodes, 'live'), [owner.name]);
  assert.equal((await owner.supervisorPids()).live, supPid, 'same supervisor, re-adopted');
  assert.equal((await owner.clusterStatus()).owners.live, owner.name);

  // the owner's machine dies: agent and captures
  const killedAt = Date.now();
  owner.kill();
  await killLeftovers(owner.runDir);
  const next = await waitFor(
    async () => {
      for (const n of others) if (await freshSegment(n, 'live', killedAt)) return n;
      return undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, message: 'another node serving new segments' },
  );
  const took = Date.now() - killedAt;
  t.diagnostic(`takeover: new segments on ${next.name} ${took} ms after the kill (killed at ${killedAt})`);
  assert.ok(took <= 3000 + 3000, `new segments after ${took} ms (lease_ttl 3 s + 3 s)`);
  assert.deepEqual(await capturing(others, 'live'), [next.name]);
  // playback through the other survivor's URL continues (redirect to the new owner)
  const third = others.find((n) => n !== next)!;
  await waitFor(async () => (await fetch(`${third.baseUrl}/live/index.m3u8`, { redirect: 'manual' })).headers.get('location')?.startsWith(next.baseUrl), { timeoutMs: 5000, message: 'redirect to the new owner' });
  assert.equal((await fetch(`${third.baseUrl}/live/tracks-v1a1/index.m3u8`)).status, 200);

  // the stream leaves the shared set: the capture stops and its ownership goes
  await applyShared(dir, next, {});
  await waitFor(async () => (await capturing(others, 'live')).length === 0 && Object.keys((await next.clusterStatus()).owners).length === 0, { timeoutMs: 15_000, message: 'capture stopped, owner key gone' });
});

test('capture_at: the preferred node takes its stream back once, after return_after', { timeout: 180_000 }, async (t) => {
  const { etcd, dir } = await startEtcdCluster(t);
  const nodes = [await startClusterNode(t, etcd, 'a'), await startClusterNode(t, etcd, 'b'), await startClusterNode(t, etcd, 'c')];
  for (const n of nodes) await waitPeers(n, ['a', 'b', 'c']);
  await applyShared(dir, nodes[0]!, { pref: STREAM({ capture_at: 'a' }) });
  const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  await waitFor(async () => (await capturing(nodes, 'pref')).join() === 'a', { timeoutMs: 30_000, message: 'a captures pref' });

  const client = new Etcd3({ hosts: etcd.url });
  t.after(() => client.close());
  const history: string[] = [];
  const watcher = await client.watch().key('/flux/owners/pref').create();
  watcher.on('put', (kv) => history.push(kv.value.toString()));
  watcher.on('delete', () => history.push('-'));
  t.after(() => watcher.cancel());

  a.kill();
  await killLeftovers(a.runDir);
  await waitFor(async () => (await capturing([b, c], 'pref')).length === 1, { timeoutMs: 15_000, message: 'b or c takes pref' });
  const interim = (await capturing([b, c], 'pref'))[0]!;
  await a.restart();
  await waitFor(async () => (await capturing(nodes, 'pref')).join() === 'a', { timeoutMs: 20_000, message: 'a takes pref back' });
  await sleep(5000);
  assert.deepEqual(await capturing(nodes, 'pref'), ['a'], 'stays on a');
  const owners = history.filter((h) => h !== '-');
  // a's old key expired (delete), the interim node took it, handed it back (delete), a took it: once
  assert.deepEqual(owners.filter((o, i) => o !== owners[i - 1]), [interim, 'a'], `owner history ${history.join(' ')}`);
});

test('etcd away for 30 s: owners keep capturing, nothing doubles, the cluster recovers', { timeout: 180_000 }, async (t) => {
  const { etcd, dir } = await startEtcdCluster(t);
  const nodes = [await startClusterNode(t, etcd, 'a'), await startClusterNode(t, etcd, 'b'), await startClusterNode(t, etcd, 'c')];
  for (const n of nodes) await waitPeers(n, ['a', 'b', 'c']);
  await applyShared(dir, nodes[0]!, { s1: STREAM(), s2: STREAM(), s3: STREAM() });
  const names = ['s1', 's2', 's3'];
  const where = async () => Object.fromEntries(await Promise.all(names.map(async (s) => [s, await capturing(nodes, s)] as const)));
  const before = await waitFor(async () => {
    const w = await where();
    return Object.values(w).every((l) => l.length === 1) ? w : undefined;
  }, { timeoutMs: 40_000, message: 'each stream captured once' });
  // spread evenly: three streams on three nodes
  assert.equal(new Set(Object.values(before).map((l) => l[0])).size, 3, `spread: ${JSON.stringify(before)}`);

  await etcd.stop();
  const until = Date.now() + 30_000;
  let checks = 0;
  while (Date.now() < until) {
    assert.deepEqual(await where(), before, 'nothing started or stopped while etcd is away');
    checks++;
    await sleep(1000);
  }
  assert.ok(checks > 10);
  for (const n of nodes) assert.equal((await n.clusterStatus()).cluster, 'degraded');

  await etcd.start();
  for (const n of nodes) await waitPeers(n, ['a', 'b', 'c'], 30_000);
  await sleep(3000);
  assert.deepEqual(await where(), before, 'after recovery every stream is still captured once, where it was');
  for (const n of nodes) assert.deepEqual((await n.clusterStatus()).owners, Object.fromEntries(names.map((s) => [s, before[s]![0]])));
});
