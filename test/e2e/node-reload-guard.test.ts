/**
 * Hot reload of a file caught mid-write (issue 18), with the built binary: an emptied flux.yaml is
 * never applied (streams keep running, API auth stays on), a stream-less file is held until it has
 * stayed the same for 5 s, a reload never removes the API users, and `flux node reload [--force]`
 * re-reads on demand (--force applies an intentional empty config).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/auth/password.js';
import { http, pidAlive, publishStream, sleep, startNode, tempDir, waitFor } from '../helpers/index.js';

test('an emptied or stream-less config is held, auth never drops, node reload --force applies it', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const hash = await hashPassword('s3cret', { N: 1024 });
  const auth = { users: [{ name: 'admin', password_hash: hash }] };
  const node = await startNode(t, { dir, streams: { a: publishStream(), b: publishStream() }, extra: { auth } });
  const server = { http: node.httpPort, host: '127.0.0.1', rtmp: false, data_dir: './data', run_dir: './run' };
  const names = async () => ((await node.api('GET', '/api/v3/streams')).json as { streams: { name: string }[] }).streams.map((s) => s.name).join();
  const anonymous = () => http(`${node.baseUrl}/api/v3/config`);
  const pidA = await waitFor(async () => (await node.stream('a')).stats.supervisor?.pid, { message: 'a supervisor' });
  const original = await readFile(node.configFile, 'utf8');
  assert.equal((await anonymous()).status, 401);

  // the trial: truncate, wait 2.5 s, write it back
  await writeFile(node.configFile, '');
  await waitFor(async () => (await node.info()).reloads.failed >= 1, { timeoutMs: 15_000, message: 'the empty file to be seen' });
  assert.match((await node.info()).reloads.last_error ?? '', /config file is empty: not applied/);
  await sleep(2500);
  assert.equal(await names(), 'a,b');
  assert.ok(await pidAlive(pidA), 'stream a still running');
  assert.equal((await anonymous()).status, 401, 'API auth still on');
  const okBefore = (await node.info()).reloads.ok;
  await writeFile(node.configFile, original);
  await waitFor(async () => (await node.info()).reloads.ok > okBefore, { timeoutMs: 15_000, message: 'the restored file to be applied' });
  assert.equal(await names(), 'a,b');
  assert.equal((await node.stream('a')).stats.supervisor?.pid, pidA, 'nothing restarted');

  // `flux node reload` on an empty file: refused, exit 1, one line naming --force
  await writeFile(node.configFile, '# emptied by a template run\n');
  const refused = await node.cli(['node', 'reload']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^flux: the config file is empty: not applied.*--force/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  assert.equal(await names(), 'a,b');

  // a file without streams (but with content) is held, then applied once it stayed the same for 5 s
  await writeFile(node.configFile, stringify({ server, auth }));
  const t0 = Date.now();
  await waitFor(async () => /no stream left: held as suspect/.test((await node.info()).reloads.last_error ?? ''), { timeoutMs: 15_000, message: 'the stream-less file held' });
  assert.equal(await names(), 'a,b', 'not applied at once');
  await waitFor(async () => (await names()) === '', { timeoutMs: 20_000, message: 'the stable stream-less file applied' });
  assert.ok(Date.now() - t0 >= 4500, `applied after ${Date.now() - t0} ms`);
  await waitFor(async () => !(await pidAlive(pidA)), { message: 'a stopped' });

  // streams back, then a config without auth.users: applied, but the API users are kept
  await writeFile(node.configFile, stringify({ server, streams: { a: publishStream(), b: publishStream() } }));
  await waitFor(async () => (await names()) === 'a,b', { timeoutMs: 15_000, message: 'streams back' });
  assert.equal((await anonymous()).status, 401, 'auth kept after a reload without auth.users');
  const authed = await http(`${node.baseUrl}/api/v3/config`, { user: 'admin', password: 's3cret' });
  assert.equal(authed.status, 200);
  assert.equal((await node.info()).auth.users, 1);
  const log = await readFile(`${dir}/data/node.log`, 'utf8');
  assert.match(log, /auth\.users is gone from the config: the running node keeps its API users/);

  // an invalid file: exit 3 with file:line:col, nothing changes
  await writeFile(node.configFile, stringify({ server, streams: { a: publishStream(), b: { inputz: [] } } }));
  const invalid = await node.cli(['node', 'reload']);
  assert.equal(invalid.code, 3, invalid.stderr);
  assert.match(invalid.stderr, new RegExp(`${node.configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: unknown key "inputz"`));

  // --force applies an intentional empty config: every stream stops, auth stays on
  await writeFile(node.configFile, '');
  const forced = await node.cli(['node', 'reload', '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.json.reloaded, true);
  assert.deepEqual([...forced.json.changes.stopped].sort(), ['a', 'b']);
  assert.equal(await names(), '');
  assert.equal((await anonymous()).status, 401, 'auth still on after a forced empty config');
  const human = await node.cli(['node', 'reload', '--force']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^config reloaded \(forced\): 0 unchanged$/m);
});
