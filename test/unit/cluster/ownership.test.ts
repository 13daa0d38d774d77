import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOwnership, type PeerView } from '../../../src/cluster/ownership.js';
import { pickBalanced } from '../../../src/cluster/balancer.js';

const peer = (name: string, ingest: string[] = [], member_for_ms = 60_000): PeerView => ({ name, ingest, member_for_ms });

test('unowned streams spread evenly; every node computes the same plan', () => {
  const streams = Array.from({ length: 9 }, (_, i) => ({ name: `s${i}`, shared: true }));
  const peers = [peer('a'), peer('b'), peer('c')];
  const taken = ['a', 'b', 'c'].map((me) => planOwnership(me, streams, peers, {}, 10_000).take);
  assert.deepEqual(taken.map((t) => t.length), [3, 3, 3]);
  assert.equal(new Set(taken.flat()).size, 9, 'no stream planned twice');
});

test('existing captures count: a loaded node gets nothing new', () => {
  const streams = [{ name: 'x', shared: true }, { name: 'y', shared: true }];
  const owners = { o1: 'a', o2: 'a' };
  assert.deepEqual(planOwnership('a', streams, [peer('a'), peer('b')], owners, 0).take, []);
  assert.deepEqual(planOwnership('b', streams, [peer('a'), peer('b')], owners, 0).take.sort(), ['x', 'y']);
});

test('capture_at: preferred when alive; the owner hands back only after return_after', () => {
  const s = [{ name: 'p', captureAt: 'a', shared: true }];
  assert.deepEqual(planOwnership('a', s, [peer('a'), peer('b')], {}, 5000).take, ['p']);
  assert.deepEqual(planOwnership('b', s, [peer('a'), peer('b')], {}, 5000).take, []);
  assert.deepEqual(planOwnership('b', s, [peer('b'), peer('c')], {}, 5000).take.length + planOwnership('c', s, [peer('b'), peer('c')], {}, 5000).take.length, 1, 'preferred node absent: someone else');
  assert.deepEqual(planOwnership('b', s, [peer('a', [], 1000), peer('b')], { p: 'b' }, 5000).release, [], 'a too fresh');
  assert.deepEqual(planOwnership('b', s, [peer('a', [], 6000), peer('b')], { p: 'b' }, 5000).release, ['p']);
  assert.deepEqual(planOwnership('c', s, [peer('a', [], 6000), peer('b'), peer('c')], { p: 'b' }, 5000).release, [], 'only the owner releases');
});

test('a node-local ingest stream only goes to nodes that list it', () => {
  const s = [{ name: 'loc' }];
  assert.deepEqual(planOwnership('a', s, [peer('a'), peer('b', ['loc'])], {}, 0).take, []);
  assert.deepEqual(planOwnership('b', s, [peer('a'), peer('b', ['loc'])], {}, 0).take, ['loc']);
});

test('balancer: least loaded by mode, ties at random, usage needs max_bitrate', () => {
  const nodes = [
    { name: 'a', address: 'http://a', clients: 5, output_bitrate: 1_000, max_bitrate: 10_000 },
    { name: 'b', address: 'http://b', clients: 2, output_bitrate: 9_000, max_bitrate: 100_000 },
    { name: 'c', address: 'http://c', clients: 2, output_bitrate: 5_000, max_bitrate: null },
  ];
  assert.equal(pickBalanced(nodes, 'bitrate')!.name, 'a');
  assert.equal(pickBalanced(nodes, 'usage')!.name, 'b');
  assert.equal(pickBalanced(nodes, 'clients', () => 0)!.name, 'b');
  assert.equal(pickBalanced(nodes, 'clients', () => 0.99)!.name, 'c');
  assert.equal(pickBalanced([], 'clients'), undefined);
});

test('peer:// inputs: a node name is required', async () => {
  const { validateText } = await import('../../../src/config/load.js');
  const ok = validateText('streams:\n  a:\n    inputs:\n      - url: peer://origin\n      - url: peer://origin/cams/door\n', 'x.yaml');
  assert.deepEqual(ok.issues, []);
  const bad = validateText('streams:\n  a:\n    inputs:\n      - url: peer://\n', 'x.yaml');
  assert.deepEqual(bad.issues.map((i) => `${i.line}:${i.col}: ${i.message}`), ['4:14: peer:// input "peer://": expected peer://NODE or peer://NODE/STREAM (a cluster node\'s stream)']);
});
