/** The streaming-child runner (core/child.ts), with real node children: pipes, stderr tail, spawn errors, stop and kill. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Child, describeChildExit, lastStderrLine } from '../../../src/core/child.js';

const node = process.execPath;

test('stdin to stdout and an extra fd; every output byte arrives before exited; stderr tail kept', async () => {
  const c = new Child(node, ['-e', "const fs=require('fs');process.stdin.on('data',d=>{process.stdout.write(d);fs.writeSync(3,Buffer.from('x'))});process.stdin.on('end',()=>{console.error('a'.repeat(100));console.error('last line');process.exit(3)})"], {
    stdin: true,
    stdout: true,
    extraFds: [3],
    stderrTail: 20,
  });
  const out: Buffer[] = [];
  const fd3: Buffer[] = [];
  c.stdout!.on('data', (d: Buffer) => out.push(d));
  c.output(3)!.on('data', (d: Buffer) => fd3.push(d));
  c.stdin!.end('hello');
  const e = await c.exited;
  assert.equal(Buffer.concat(out).toString(), 'hello');
  assert.equal(Buffer.concat(fd3).toString(), 'x');
  assert.equal(e.code, 3);
  assert.equal(e.requested, false);
  assert.equal(e.spawnError, null);
  assert.ok(e.stderr.length <= 20);
  assert.equal(lastStderrLine(e.stderr), 'last line');
  assert.equal(describeChildExit(e, 'x'), 'exited with code 3');
  assert.equal(c.running, false);
});

test('a missing binary is an exit with spawnError, not a throw; writing to its stdin does not crash', async () => {
  const c = new Child('/nonexistent/ffmpeg', ['-i', 'x'], { stdin: true });
  c.stdin?.write(Buffer.alloc(1024));
  const e = await c.exited;
  assert.match(String(e.spawnError?.message), /ENOENT/);
  assert.equal(e.code, null);
  assert.match(describeChildExit(e, '/nonexistent/ffmpeg'), /^cannot run \/nonexistent\/ffmpeg: .*ENOENT/);
});

test('EPIPE: the child leaves while we write; the exit tells why', async () => {
  const c = new Child(node, ['-e', 'process.exit(5)'], { stdin: true });
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < 8; i++) c.stdin?.write(big);
  const e = await c.exited;
  assert.equal(e.code, 5);
});

test('stop: stdin EOF lets a child finish on its own before any signal', async () => {
  const c = new Child(node, ['-e', "process.stdin.resume();process.stdin.on('end',()=>process.exit(0))"], { stdin: true });
  const e = await c.stop({ termAfterMs: 5000, killAfterMs: 5000 });
  assert.equal(e.code, 0);
  assert.equal(e.signal, null);
  assert.equal(e.requested, true);
});

test('stop: SIGTERM, then SIGKILL after the grace for a child that ignores SIGTERM', async () => {
  const c = new Child(node, ['-e', "process.on('SIGTERM',()=>{});console.log('ready');setInterval(()=>{},1000)"], { stdout: true });
  await new Promise<void>((r) => c.stdout!.once('data', () => r()));
  const t0 = Date.now();
  const e = await c.stop({ killAfterMs: 300 });
  assert.equal(e.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 >= 250, 'the grace was given');
  assert.equal(await c.stop(), e, 'stopping again: the same exit');
});

test('kill is not a stop request (a watchdog kills to restart)', async () => {
  const c = new Child(node, ['-e', 'setInterval(()=>{},1000)']);
  c.kill('SIGKILL');
  const e = await c.exited;
  assert.equal(e.signal, 'SIGKILL');
  assert.equal(e.requested, false);
  c.kill(); // gone: a no-op
});
