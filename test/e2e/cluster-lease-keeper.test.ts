/**
 * The capture-lease keeper (etcd's HTTP gateway, no gRPC) against a real etcd: it keeps a lease
 * alive past its TTL, the lease expires once it stops, it reports a revoked lease as lost, and it
 * survives etcd going away for a moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { sleep, waitFor } from '../helpers/index.js';
import { LeaseKeeper } from '../../src/cluster/lease-keeper.js';
import { startEtcdCluster } from './cluster-support.js';

test('lease keeper: keeps alive, lets expire when stopped, reports a revoked lease', { timeout: 60_000 }, async (t) => {
  const { etcd } = await startEtcdCluster(t);
  const c = new Etcd3({ hosts: etcd.url });
  t.after(() => c.close());
  const grant = async () => String((await c.leaseClient.leaseGrant({ TTL: 2 })).ID);

  const id = await grant();
  await c.put('/k/held').value('x').lease(id);
  const keeper = new LeaseKeeper({ etcd: ['http://127.0.0.1:1', etcd.url], id, ttlMs: 2000 }).start();
  t.after(() => keeper.stop());
  await sleep(4500); // more than twice the TTL; the first endpoint is dead and is skipped
  assert.equal(await c.get('/k/held').string(), 'x', 'kept alive');
  keeper.stop();
  await waitFor(async () => (await c.get('/k/held').string()) === null, { timeoutMs: 5000, message: 'expired after stop' });

  const id2 = await grant();
  let lost = false;
  const k2 = new LeaseKeeper({ etcd: [etcd.url], id: id2, ttlMs: 2000 }, () => (lost = true)).start();
  t.after(() => k2.stop());
  await waitFor(() => k2.lastOkAt > 0, { timeoutMs: 3000, message: 'first keepalive' });
  await c.leaseClient.leaseRevoke({ ID: id2 });
  await waitFor(() => lost, { timeoutMs: 3000, message: 'lost reported' });
  assert.equal(k2.lost, true);

  // etcd restarts: the keeper carries on and the lease survives (etcd renews leases on restart)
  const id3 = await grant();
  await c.put('/k/restart').value('y').lease(id3);
  const k3 = new LeaseKeeper({ etcd: [etcd.url], id: id3, ttlMs: 2000 }).start();
  t.after(() => k3.stop());
  await etcd.stop();
  await sleep(1000);
  await etcd.start();
  await sleep(3000);
  assert.equal(k3.lost, false);
  assert.equal(await c.get('/k/restart').string(), 'y');
  k3.stop();

  // etcd with authentication: the keeper logs in (etcd.username/password) and keeps the lease
  await c.role('root').create().catch(() => undefined);
  await c.user('root').create('root-pass-1');
  await c.user('root').addRole('root');
  const id4 = await grant();
  await c.auth.authEnable();
  const admin = new Etcd3({ hosts: etcd.url, auth: { username: 'root', password: 'root-pass-1' } });
  t.after(() => admin.close());
  await admin.put('/k/auth').value('z').lease(id4);
  const k4 = new LeaseKeeper({ etcd: [etcd.url], id: id4, ttlMs: 2000, username: 'root', password: 'root-pass-1' }).start();
  t.after(() => k4.stop());
  await sleep(4500);
  assert.equal(k4.lastError, null);
  assert.equal(await admin.get('/k/auth').string(), 'z');
});
