import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestPath } from '../../../../../src/daemons/node/http/request-path.js';

test('plain paths split into decoded segments, query kept apart', () => {
  assert.deepEqual(parseRequestPath('/cams/door/index.m3u8?token=a%20b'), { ok: true, parts: ['cams', 'door', 'index.m3u8'], query: 'token=a%20b' });
  assert.deepEqual(parseRequestPath('/a%3Ab/x.ts'), { ok: true, parts: ['a:b', 'x.ts'], query: '' });
  assert.deepEqual(parseRequestPath('/a/b/'), { ok: true, parts: ['a', 'b'], query: '' }, 'one trailing slash tolerated');
  assert.deepEqual(parseRequestPath('http://host:8080/a/b.m3u8?x'), { ok: true, parts: ['a', 'b.m3u8'], query: 'x' }, 'absolute-form');
  assert.deepEqual(parseRequestPath('/'), { ok: true, parts: [], query: '' });
});

test('decodes exactly once: double-encoded dots stay literal', () => {
  const r = parseRequestPath('/s/%252e%252e/x');
  assert.deepEqual(r, { ok: true, parts: ['s', '%2e%2e', 'x'], query: '' });
});

test('refuses dot segments, encoded or not, empty segments, NUL, control characters, backslashes, bad encoding', () => {
  for (const u of [
    '/s/../x',
    '/s/./x',
    '/..',
    '/s/%2e%2e/x',
    '/s/%2E%2E%2Fx',
    '/s%2F..%2Fx',
    '/s/.%2e/x',
    '//etc/passwd',
    '/s//etc/passwd',
    '/s/x%00.ts',
    '/s/x\u0000',
    '/s/%0a',
    '/s/..%5Cx',
    '/s/a\\b',
    '/s/%zz',
    '/s/%c0%ae',
    '',
    'etc/passwd',
    'ftp://x/y',
  ]) {
    const r = parseRequestPath(u);
    assert.equal(r.ok, false, JSON.stringify(u));
    if (!r.ok) assert.equal(r.status, 400);
  }
  assert.equal(parseRequestPath(undefined).ok, false);
});
