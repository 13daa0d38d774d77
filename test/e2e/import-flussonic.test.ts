/**
 * `flux import flussonic` with the built binary: a runnable Flussonic config becomes a flux.yaml
 * that `flux validate` accepts and a node runs; syntax errors and a missing file exit 3 and 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, http, REPO_ROOT, runCli, startNode, tempDir, waitFor } from '../helpers/index.js';

test('an imported Flussonic config validates and runs on a node', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const tmpl = await readFile(path.join(REPO_ROOT, 'test/fixtures/flussonic/runnable.conf.tmpl'), 'utf8');
  const conf = path.join(dir, 'flussonic.conf');
  await writeFile(conf, tmpl.replace('@HTTP@', String(httpPort)).replace('@RTMP@', String(rtmpPort)));
  const out = path.join(dir, 'imported.yaml');

  const r = await runCli(['import', 'flussonic', conf, '-o', out], { cwd: dir });
  assert.equal(r.code, 5, `edit_auth is not translated: partial (exit 5)\n${r.stderr}`);
  assert.match(r.stderr, /flussonic\.conf:4: not translated: edit_auth admin admin \(API users need a password hash/);
  assert.match(r.stderr, /wrote .*imported\.yaml: 2 streams, 1 directive not translated/);
  const again = await runCli(['import', 'flussonic', conf, '-o', out], { cwd: dir });
  assert.equal(again.code, 1, 'refuses to overwrite without --force');
  assert.match(again.stderr, /already exists; use --force/);

  const json = await runCli(['import', 'flussonic', conf, '--json'], { cwd: dir });
  assert.equal(json.code, 5);
  assert.equal(json.json.output, null);
  assert.equal(json.json.streams, 2);
  assert.deepEqual(json.json.skipped.map((s: { line: number }) => s.line), [4]);

  const v = await runCli(['validate', out], { cwd: dir });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, /valid \(2 streams\)/);

  const node = await startNode(t, { dir, yaml: await readFile(out, 'utf8'), server: { http: httpPort } });
  const s = await waitFor(async () => {
    const doc = await node.stream('demo');
    return doc.stats.alive ? doc : undefined;
  }, { timeoutMs: 30_000, message: 'imported stream demo alive' });
  assert.equal(s.title, 'Imported demo');
  await waitFor(async () => (await http(`http://127.0.0.1:${httpPort}/demo/index.m3u8`)).status === 200, { timeoutMs: 30_000, message: 'demo playlist' });
  // the publish point falls back to its test pattern (priority 2) while nobody publishes
  await waitFor(async () => (await http(`http://127.0.0.1:${httpPort}/live/studio/index.m3u8`)).status === 200, { timeoutMs: 40_000, message: 'live/studio playlist' });
});

test('import: syntax error with file:line:col (exit 3), missing file (exit 2), all translated (exit 0)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'bad.conf'), 'http 80;\nstream a {\n  input udp://239.0.0.1:1234\n  dvr /x 1d;\n}\n');
  const bad = await runCli(['import', 'flussonic', 'bad.conf', '-o', 'out.yaml'], { cwd: dir });
  assert.equal(bad.code, 3);
  assert.equal(bad.stderr.trim(), 'bad.conf:3:3: directive "input" is not terminated by ";" (next line starts "dvr")');
  const missing = await runCli(['import', 'flussonic', 'nope.conf'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.conf: no such file/);
  await writeFile(path.join(dir, 'good.conf'), 'stream a { input udp://239.0.0.1:1234; }\n');
  const good = await runCli(['import', 'flussonic', 'good.conf'], { cwd: dir });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^streams:\n {2}# good\.conf:1\n {2}a:\n {4}inputs:\n {6}- url: udp:\/\/239\.0\.0\.1:1234$/m);
});
