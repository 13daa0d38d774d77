/**
 * `flux top` against a real node: the ink screen driven by ink-testing-library (rows, Enter for
 * details with the ffmpeg command line, / filter, r restart, the node going away and coming back),
 * the plain non-TTY output, and once the built binary in a real terminal (tmux send-keys,
 * capture-pane).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { CLI, fakeStream, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';
import { FluxClient } from '../../src/client/index.js';
import { TopApp } from '../../src/ui/top/app.js';
import { TopPoller, clientSource, sparkline } from '../../src/ui/top/model.js';

const DOWN = '\u001B[B';
const ENTER = '\r';
const ESC = '\u001B';

test('flux top: ink screen (select, details, filter, restart, reconnect), plain output, tmux', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, env: { FLUX_STATUS_POLL_MS: '500' }, streams: { alpha: fakeStream(), beta: publishStream() }, waitAlive: false });
  await waitFor(async () => (await node.stream('alpha')).stats.alive, { timeoutMs: 30_000, message: 'alpha alive' });

  const client = new FluxClient({ socketPath: node.socket, timeoutMs: 3000 });
  t.after(() => client.close());
  const ui = render(createElement(TopApp, { poller: new TopPoller(clientSource(client)), intervalMs: 300 }));
  t.after(() => ui.unmount());
  const frame = () => ui.lastFrame() ?? '';
  const press = async (k: string) => {
    ui.stdin.write(k);
    await new Promise((r) => setTimeout(r, 100));
  };

  await waitFor(() => /alpha\s+running/.test(frame()) && /beta\s+/.test(frame()), { timeoutMs: 15_000, message: `rows in\n${frame()}` });
  assert.match(frame(), /^node \S+ +flux /m);
  assert.match(frame(), /STREAM\s+STATE\s+INPUT\s+BITRATE/);
  assert.match(frame(), /stream_started\s+alpha/, 'events pane');
  // the bitrate sparkline fills in
  await waitFor(() => /alpha\s+running\s+#0 fake:\/\/\S*\s+\d+k\s+[▁▂▃▄▅▆▇█]{2,}/.test(frame()), { timeoutMs: 10_000, message: `sparkline\n${frame()}` });

  // Enter: details of the selected (first) stream, with its ffmpeg command line; Esc back
  await press(ENTER);
  await waitFor(() => /alpha — running/.test(frame()) && /FFMPEG/.test(frame()), { message: `details\n${frame()}` });
  assert.match(frame(), /▶ #0 prio 1 active/);
  assert.match(frame(), /pid \d+: ffmpeg .*-f lavfi/);
  await press(ESC);
  // ↓ + Enter: the second stream
  await press(DOWN);
  await press(ENTER);
  await waitFor(() => /beta — /.test(frame()), { message: `beta details\n${frame()}` });
  assert.match(frame(), /no ffmpeg running/);
  await press(ESC);

  // / filter
  await press('/');
  for (const c of 'alp') await press(c);
  await press(ENTER);
  await waitFor(() => /alpha\s+running/.test(frame()) && !/^beta/m.test(frame()), { message: `filtered\n${frame()}` });
  assert.match(frame(), /\[alp\]/);
  await press(ESC);
  await waitFor(() => /^beta/m.test(frame()), { message: 'filter cleared' });

  // r: restart the selected stream (alpha, first row)
  await press('k');
  await press('r');
  await waitFor(() => /restarted alpha/.test(frame()), { message: `restart message\n${frame()}` });

  // the node goes away: said so, then reconnected when it is back
  node.kill();
  await waitFor(() => /node unreachable: reconnecting/.test(frame()), { timeoutMs: 10_000, message: `unreachable\n${frame()}` });
  await node.restart();
  await waitFor(() => /^node \S+ +flux /m.test(frame()), { timeoutMs: 20_000, message: `reconnected\n${frame()}` });
  ui.unmount();

  // plain output (not a TTY): two frames, and JSON lines
  const plain = await node.cli(['top', '--plain', '-n', '2', '-i', '0.3']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout.match(/^STREAM\s+STATE/gm)?.length, 2);
  assert.match(plain.stdout, /^alpha\s+running/m);
  const js = await node.cli(['top', '--json', '-n', '1']);
  assert.equal(js.code, 0, js.stderr);
  assert.deepEqual(JSON.parse(js.stdout).streams.map((s: { name: string }) => s.name), ['alpha', 'beta']);
  assert.equal((await node.cli(['top', '--plain', '-n', '1', '-i', 'x'])).code, 2);

  // the built binary in a real terminal: `flux status --watch` opens the board
  const session = `flux-top-${process.pid}`;
  // Its own tmux server, started without CI variables: ink (is-in-ci) suppresses live frames
  // when CI or CONTINUOUS_INTEGRATION is set, and a tmux server hands its environment to panes.
  const termEnv = { ...process.env };
  delete termEnv.CI;
  delete termEnv.CONTINUOUS_INTEGRATION;
  const tmux = (...a: string[]) => execFileSync('tmux', ['-L', session, ...a], { encoding: 'utf8', env: termEnv });
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', `${process.execPath} ${CLI} status --watch --config ${node.configFile}`);
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      /* already gone */
    }
  });
  const pane = () => tmux('capture-pane', '-p', '-t', session);
  await waitFor(() => /alpha\s+running/.test(pane()), { timeoutMs: 20_000, message: 'tmux: table' });
  tmux('send-keys', '-t', session, 'Enter');
  await waitFor(() => /alpha — running/.test(pane()) && /FFMPEG/.test(pane()), { timeoutMs: 10_000, message: 'tmux: details' });
  tmux('send-keys', '-t', session, 'Escape');
  await waitFor(() => /STREAM\s+STATE/.test(pane()), { timeoutMs: 10_000, message: 'tmux: back to the table' });
  tmux('send-keys', '-t', session, 'q');
  await waitFor(() => {
    try {
      tmux('has-session', '-t', session);
      return false;
    } catch {
      return true;
    }
  }, { timeoutMs: 10_000, message: 'tmux: q quits' });
});

test('sparkline scales to the window maximum', () => {
  assert.equal(sparkline([0, 50, 100], 3), '▁▅█');
  assert.equal(sparkline([], 4), '    ');
});
