/**
 * Every command's `--json` result matches its committed JSON Schema (schemas/, generated from
 * src/protocol/results.ts): real output of the built binary, against a real node, a real archive and
 * a real media file. A field a command prints but the schema does not name fails too (the parse
 * result must equal the output), so the schemas stay the whole contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { RESULTS, resultJsonSchema } from '../../src/protocol/results.js';
import { DvrRecorder } from '../../src/dvr/recorder.js';
import { REPO_ROOT, fakeStream, runCli, startNode, tempDir, waitFor, type CliResult } from '../helpers/index.js';
import { FFMPEG, makeArchive, run } from '../helpers/dvr-fixture.js';

type Id = keyof typeof RESULTS;
const seen = new Set<Id>();

function check(id: Id, r: CliResult, code = 0): void {
  assert.equal(r.code, code, `flux ${id}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as unknown;
  const parsed = RESULTS[id].safeParse(out);
  assert.ok(parsed.success, `flux ${id} --json does not match schemas/${id.replace(/ /g, '-')}.json: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`);
  assert.deepEqual(parsed.data, out, `flux ${id} --json prints fields its schema does not name`);
  seen.add(id);
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

test('every result schema was exercised', () => {
  // runs last: the tests above fill `seen`
  assert.deepEqual([...seen].sort(), (Object.keys(RESULTS) as Id[]).sort());
});
