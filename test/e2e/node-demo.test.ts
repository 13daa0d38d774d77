/**
 * `flux node start` with no config file at all runs the embedded demo: one fake:// stream named
 * "demo" with a tone, data/run dirs under ./data and ./run, and prints where to watch it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeRemoving, freePort, http, killLeftovers, runCli, tempDir, waitFor } from '../helpers/index.js';

test('node start without a config runs the demo stream', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const env = { FLUX_DEMO_HTTP: String(port), FLUX_DEMO_HOST: '127.0.0.1' };
  const stop = async () => {
    await runCli(['node', 'stop', '--force', '--timeout', '20'], { cwd: dir, env });
    await killLeftovers(path.join(dir, 'run'));
  };
  beforeRemoving(dir, stop);

  const start = await runCli(['node', 'start'], { cwd: dir, env });
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stderr, /no config file .*embedded demo/);
  assert.match(start.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/demo/embed\\.html`));
  assert.match(start.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/demo/index\\.m3u8`));
  assert.ok(existsSync(path.join(dir, 'run', 'node.sock')), './run/node.sock');
  assert.ok(existsSync(path.join(dir, 'data', 'node.log')), './data/node.log');

  const status = await runCli(['node', 'status', '--json'], { cwd: dir, env });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json.demo, true);
  assert.equal(status.json.config_file, null);
  assert.equal(status.json.streams_count, 1);

  const master = await waitFor(async () => {
    const r = await http(`http://127.0.0.1:${port}/demo/index.m3u8`);
    return r.status === 200 ? r.text : undefined;
  }, { timeoutMs: 30_000, message: 'the demo master playlist' });
  assert.match(master, /#EXT-X-STREAM-INF:.*RESOLUTION=640x360/);
  assert.match(master, /mp4a/, 'the demo has audio (a tone)');
  const embed = await http(`http://127.0.0.1:${port}/demo/embed.html`);
  assert.equal(embed.status, 200);
  assert.match(embed.text, /<video/i);

  const list = await runCli(['stream', 'list', '--json'], { cwd: dir, env });
  assert.equal(list.json.streams[0].name, 'demo');
  assert.match(list.json.streams[0].inputs[0].url, /^fake:\/\//);
  await stop();
  assert.equal(existsSync(path.join(dir, 'run', 'node.sock')), false);
});

test('node start --foreground (the README quick start) prints where to watch and stops on Ctrl-C', { timeout: 90_000 }, async (t) => {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('../helpers/index.js');
  const dir = await tempDir(t);
  const port = await freePort();
  const env = { ...process.env, FLUX_CONFIG: undefined, FLUX_DEMO_HTTP: String(port), FLUX_DEMO_HOST: '127.0.0.1' };
  const child = spawn(process.execPath, [CLI, 'node', 'start', '--foreground'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  beforeRemoving(dir, async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await killLeftovers(path.join(dir, 'run'));
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const embed = `http://127.0.0.1:${port}/demo/embed.html`;
  await waitFor(() => stderr.includes(`open ${embed}`), { timeoutMs: 60_000, message: `"open ${embed}" on stderr` });
  assert.match(stderr, new RegExp(`HLS  http://127\\.0\\.0\\.1:${port}/demo/index\\.m3u8`));
  assert.equal((await http(embed)).status, 200);
  await waitFor(async () => (await http(`http://127.0.0.1:${port}/demo/index.m3u8`)).status === 200, { timeoutMs: 45_000, message: 'demo master playlist' });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  child.kill('SIGINT');
  assert.equal(await exited, 0, 'Ctrl-C stops the node cleanly');
});
