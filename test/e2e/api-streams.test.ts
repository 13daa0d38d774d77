/**
 * Control API round trips on a real node: the socket API and /api/v3 on the HTTP port (Basic auth),
 * PUT/DELETE persisted to flux.yaml (comments kept), 400 with positions, 404, `..` refused,
 * config validation, and the stream commands through the API and offline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { hashPassword } from '../../src/auth/password.js';
import { http, pidAlive, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';

test('control API: streams CRUD, validation, auth; stream commands', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const [adminHash, readerHash] = await Promise.all([hashPassword('s3cret', { N: 1024 }), hashPassword('viewer', { N: 1024 })]);
  const node = await startNode(t, {
    dir,
    streams: { news: { ...publishStream({ title: 'News' }), auth: { publish_password: 'pub-secret-1' } } },
    extra: { auth: { users: [{ name: 'admin', password_hash: adminHash }, { name: 'viewer', password_hash: readerHash, role: 'read' }] } },
  });

  // --- list shape
  const list = await node.api('GET', '/api/v3/streams');
  assert.equal(list.status, 200);
  const body = list.json as { streams: { name: string; title: string; inputs: { url: string }[]; stats: Record<string, unknown> }[]; estimated_count: number };
  assert.equal(body.estimated_count, 1);
  assert.equal(body.streams[0]!.name, 'news');
  assert.equal(body.streams[0]!.title, 'News');
  assert.deepEqual(body.streams[0]!.inputs, [{ url: 'publish://' }]);
  for (const k of ['alive', 'status', 'bitrate', 'input_bitrate', 'retry_count', 'lifetime', 'media_info', 'source_error', 'inputs', 'push', 'events']) {
    assert.ok(k in body.streams[0]!.stats, `stats.${k}`);
  }

  // --- PUT creates (name with a slash), persisted with the file's comments kept, and started
  const put = await node.api('PUT', '/api/v3/streams/cams/door', { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s', window: 3 } });
  assert.equal(put.status, 200, put.text);
  assert.equal((put.json as { name: string }).name, 'cams/door');
  let yaml = await readFile(node.configFile, 'utf8');
  assert.match(yaml, /^# written by test\/helpers/);
  assert.match(yaml, /cams\/door:/);
  const door = await waitFor(async () => {
    const s = await node.stream('cams/door');
    return s.stats.supervisor?.pid ? s : undefined;
  }, { message: 'cams/door supervisor' });
  assert.equal((door.hls as { window: number }).window, 3);
  assert.ok(await pidAlive(door.stats.supervisor!.pid!));

  // GET → PUT round trip (name and stats are ignored in a PUT body)
  const again = await node.api('PUT', '/api/v3/streams/cams/door', { ...door, title: 'Door' });
  assert.equal(again.status, 200, again.text);
  assert.equal((await node.stream('cams/door')).title, 'Door');

  // --- 400 with positions inside the request body
  const badText = '{\n  "inputs": [{"url": "bogus://x"}],\n  "hls": {"window": 1},\n  "colour": "red"\n}';
  const bad = await node.api('PUT', '/api/v3/streams/x', badText);
  assert.equal(bad.status, 400);
  const errs = (bad.json as { errors: { line: number; col: number; path: string; error: string }[] }).errors;
  const byPath = Object.fromEntries(errs.map((e) => [e.path, e]));
  assert.ok(byPath['colour'] && byPath['colour'].line === 4 && /unknown key "colour"/.test(byPath['colour'].error), JSON.stringify(errs));
  assert.equal(byPath['hls.window']?.line, 3, JSON.stringify(errs));
  assert.equal(byPath['hls.window']?.col, 21);
  assert.doesNotMatch(await readFile(node.configFile, 'utf8'), /^\s+x:/m, 'nothing persisted');
  const scheme = await node.api('PUT', '/api/v3/streams/x', '{"inputs": [{"url": "bogus://x"}]}');
  assert.equal(scheme.status, 400);
  assert.match((scheme.json as { errors: { error: string }[] }).errors[0]!.error, /unsupported input URL scheme "bogus"/);
  assert.equal((scheme.json as { errors: { line: number; col: number }[] }).errors[0]!.col, 21);
  const syntax = await node.api('PUT', '/api/v3/streams/x', '{"inputs": [}');
  assert.equal(syntax.status, 400);
  assert.equal((syntax.json as { errors: { line: number }[] }).errors[0]!.line, 1);

  // --- 404 and unsafe names
  assert.equal((await node.api('GET', '/api/v3/streams/nope')).status, 404);
  assert.equal((await node.api('DELETE', '/api/v3/streams/nope')).status, 404);
  assert.equal((await node.api('POST', '/api/v3/streams/nope/restart')).status, 404);
  for (const p of ['/api/v3/streams/../news', '/api/v3/streams/cams/%2e%2e/news', '/api/v3/streams/a//b']) {
    assert.equal((await node.api('GET', p)).status, 400, p);
  }
  assert.equal((await node.api('PUT', '/api/v3/streams/%2E%2E', { inputs: [{ url: 'publish://' }] })).status, 400);
  // names whose segments start with "." (hidden directories, the writers' temporary files)
  for (const p of ['/api/v3/streams/.hidden', '/api/v3/streams/cams/.door', '/api/v3/streams/%2Ehidden']) {
    const r = await node.api('PUT', p, { inputs: [{ url: 'publish://' }] });
    assert.equal(r.status, 400, `${p}: ${r.text}`);
    assert.match(String((r.json as { error?: string }).error), /starts with "\."/, p);
  }
  assert.doesNotMatch(await readFile(node.configFile, 'utf8'), /hidden|\.door/, 'nothing persisted');

  // --- restart and input monitor
  const restart = await node.api('POST', '/api/v3/streams/news/restart');
  assert.equal(restart.status, 200, restart.text);
  const mon = await node.api('GET', '/api/v3/streams/news/status');
  assert.equal(mon.status, 200);
  assert.ok(Array.isArray((mon.json as { inputs: unknown[] }).inputs));

  // --- config validation without applying
  const v1 = await node.api('POST', '/api/v3/config', 'streams:\n  a:\n    inputz: []\n');
  assert.equal(v1.status, 200);
  assert.equal((v1.json as { valid: boolean }).valid, false);
  const v1errs = (v1.json as { errors: { line: number; col: number; path: string; error: string }[] }).errors;
  assert.ok(v1errs.some((e) => e.line === 3 && e.col === 5 && /unknown key "inputz"/.test(e.error)), JSON.stringify(v1errs));
  const v2 = await node.api('POST', '/api/v3/config', 'streams:\n  a:\n    inputs: [{url: "publish://"}]\n');
  assert.deepEqual(v2.json, { valid: true, errors: [] });

  // --- HTTP API with Basic auth
  const url = `${node.baseUrl}/api/v3/streams`;
  const anon = await http(url);
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic/);
  assert.equal((await http(url, { user: 'admin', password: 'wrong' })).status, 401);
  assert.equal((await http(url, { user: 'ghost', password: 's3cret' })).status, 401);
  const ok = await http(url, { user: 'admin', password: 's3cret' });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.estimated_count, 2);
  assert.equal((await http(`${node.baseUrl}/api/v3/streams/cams/door`, { user: 'viewer', password: 'viewer' })).status, 200);
  assert.equal((await http(`${node.baseUrl}/api/v3/streams/cams/door`, { method: 'DELETE', user: 'viewer', password: 'viewer' })).status, 403);
  // the read role sees the config and streams without their secrets; admins see them as written
  const asViewer = await http(`${node.baseUrl}/api/v3/config`, { user: 'viewer', password: 'viewer' });
  assert.equal(asViewer.status, 200);
  assert.doesNotMatch(asViewer.text, /pub-secret-1|\$scrypt|scrypt\$/, 'no secret reaches a read-only user');
  assert.match(asViewer.text, /"publish_password": "<redacted>"/);
  assert.match(asViewer.text, /"password_hash": "<redacted>"/);
  assert.doesNotMatch((await http(`${node.baseUrl}/api/v3/streams/news`, { user: 'viewer', password: 'viewer' })).text, /pub-secret-1/);
  assert.match((await http(`${node.baseUrl}/api/v3/config`, { user: 'admin', password: 's3cret' })).text, /pub-secret-1/);

  // --- DELETE: persisted, supervisor stopped
  const del = await http(`${node.baseUrl}/api/v3/streams/cams/door`, { method: 'DELETE', user: 'admin', password: 's3cret' });
  assert.equal(del.status, 204);
  yaml = await readFile(node.configFile, 'utf8');
  assert.doesNotMatch(yaml, /cams\/door/);
  assert.equal(await pidAlive(door.stats.supervisor!.pid!), false);

  // --- stream commands through the node
  const ls = await node.cli(['stream', 'list', '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(Object.keys(ls.json).sort(), ['estimated_count', 'streams']);
  assert.deepEqual(ls.json.streams.map((s: { name: string }) => s.name), ['news']);
  const add = await node.cli(['stream', 'add', 'studio/1', '--input', 'publish://', '--backup', 'fake://testsrc?size=160x120&fps=5', '--segment-duration', '1s', '--window', '4', '--json']);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.json.applied, true);
  assert.deepEqual(add.json.inputs, [{ url: 'publish://' }, { url: 'fake://testsrc?size=160x120&fps=5', backup: true }]);
  const dup = await node.cli(['stream', 'add', 'studio/1', '--input', 'publish://']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);
  const invalid = await node.cli(['stream', 'add', 'y', '--input', 'bogus://x']);
  assert.equal(invalid.code, 3, invalid.stderr);
  assert.match(invalid.stderr, /unsupported input URL scheme/);
  const show = await node.cli(['stream', 'show', 'studio/1']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /INPUTS/);
  const table = await node.cli(['stream', 'list']);
  assert.match(table.stdout, /^NAME\s+STATUS\s+INPUT\s+BITRATE\s+UPTIME\s+RESTARTS/);
  assert.match(table.stdout, /studio\/1/);
  assert.equal((await node.cli(['stream', 'restart', 'nope'])).code, 1);
  const status = await node.cli(['status', '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json.node.pid, node.pid);
  assert.equal(status.json.streams.estimated_count, 2);
  const rm = await node.cli(['stream', 'rm', 'studio/1']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal((await node.cli(['stream', 'rm', 'studio/1'])).code, 1);

  // --- offline: no node → the file is edited, restart needs a node
  await node.stop();
  const offAdd = await node.cli(['stream', 'add', 'later', '--input', 'publish://']);
  assert.equal(offAdd.code, 0, offAdd.stderr);
  assert.match(offAdd.stderr, /no node running: added "later"/);
  assert.match(await readFile(node.configFile, 'utf8'), /later:/);
  const offList = await node.cli(['stream', 'list', '--json']);
  assert.deepEqual(offList.json.streams.map((s: { name: string; stats: { status: string } }) => [s.name, s.stats.status]), [['later', 'stopped'], ['news', 'stopped']]);
  const offRestart = await node.cli(['stream', 'restart', 'later']);
  assert.equal(offRestart.code, 4);
  const offRm = await node.cli(['stream', 'rm', 'later']);
  assert.equal(offRm.code, 0);
  assert.doesNotMatch(await readFile(node.configFile, 'utf8'), /later:/);
});
