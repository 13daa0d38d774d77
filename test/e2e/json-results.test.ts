/**
 * Every command's `--json` result matches its committed JSON Schema (schemas/, generated from
 * src/protocol/results.ts): real output of the built binary, against a real node, a real archive and
 * a real media file. A field a command prints but the schema does not name fails too (the parse
 * result must equal the output), so the schemas stay the whole contract. NDJSON results (`flux events`,
 * `flux top`) are checked line by line. Cluster commands run against a real etcd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NDJSON_RESULTS, RESULTS, resultJsonSchema } from '../../src/protocol/results.js';
import { DvrRecorder } from '../../src/dvr/recorder.js';
import { REPO_ROOT, fakeStream, publishStream, runCli, startNode, tempDir, waitFor, type CliResult } from '../helpers/index.js';
import { startEtcdCluster } from './cluster-support.js';
import { FFMPEG, makeArchive, run } from '../helpers/dvr-fixture.js';

type Id = keyof typeof RESULTS;
/** cameras.conf has directives Flux does not translate (exit 5, partial); iptv-headend.conf translates whole */
const IMPORT_CODES = { cameras: 5, iptv: 0 };
const seen = new Set<Id>();

/** Checks the output against the schema and returns the parsed document(s) (NDJSON: one per line). */
function check(id: Id, r: CliResult, code = 0): any[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(r.code, code, `flux ${id}: ${r.stderr}`);
  const docs: unknown[] = NDJSON_RESULTS.has(id) ? r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : [JSON.parse(r.stdout)];
  assert.ok(docs.length > 0, `flux ${id} --json printed nothing`);
  for (const out of docs) {
    const parsed = RESULTS[id].safeParse(out);
    assert.ok(parsed.success, `flux ${id} --json does not match schemas/${id.replace(/ /g, '-')}.json: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`);
    assert.deepEqual(parsed.data, out, `flux ${id} --json prints fields its schema does not name`);
  }
  seen.add(id);
  return docs;
}

test('the committed schemas are the generated ones (run: npm run -s build && node scripts/gen-schemas.js)', () => {
  const dir = path.join(REPO_ROOT, 'schemas');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(files, Object.keys(RESULTS).map((id) => `${id.replace(/ /g, '-')}.json`).sort());
  for (const id of Object.keys(RESULTS) as Id[]) {
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, `${id.replace(/ /g, '-')}.json`), 'utf8')), JSON.parse(JSON.stringify(resultJsonSchema(id))), id);
  }
});

test('results without a node: init, validate, doctor, probe, dvr ls, dvr export, errors', { timeout: 240_000 }, async (t) => {
  const dir = await tempDir(t);
  const env = { FLUX_CONFIG: undefined };
  check('init', await runCli(['init', '--json'], { cwd: dir, env }));
  check('validate', await runCli(['validate', 'flux.yaml', '--json'], { cwd: dir, env }));
  const bad = path.join(dir, 'bad.yaml');
  await import('node:fs/promises').then((fs) => fs.writeFile(bad, 'streams:\n  a: { inputs: [{ url: gopher://x }] }\n'));
  check('validate', await runCli(['validate', bad, '--json'], { cwd: dir, env }), 1);
  check('error', await runCli(['stream', 'args', 'nope', '--config', bad, '--json'], { cwd: dir, env }), 3);
  check('doctor', await runCli(['doctor', '--json'], { cwd: dir, env }));

  const clip = path.join(dir, 'clip.mp4');
  const enc = await run(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-f', 'lavfi', '-i', 'sine', '-t', '1', '-c:v', 'libx264', '-c:a', 'aac', clip]);
  assert.equal(enc.code, 0, enc.stderr);
  check('probe', await runCli(['probe', clip, '--json'], { cwd: dir, env }));
  const vodConfig = path.join(dir, 'vod.yaml');
  await import('node:fs/promises').then((fs) => fs.writeFile(vodConfig, `vod:\n  movies: { path: ${JSON.stringify(dir)} }\n`));
  check('vod ls', await runCli(['vod', 'ls', '-c', vodConfig, '--json'], { cwd: dir, env }));
  const flussonic = path.join(REPO_ROOT, 'test/fixtures/flussonic');
  check('import flussonic', await runCli(['import', 'flussonic', path.join(flussonic, 'cameras.conf'), '--json'], { cwd: dir, env }), IMPORT_CODES.cameras);
  check('import flussonic', await runCli(['import', 'flussonic', path.join(flussonic, 'iptv-headend.conf'), '-o', path.join(dir, 'iptv.yaml'), '--json'], { cwd: dir, env }), IMPORT_CODES.iptv);

  const root = path.join(dir, 'archive');
  const config = path.join(dir, 'dvr.yaml');
  await import('node:fs/promises').then((fs) =>
    fs.writeFile(config, `streams:\n  cams/door:\n    inputs:\n      - url: publish://\n    dvr: { path: ${JSON.stringify(root)}, retention: 7d }\n`),
  );
  const start = Date.UTC(2026, 10, 24, 22, 59, 30);
  const rec = await DvrRecorder.open({ root, renditions: ['v1a1'] });
  await makeArchive(root, { startMs: start, recorder: rec, seconds: 10 });
  await rec.close();
  check('dvr ls', await runCli(['dvr', 'ls', 'cams/door', '-c', config, '--json'], { cwd: dir, env }));
  const out = path.join(dir, 'part.ts');
  check('dvr export', await runCli(['dvr', 'export', 'cams/door', '-c', config, '--from', String(start / 1000 + 2), '--duration', '4s', '-o', out, '--json'], { cwd: dir, env }));
});

test('results with a node: node start/status/stop, status, stream list/show/add/rm/restart/args', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { a: fakeStream() } });
  await waitFor(async () => (await node.stream('a')).stats.alive, { timeoutMs: 30_000, message: 'stream a alive' });
  check('node status', await node.cli(['node', 'status', '--json']));
  check('status', await node.cli(['status', '--json']));
  check('stream list', await node.cli(['stream', 'list', '--json']));
  check('stream show', await node.cli(['stream', 'show', 'a', '--json']));
  check('stream args', await node.cli(['stream', 'args', 'a', '--json']));
  check('stream args', await node.cli(['stream', 'args', 'a', '--live', '--json']));
  check('stream add', await node.cli(['stream', 'add', 'b', '--input', 'publish://', '--json']));
  check('stream restart', await node.cli(['stream', 'restart', 'a', '--json']));
  check('stream rm', await node.cli(['stream', 'rm', 'b', '--json']));
  check('error', await node.cli(['stream', 'show', 'nope', '--json']), 1);
  check('node stop', await node.cli(['node', 'stop', '--json']));
  check('node start', await node.cli(['node', 'start', '--json']));
});

test('results with a node: node reload, events, metrics, top, auth hash/sign, session ls/kill', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { tv: fakeStream({ auth: { secure_link: true } }) }, extra: { auth: { securetoken: 'json-results-secret' } } });
  await waitFor(async () => (await node.stream('tv')).stats.alive, { timeoutMs: 30_000, message: 'stream tv alive' });

  const [hash] = check('auth hash', await runCli(['auth', 'hash', '--json', '--cost', '1024'], { input: 'pw', cwd: dir }));
  assert.match(hash.password_hash, /^scrypt\$1024\$/);
  const [link] = check('auth sign', await node.cli(['auth', 'sign', 'tv', '--ttl', '10m', '--json']));
  assert.equal(link.end - link.start, 600);
  // a play request through the signed link opens a session
  await waitFor(async () => (await fetch(link.url)).status === 200, { timeoutMs: 30_000, message: 'signed playlist plays' });
  const [list] = check('session ls', await node.cli(['session', 'ls', '--stream', 'tv', '--json']));
  assert.equal(list.sessions.length, 1, JSON.stringify(list));
  assert.equal(list.sessions[0].token, link.token);
  const [killed] = check('session kill', await node.cli(['session', 'kill', list.sessions[0].id, '--json']));
  assert.equal(killed.killed, list.sessions[0].id);
  check('error', await node.cli(['session', 'kill', 'nope', '--json']), 1);

  // a changed config: the reload starts the new stream
  await writeFile(node.configFile, (await import('node:fs/promises').then((fs) => fs.readFile(node.configFile, 'utf8'))).replace(/^streams:\n/m, `streams:\n  extra: ${JSON.stringify(publishStream())}\n`));
  const [reload] = check('node reload', await node.cli(['node', 'reload', '--json']));
  // (the node may have picked the change up by itself already: then it is unchanged)
  assert.ok([...reload.changes.started, ...reload.changes.unchanged].includes('extra'), JSON.stringify(reload));
  const events = check('events', await node.cli(['events', '--json']));
  assert.ok(events.some((e) => e.event === 'stream_started' && e.stream === 'tv'), JSON.stringify(events));
  assert.ok(events.some((e) => e.event === 'config_reloaded'), JSON.stringify(events));
  const [metrics] = check('metrics', await node.cli(['metrics', '--json']));
  assert.match(metrics.text, /^flux_stream_up\{[^}]*stream="tv"[^}]*\} 1$/m);
  const lines = check('top', await node.cli(['top', '--json', '-n', '2', '-i', '0.2']));
  assert.equal(lines.length, 2);
  assert.equal(lines[1].node.name, (await node.cli(['node', 'status', '--json'])).json.name);
  assert.ok(lines[1].streams.some((s: { name: string }) => s.name === 'tv'));
});

test('results in a cluster (real etcd): cluster join/status/apply/leave, node status of a member', { timeout: 180_000 }, async (t) => {
  const { etcd, dir } = await startEtcdCluster(t);
  const node = await startNode(t, { dir: await tempDir(t), streams: {} });
  check('error', await node.cli(['cluster', 'status', '--json']), 1);
  const [joined] = check('cluster join', await node.cli(['cluster', 'join', '--etcd', etcd.url, '--name', 'j1', '--json']));
  assert.equal(joined.applied, true);
  assert.deepEqual(joined.peers, ['j1']);
  const shared = `${dir}/shared.yaml`;
  await writeFile(shared, 'streams:\n  sh1:\n    inputs: [{ url: "publish://" }]\n');
  const [dry] = check('cluster apply', await node.cli(['cluster', 'apply', shared, '--dry-run', '--json']));
  assert.deepEqual([dry.added, dry.dry_run], [['sh1'], true]);
  const [applied] = check('cluster apply', await node.cli(['cluster', 'apply', shared, '--json']));
  assert.deepEqual([applied.added, applied.dry_run], [['sh1'], false]);
  const [st] = check('cluster status', await waitFor(async () => {
    const r = await node.cli(['cluster', 'status', '--json']);
    return r.code === 0 && r.json?.shared_streams?.includes('sh1') ? r : undefined;
  }, { timeoutMs: 15_000, message: 'the node sees the shared stream' }));
  assert.equal(st.cluster, 'ok');
  const [info] = check('node status', await node.cli(['node', 'status', '--json']));
  assert.equal(info.cluster, 'ok');
  const [left] = check('cluster leave', await node.cli(['cluster', 'leave', '--json']));
  assert.equal(left.applied, true);
});

test('every result schema was exercised', () => {
  // runs last: the tests above fill `seen`
  assert.deepEqual([...seen].sort(), (Object.keys(RESULTS) as Id[]).sort());
});
