import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BasicAuthenticator, hashPassword, isLoopback, parseBasicAuth, parsePasswordHash, verifyPassword } from '../../../src/auth/password.js';

test('scrypt hashes verify the right password only', async () => {
  const h = await hashPassword('pässword', { N: 1024 });
  assert.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword('pässword', h), true);
  assert.equal(await verifyPassword('password', h), false);
  assert.equal(await verifyPassword('', h), false);
  assert.notEqual(await hashPassword('x', { N: 1024 }), await hashPassword('x', { N: 1024 }), 'salted');
});

test('malformed hashes never match and never throw', async () => {
  for (const bad of ['', 'scrypt', 'bcrypt$1$2$3$4$5', 'scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', 'scrypt$1024$8$1$$', 'scrypt$1024$0$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', 'scrypt$4194304$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==']) {
    assert.equal(parsePasswordHash(bad), undefined, bad);
    assert.equal(await verifyPassword('x', bad), false, bad);
  }
});

test('Basic header parsing', () => {
  const b = (s: string) => 'Basic ' + Buffer.from(s).toString('base64');
  assert.deepEqual(parseBasicAuth(b('admin:se:cret')), { user: 'admin', password: 'se:cret' });
  assert.deepEqual(parseBasicAuth(b('u:')), { user: 'u', password: '' });
  assert.equal(parseBasicAuth(b('nocolon')), undefined);
  assert.equal(parseBasicAuth('Bearer abc'), undefined);
  assert.equal(parseBasicAuth(undefined), undefined);
});

test('authenticator: users, roles, cache cleared on user change', async () => {
  const auth = new BasicAuthenticator([{ name: 'admin', passwordHash: await hashPassword('pw', { N: 1024 }), role: 'admin' }]);
  const b = (s: string) => 'Basic ' + Buffer.from(s).toString('base64');
  assert.equal(auth.enabled, true);
  assert.equal((await auth.authenticate(b('admin:pw')))?.name, 'admin');
  assert.equal((await auth.authenticate(b('admin:pw')))?.name, 'admin', 'cached');
  assert.equal(await auth.authenticate(b('admin:nope')), undefined);
  assert.equal(await auth.authenticate(b('ghost:pw')), undefined);
  auth.setUsers([]);
  assert.equal(auth.enabled, false);
  assert.equal(await auth.authenticate(b('admin:pw')), undefined, 'removed user no longer authenticates');
});

test('loopback addresses', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', '', undefined, 'fe80::1']) assert.equal(isLoopback(a), false, String(a));
});
