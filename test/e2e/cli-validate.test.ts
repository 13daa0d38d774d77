import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BAD, GOOD, TEMPLATE, manyStreamsYaml } from '../helpers/config-fixtures.js';
import { runCli, assertBuilt, assertNoStack, tempDir } from '../helpers/index.js';

const ISSUE_LINE = /^[^\s:]+\.yaml:\d+:\d+: /;
const badFiles = readdirSync(BAD).filter((f) => f.endsWith('.yaml')).sort();
const goodFiles = readdirSync(GOOD).filter((f) => f.endsWith('.yaml')).sort();
const expectedOf = (f: string) => readFileSync(path.join(BAD, f.replace(/\.yaml$/, '.expected')), 'utf8').split('\n').filter(Boolean);

before(() => assertBuilt());

test('good configs (and the sample) exit 0, nothing on stdout, "valid" on stderr', async () => {
  assert.ok(goodFiles.length >= 4);
  const r = await runCli(['validate', ...goodFiles, TEMPLATE], { cwd: GOOD });
  assertNoStack(r);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  for (const f of goodFiles) assert.match(r.stderr, new RegExp(`^${f.replace('.', '\\.')}: valid \\(\\d+ streams?\\)$`, 'm'));
});

test('every bad fixture: exit 1 and exactly its expected file:line:col: message lines', async () => {
  assert.ok(badFiles.length >= 10);
  for (const f of badFiles) {
    const r = await runCli(['validate', f], { cwd: BAD });
    assertNoStack(r);
    assert.equal(r.code, 1, `${f}: ${r.stderr}`);
    const got = r.stderr.split('\n').filter((l) => ISSUE_LINE.test(l));
    assert.deepEqual(got, expectedOf(f), f);
    // nothing but issue lines and the count
    const other = r.stderr.split('\n').filter((l) => l && !ISSUE_LINE.test(l));
    assert.ok(other.every((l) => /^\d+ problems in 1 file$/.test(l)), other.join('\n'));
  }
});

test('several files at once: every problem of every file, exit 1', async () => {
  const r = await runCli(['validate', ...badFiles, '../good/minimal.yaml'], { cwd: BAD });
  assert.equal(r.code, 1);
  const got = r.stderr.split('\n').filter((l) => ISSUE_LINE.test(l));
  assert.deepEqual(got, badFiles.flatMap(expectedOf));
  assert.match(r.stderr, /^\.\.\/good\/minimal\.yaml: valid \(1 stream\)$/m);
});

test('--json prints a list of {file,line,col,message,path}; [] when valid', async () => {
  const ok = await runCli(['validate', '--json', 'minimal.yaml'], { cwd: GOOD });
  assert.equal(ok.code, 0);
  assert.deepEqual(JSON.parse(ok.stdout), []);
  const r = await runCli(['validate', '--json', 'all-at-once.yaml', 'unknown-keys.yaml'], { cwd: BAD });
  assert.equal(r.code, 1);
  const list = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.equal(list.length, expectedOf('all-at-once.yaml').length + expectedOf('unknown-keys.yaml').length);
  for (const i of list) {
    assert.deepEqual(Object.keys(i).sort(), ['col', 'file', 'line', 'message', 'path']);
    assert.equal(typeof i.file, 'string');
    assert.ok(Number.isInteger(i.line) && (i.line as number) > 0);
    assert.ok(Number.isInteger(i.col) && (i.col as number) > 0);
    assert.equal(typeof i.message, 'string');
    assert.equal(typeof i.path, 'string');
  }
  assert.deepEqual(
    list.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`),
    [...expectedOf('all-at-once.yaml'), ...expectedOf('unknown-keys.yaml')],
  );
  const typo = list.find((i) => String(i.message).includes('"priorty"'))!;
  assert.equal(typo.path, 'streams.a.inputs.0.priorty');
});

test('--format github prints ::error annotations on stdout', async () => {
  const r = await runCli(['validate', '--format', 'github', 'duplicate-stream.yaml', 'schemes.yaml'], { cwd: BAD });
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, expectedOf('duplicate-stream.yaml').length + expectedOf('schemes.yaml').length);
  assert.equal(lines[0], '::error file=duplicate-stream.yaml,line=8,col=3::duplicate stream name "cam1" (first defined at line 2)');
  for (const l of lines) assert.match(l, /^::error file=[^,:]+,line=\d+,col=\d+::\S/);
  const ok = await runCli(['validate', '--format', 'github', 'minimal.yaml'], { cwd: GOOD });
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, '');
});

test('usage errors exit 2 with one line: unknown flag, bad --format, missing file, directory', async (t) => {
  const dir = await tempDir(t, 'flux-cli-');
  const cases: [string[], RegExp][] = [
    [['validate', '--bogus'], /^flux: Nonexistent flag: --bogus$/m],
    [['validate', '--format', 'xml', 'x.yaml'], /^flux: Expected --format=xml to be one of: text, github$/m],
    [['validate', 'missing.yaml'], /^missing\.yaml: no such file$/m],
    [['validate', dir], /: is a directory, expected a YAML file$/m],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args, { cwd: dir });
    assertNoStack(r);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
  }
  const j = await runCli(['validate', '--json', 'missing.yaml'], { cwd: dir });
  assert.equal(j.code, 2);
  assert.deepEqual(JSON.parse(j.stdout), [{ file: 'missing.yaml', line: 0, col: 0, message: 'no such file', path: '' }]);
});

test('junk files: binary, empty, 10 MB, 5,000 streams: one clear line or a clean result, never a hang', async (t) => {
  const dir = await tempDir(t, 'flux-cli-');
  const junk = Buffer.alloc(2048);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 255;
  await writeFile(path.join(dir, 'junk.yaml'), junk);
  await writeFile(path.join(dir, 'empty.yaml'), '');
  await writeFile(path.join(dir, 'big.yaml'), 'streams: {}\n' + ('#' + 'z'.repeat(1023) + '\n').repeat(10 * 1024));
  await writeFile(path.join(dir, 'many.yaml'), manyStreamsYaml(5000));
  await mkdir(path.join(dir, 'sub'));

  const junkR = await runCli(['validate', 'junk.yaml'], { cwd: dir });
  assertNoStack(junkR);
  assert.equal(junkR.code, 1);
  assert.equal(junkR.stderr, 'junk.yaml: binary data (NUL byte), expected a YAML text file\n');

  const empty = await runCli(['validate', 'empty.yaml'], { cwd: dir });
  assert.equal(empty.code, 0);
  assert.equal(empty.stderr, 'empty.yaml: valid (0 streams)\n');

  const big = await runCli(['validate', 'big.yaml'], { cwd: dir });
  assertNoStack(big);
  assert.equal(big.code, 1);
  assert.match(big.stderr, /^big\.yaml: file is \d+ bytes, larger than the 8 MiB limit for a config file\n$/);

  const many = await runCli(['validate', 'many.yaml'], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(many.code, 0, many.stderr);
  assert.equal(many.stderr, 'many.yaml: valid (5000 streams)\n');
});

test('the default file: --config, then $FLUX_CONFIG, then ./flux.yaml', async (t) => {
  const dir = await tempDir(t, 'flux-cli-');
  await writeFile(path.join(dir, 'flux.yaml'), 'streams: {}\n');
  await writeFile(path.join(dir, 'other.yaml'), 'streams:\n  a: {}\n');
  const def = await runCli(['validate'], { cwd: dir, env: { FLUX_CONFIG: undefined } });
  assert.equal(def.code, 0);
  assert.match(def.stderr, /^flux\.yaml: valid/);
  const env = await runCli(['validate'], { cwd: dir, env: { FLUX_CONFIG: 'other.yaml' } });
  assert.equal(env.code, 1);
  assert.match(env.stderr, /^other\.yaml:2:3: streams\.a: missing required key "inputs"$/m);
  const flag = await runCli(['validate', '-c', 'flux.yaml'], { cwd: dir, env: { FLUX_CONFIG: 'other.yaml' } });
  assert.equal(flag.code, 0);
});
