/**
 * `flux stream args NAME --live` asks the node API (GET /api/v3/streams/NAME/ffmpeg), never a
 * supervisor's private socket: the command lines are those of the ffmpeg the supervisor runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeStream, publishStream, runCli, startNode, tempDir, waitFor } from '../helpers/index.js';

test('stream args --live: the running ffmpeg command lines through the node API', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { 'cams/a': fakeStream(), idle: publishStream({ disabled: true }) } });

  const doc = await waitFor(async () => {
    const r = await node.api('GET', '/api/v3/streams/cams/a/ffmpeg');
    const j = r.json as { ffmpeg?: { args: string[] }[] } | undefined;
    return r.status === 200 && j?.ffmpeg?.length ? (j as { stream: string; pid: number; ffmpeg: { role: string; pid: number; input: number | null; args: string[] }[] }) : undefined;
  }, { timeoutMs: 30_000, message: 'an ffmpeg child of cams/a' });
  assert.equal(doc.stream, 'cams/a');
  assert.ok(doc.pid > 0);
  assert.ok(doc.ffmpeg.every((f) => f.pid > 0 && Array.isArray(f.args)));
  assert.ok(doc.ffmpeg.some((f) => f.args.some((a) => a.includes('testsrc'))), JSON.stringify(doc.ffmpeg));

  const r = await node.cli(['stream', 'args', 'cams/a', '--live', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.source, 'live');
  assert.equal(r.json.stream, 'cams/a');
  assert.ok(r.json.lines.length >= 1);
  assert.ok(r.json.lines.some((l: { command: string }) => /^ffmpeg .*testsrc/.test(l.command)), r.stdout);

  const text = await node.cli(['stream', 'args', 'cams/a', '--live']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^# \w+\nffmpeg /m);

  // a stream the node does not run: 409 from the API, exit 1 with one line; an unknown one: 404
  const idle = await node.cli(['stream', 'args', 'idle', '--live']);
  assert.equal(idle.code, 1);
  assert.match(idle.stderr, /not running/);
  const none = await node.cli(['stream', 'args', 'nope', '--live']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /not found/);

  // no node: exit 4
  await node.stop();
  const down = await runCli(['stream', 'args', 'cams/a', '--live', '--config', node.configFile], { cwd: dir });
  assert.equal(down.code, 4, down.stderr);
});
