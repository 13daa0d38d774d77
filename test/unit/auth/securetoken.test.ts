import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { signToken, verifyToken } from '../../../src/auth/securetoken.js';
import { resolveConfig } from '../../../src/config/resolve.js';
import { signLink } from '../../../src/services/sign.js';

test('securetoken: Flussonic formula sha1(stream+ip+start+end+secret+salt), token hash-salt-end-start', () => {
  const token = signToken({ stream: 'cam', secret: 's3cr3t-key', ip: '10.0.0.1', start: 1000, end: 2000, salt: 'abc123' });
  const hash = createHash('sha1').update('cam10.0.0.1' + '1000' + '2000' + 's3cr3t-key' + 'abc123').digest('hex');
  assert.equal(token, `${hash}-abc123-2000-1000`);
  const base = { stream: 'cam', secret: 's3cr3t-key', ip: '10.0.0.1' };
  assert.deepEqual(verifyToken(token, { ...base, nowS: 1500 }), { ok: true, end: 2000 });
  assert.ok(verifyToken(token, { ...base, ip: '::ffff:10.0.0.1', nowS: 1500 }).ok, 'IPv4-mapped client address');
  assert.match((verifyToken(token, { ...base, ip: '10.0.0.2', nowS: 1500 }) as { reason: string }).reason, /bad signature/);
  assert.match((verifyToken(token, { ...base, stream: 'other', nowS: 1500 }) as { reason: string }).reason, /bad signature/);
  assert.ok(verifyToken(token, { ...base, nowS: 2029 }).ok, 'skew after end');
  assert.match((verifyToken(token, { ...base, nowS: 2031 }) as { reason: string }).reason, /expired/);
  assert.ok(verifyToken(token, { ...base, nowS: 971 }).ok, 'skew before start');
  assert.match((verifyToken(token, { ...base, nowS: 900 }) as { reason: string }).reason, /not valid before/);
  for (const bad of [undefined, '', 'x', `${hash}-abc-2000`, `${hash.slice(1)}-abc-2000-1000`, `${hash}-a$b-2000-1000`]) {
    assert.equal(verifyToken(bad, { ...base, nowS: 1500 }).ok, false, String(bad));
  }
  // unbound token (no ip) plays from anywhere
  const any = signToken({ stream: 'cam', secret: 's3cr3t-key', start: 1000, end: 2000 });
  assert.ok(verifyToken(any, { ...base, ip: '192.0.2.9', nowS: 1500 }).ok);
});

test('signLink: secure_link_key is the older name of securetoken; stream securetoken wins', () => {
  const cfg = resolveConfig({
    server: { http: 8090, host: '0.0.0.0' },
    auth: { secure_link_key: 'legacy-key-123' },
    streams: { a: { inputs: [{ url: 'publish://' }], auth: { secure_link: true } }, b: { inputs: [{ url: 'publish://' }], auth: { securetoken: 'own-secret-1' } } },
  });
  const l = signLink(cfg, { stream: 'a', ttlMs: 60_000, nowMs: 1_000_000 });
  assert.equal(l.url.startsWith('http://127.0.0.1:8090/a/index.m3u8?token='), true);
  assert.ok(verifyToken(l.token, { stream: 'a', secret: 'legacy-key-123', ip: '1.2.3.4', nowS: 1000 }).ok);
  const b = signLink(cfg, { stream: 'b', ttlMs: 60_000, nowMs: 1_000_000, baseUrl: 'https://cdn.example/' });
  assert.ok(b.url.startsWith('https://cdn.example/b/index.m3u8?token='));
  assert.ok(verifyToken(b.token, { stream: 'b', secret: 'own-secret-1', ip: '1.2.3.4', nowS: 1000 }).ok);
});
