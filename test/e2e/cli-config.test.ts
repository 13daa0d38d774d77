import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { GOOD } from '../helpers/config-fixtures.js';
import { runCli, assertBuilt, assertNoStack } from '../helpers/index.js';

before(() => assertBuilt());

test('config schema prints the JSON Schema (draft 2020-12) with descriptions', async () => {
  const r = await runCli(['config', 'schema']);
  assertNoStack(r);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(s.additionalProperties, false);
  assert.match(s.properties.server.properties.http.description, /playback/);
  assert.equal(s.properties.streams.additionalProperties.properties.inputs.minItems, 1);
});

test('config show prints the resolved config as YAML (templates applied, units normalized) and --json', async () => {
  const file = path.join(GOOD, 'full.yaml');
  const y = await runCli(['config', 'show', '-c', file]);
  assert.equal(y.code, 0, y.stderr);
  const doc = parse(y.stdout);
  assert.equal(doc.file, file);
  assert.equal(doc.streams['cams/door'].hls.segmentDurationMs, 4000); // from the template
  assert.equal(doc.streams['cams/door'].dvr.root, '/srv/dvr/cams/door');
  assert.equal(doc.streams.channel1.transcoder.video[0].bitrate, 6_000_000);
  const j = await runCli(['config', 'show', '--json', file]);
  assert.equal(j.code, 0);
  assert.deepEqual(JSON.parse(j.stdout), doc);
  const one = await runCli(['config', 'show', '--json', '--stream', 'cams/door', file]);
  assert.equal(JSON.parse(one.stdout).name, 'cams/door');
  const none = await runCli(['config', 'show', '--stream', 'nope', file]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, `flux: stream "nope" not found in ${file}\n`);
});

test('config show on an invalid config exits 3 with every problem; a missing file exits 1', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-show-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'flux.yaml'), 'streams:\n  a: {inputs: []}\n  b: {inputs: [{url: "x://"}]}\n');
  const r = await runCli(['config', 'show'], { cwd: dir, env: { FLUX_CONFIG: undefined } });
  assertNoStack(r);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.deepEqual(r.stderr.trim().split('\n').map((l) => l.replace(/:\s.*/, '')), ['flux.yaml:2:15', 'flux.yaml:3:22']);
  const j = await runCli(['config', 'show', '--json'], { cwd: dir, env: { FLUX_CONFIG: undefined } });
  assert.equal(j.code, 3);
  const body = JSON.parse(j.stdout);
  assert.equal(body.error.code, 'E_CONFIG');
  assert.equal(body.error.issues.length, 2);
  const m = await runCli(['config', 'show', '-c', 'nope.yaml'], { cwd: dir });
  assert.equal(m.code, 1);
  assert.equal(m.stderr, 'flux: nope.yaml: no such file\n');
});
