/**
 * Logs for people: `flux node start --foreground` on a terminal (tmux) prints one readable line
 * per log record (pino-pretty), not JSON; with stdout piped it prints JSON lines for machines (the
 * journal under templates/flux.service) and SIGHUP reloads the config (its ExecReload); the unit
 * file keeps the directives the design relies on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, REPO_ROOT, tempDir, waitFor, writeConfig } from '../helpers/index.js';

test('node start --foreground: pretty lines on a TTY, JSON lines when piped', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const { configFile } = await writeConfig({ dir, streams: {} });

  // a terminal
  const session = `flux-fg-${process.pid}`;
  const tmux = (...a: string[]) => execFileSync('tmux', a, { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '30', '-c', dir, `${process.execPath} ${CLI} node start --foreground --config ${configFile}; sleep 30`);
  t.after(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      /* gone */
    }
  });
  const pane = () => tmux('capture-pane', '-p', '-t', session);
  await waitFor(() => /flux node ready/.test(pane()), { timeoutMs: 30_000, message: 'node ready in tmux' });
  const text = pane();
  assert.match(text, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [^\]]+\] INFO \(flux-node\): node started \{.*"http":"127\.0\.0\.1:\d+"/m, text);
  assert.doesNotMatch(text, /\{"level":/);
  tmux('send-keys', '-t', session, 'C-c');
  await waitFor(() => /node stopped/.test(pane()), { timeoutMs: 30_000, message: 'node stopped on Ctrl-C' });

  // piped: JSON lines
  const child = spawn(process.execPath, [CLI, 'node', 'start', '--foreground', '--config', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor(() => /"msg":"node started"/.test(out), { timeoutMs: 30_000, message: `JSON log line\n${out}` });
  const line = out.split('\n').find((l) => l.includes('"node started"'))!;
  assert.equal(JSON.parse(line).msg, 'node started');
  // SIGHUP to the foreground command (systemd's ExecReload signals it) reloads the config
  child.kill('SIGHUP');
  await waitFor(() => /"msg":"config applied"/.test(out), { timeoutMs: 20_000, message: `reload on SIGHUP\n${out}` });
  assert.equal(child.exitCode, null, 'still running after SIGHUP');
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
});

test('templates/flux.service: agent in the foreground, restart on failure, supervisors survive, hardened', () => {
  const unit = readFileSync(path.join(REPO_ROOT, 'templates', 'flux.service'), 'utf8');
  const directives = new Map<string, string[]>();
  let section = '';
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    const m = /^(\w+)=(.*)$/.exec(line);
    assert.ok(m, `not a directive: ${line}`);
    const key = `${section}.${m[1]}`;
    directives.set(key, [...(directives.get(key) ?? []), m[2]!]);
  }
  const one = (k: string) => directives.get(k)?.[0];
  assert.match(one('Service.ExecStart') ?? '', /flux node start --foreground --config \/etc\/flux\/flux\.yaml$/);
  assert.equal(one('Service.Restart'), 'on-failure');
  assert.equal(one('Service.KillMode'), 'process');
  assert.equal(one('Service.User'), 'flux');
  assert.equal(one('Service.ExecReload'), '/bin/kill -HUP $MAINPID');
  for (const k of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'RestrictSUIDSGID']) assert.ok(one(`Service.${k}`), k);
  // the V8 JIT needs writable+executable memory
  assert.equal(one('Service.MemoryDenyWriteExecute'), undefined);
  assert.equal(one('Install.WantedBy'), 'multi-user.target');
});
