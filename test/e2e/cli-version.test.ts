import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assertBuilt, runCli } from '../helpers/index.js';
import { REPO } from '../helpers/config-fixtures.js';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };

test('the --version fast path prints what oclif prints', async () => {
  assertBuilt();
  const fast = await runCli(['--version']);
  assert.equal(fast.code, 0, fast.stderr);
  assert.equal(fast.stdout, `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  // `flux version`-style flags reach oclif, whose own rendering must agree with the shortcut
  const viaOclif = await runCli(['--version', '--json']);
  assert.equal(viaOclif.code, 0, viaOclif.stderr);
  assert.match(viaOclif.stdout, new RegExp(`${pkg.version}`));
});
