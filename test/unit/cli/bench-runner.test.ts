import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../../helpers/config-fixtures.js';

const RUNNER = path.join(REPO, 'scripts/bench.js');
const run = (args: string[]) => spawnSync(process.execPath, [RUNNER, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

function benchDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'flux-bench-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // each run reads and bumps a counter, so runs give 10, 20, 30 … and the median/min/max are known
  writeFileSync(
    path.join(dir, 'fake.ts'),
    `import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const f = ${JSON.stringify(path.join(dir, 'count'))};
const n = (existsSync(f) ? Number(readFileSync(f, 'utf8')) : 0) + 1;
writeFileSync(f, String(n));
console.log('some progress line');
console.log(JSON.stringify({ metrics: { speed: { value: n * 10, unit: 'MB/s', better: 'higher' }, lag: { value: 100 / n, unit: 'ms', better: 'lower' } }, notes: 'fake bench' }));
`,
  );
  writeFileSync(path.join(dir, 'broken.ts'), `console.log('not json');\n`);
  return dir;
}

test('runs the bench N times, prints min/median/max and appends a section to the results file', (t) => {
  const dir = benchDir(t);
  const results = path.join(dir, 'RESULTS.md');
  const r = run(['fake', '--runs', '3', '--bench-dir', dir, '--results', results]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^speed\s+20\s+10\s+30\s+MB\/s\s+3$/m);
  assert.match(r.stdout, /^lag\s+50\s+33\.3\s+100\s+ms\s+3$/m);
  const md = readFileSync(results, 'utf8');
  assert.match(md, /^# Flux benchmark results/);
  assert.match(md, /^## fake \(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\)$/m);
  assert.match(md, /^- machine: \S.*; .*; \d+ cores; node v\d+\.\d+\.\d+; load average at start [\d. ]+$/m);
  assert.match(md, /^\| metric \| median \| min \| max \| unit \| runs \|$/m);
  assert.match(md, /^\| speed \(higher is better\) \| 20 \| 10 \| 30 \| MB\/s \| 3 \|$/m);
  assert.match(md, /^Notes: fake bench$/m);
  // a second invocation appends, keeping the first
  assert.equal(run(['fake', '--runs', '1', '--bench-dir', dir, '--results', results]).status, 0);
  assert.equal(readFileSync(results, 'utf8').match(/^## fake /gm)?.length, 2);
});

test('a run without a JSON last line fails and records nothing; bad arguments are usage errors', (t) => {
  const dir = benchDir(t);
  const results = path.join(dir, 'RESULTS.md');
  const r = run(['broken', '--runs', '2', '--bench-dir', dir, '--results', results]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /last stdout line is not JSON: not json; nothing recorded/);
  assert.throws(() => readFileSync(results));
  for (const args of [[], ['fake', '--runs', 'x'], ['nope', '--bench-dir', dir], ['fake', '--wat']]) {
    const u = run(args);
    assert.equal(u.status, 2, args.join(' '));
    assert.match(u.stderr, /^bench: .*\nusage: npm run bench -- NAME/);
  }
});
