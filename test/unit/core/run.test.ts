/** The one runner of short-lived children (core/run.ts), on real processes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runFailure } from '../../../src/core/run.js';

const node = process.execPath;

test('runCommand: stdout as bytes, stderr tail, exit code; argument arrays are not a shell', async () => {
  const ok = await runCommand(node, ['-e', 'process.stdout.write(process.argv[1]); console.error("warn")', '$(echo no) ; |']);
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout.toString(), '$(echo no) ; |');
  assert.equal(ok.stderr.trim(), 'warn');
  assert.equal(runFailure(ok), undefined);

  const bad = await runCommand(node, ['-e', 'console.error("first\\nthe reason"); process.exit(3)']);
  assert.equal(bad.code, 3);
  assert.equal(runFailure(bad), 'the reason');
});

test('runCommand: a missing binary, a timeout (killed), a capped stdout', async () => {
  const missing = await runCommand('/nonexistent/flux-test-binary', []);
  assert.equal(missing.spawnError, 'ENOENT');
  assert.equal(runFailure(missing), 'not found');

  const t0 = Date.now();
  const slow = await runCommand(node, ['-e', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 300 });
  assert.ok(Date.now() - t0 < 10_000);
  assert.equal(slow.timedOut, true);
  assert.equal(slow.signal, 'SIGKILL');
  assert.equal(runFailure(slow, 300), 'no answer within 0.3 s');

  const big = await runCommand(node, ['-e', 'process.stdout.write("x".repeat(100000))'], { maxStdout: 1000 });
  assert.equal(big.stdout.length, 1000);
  assert.equal(big.truncated, true);
});
