/**
 * `flux auth hash`: the password comes from stdin or a TTY prompt, never argv; the hash is the
 * form auth.users expects (verifies, and `flux validate` accepts it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { verifyPassword, parsePasswordHash } from '../../src/auth/password.js';
import { CLI, runCli, tempDir } from '../helpers/index.js';

test('flux auth hash reads stdin, prints a verifiable scrypt hash (--json too)', async (t) => {
  const r = await runCli(['auth', 'hash'], { input: 'correct horse\n' });
  assert.equal(r.code, 0, r.stderr);
  const hash = r.stdout.trim();
  assert.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(await verifyPassword('correct horse', hash), 'one trailing newline is not part of the password');
  assert.ok(!(await verifyPassword('correct horse\n', hash)));

  const j = await runCli(['auth', 'hash', '--json', '--cost', '1024'], { input: 'pw' });
  assert.equal(j.code, 0, j.stderr);
  assert.equal(parsePasswordHash(j.json.password_hash)?.N, 1024);
  assert.ok(await verifyPassword('pw', j.json.password_hash));

  // the hash goes straight into auth.users
  const dir = await tempDir(t);
  const cfg = path.join(dir, 'flux.yaml');
  await writeFile(cfg, `auth:\n  users:\n    - name: admin\n      password_hash: "${hash}"\n`);
  const v = await runCli(['validate', '--config', cfg]);
  assert.equal(v.code, 0, v.stderr);
});

test('flux auth hash refuses a password in argv, empty stdin, several lines, a bad cost', async () => {
  const argv = await runCli(['auth', 'hash', 'secret'], { input: 'x' });
  assert.equal(argv.code, 2);
  assert.doesNotMatch(argv.stdout, /scrypt/);
  const empty = await runCli(['auth', 'hash'], { input: '' });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no password on stdin/);
  assert.equal((await runCli(['auth', 'hash'], { input: 'a\nb\n' })).code, 2);
  const cost = await runCli(['auth', 'hash', '--cost', '3000'], { input: 'x' });
  assert.equal(cost.code, 2);
  assert.match(cost.stderr, /power of two/);
});

test('flux auth hash asks twice on a terminal, without echo', { timeout: 60_000 }, async () => {
  // script(1) gives the command a pseudo-terminal; what we write is what the user types
  const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} auth hash`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    let typed = 0;
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      if (typed === 0 && text.includes('Password:')) {
        typed = 1;
        child.stdin.write('tty-secret\r');
      } else if (typed === 1 && text.includes('Again:')) {
        typed = 2;
        child.stdin.write('tty-secret\r');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
  assert.equal(out.code, 0, out.text);
  assert.doesNotMatch(out.text, /tty-secret/, 'not echoed');
  const hash = /scrypt\$[^\s]+/.exec(out.text)?.[0];
  assert.ok(hash, out.text);
  assert.ok(await verifyPassword('tty-secret', hash));
});
