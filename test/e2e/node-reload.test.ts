/**
 * Hot reload: the node watches its config file; a valid change is applied with least disruption
 * (only changed streams restart), an invalid one is refused and the running config kept.
 * POST /api/v3/config/reload does the same on demand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { pidAlive, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';

test('hot reload adds, removes and restarts only changed streams; refuses invalid files', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: { keep: publishStream(), gone: publishStream() } });
  const server = { http: node.httpPort, host: '127.0.0.1', rtmp: false, data_dir: './data', run_dir: './run' };
  const names = async () => ((await node.api('GET', '/api/v3/streams')).json as { streams: { name: string }[] }).streams.map((s) => s.name);
  const supPid = async (n: string) => (await node.stream(n)).stats.supervisor?.pid ?? undefined;
  const keepPid = await waitFor(() => supPid('keep'), { message: 'keep supervisor' });
  const gonePid = await waitFor(() => supPid('gone'), { message: 'gone supervisor' });

  // add one stream, remove another, leave one unchanged: only the differences move
  await writeFile(node.configFile, '# edited by hand\n' + stringify({ server, streams: { keep: publishStream(), added: publishStream() } }));
  await waitFor(async () => (await names()).join() === 'added,keep', { timeoutMs: 15_000, message: 'the reload (added, keep)' });
  const addedPid = await waitFor(() => supPid('added'), { message: 'added supervisor' });
  assert.ok(await pidAlive(addedPid));
  await waitFor(async () => !(await pidAlive(gonePid)), { message: 'the removed stream\'s supervisor to stop' });
  assert.equal(await supPid('keep'), keepPid, 'unchanged stream not restarted');
  assert.ok(await pidAlive(keepPid));

  // an invalid change is refused: errors logged, the running config kept
  const good = await readFile(node.configFile, 'utf8');
  await writeFile(node.configFile, good + '  broken:\n    inputz: []\n');
  await waitFor(async () => (await node.info()).reloads.failed >= 1, { timeoutMs: 15_000, message: 'the refused reload' });
  const info = await node.info();
  assert.match(info.reloads.last_error ?? '', /flux\.yaml:\d+:\d+: unknown key "inputz"/);
  assert.equal((await names()).join(), 'added,keep');
  assert.equal(await supPid('keep'), keepPid);
  const log = await readFile(`${dir}/data/node.log`, 'utf8');
  assert.match(log, /config change refused \(invalid\)/);

  // on-demand reload answers the errors with positions
  const refused = await node.api('POST', '/api/v3/config/reload');
  assert.equal(refused.status, 400);
  const errs = (refused.json as { errors: { line: number; col: number; error: string }[] }).errors;
  assert.ok(errs.some((e) => e.line > 1 && e.col > 0 && /inputz/.test(e.error)), JSON.stringify(errs));

  // a changed stream restarts, the others keep running
  await writeFile(node.configFile, stringify({ server, streams: { keep: publishStream(), added: publishStream({ hls: { segment_duration: '2s' } }) } }));
  const r = await node.api('POST', '/api/v3/config/reload');
  assert.equal(r.status, 200, r.text);
  const changes = (r.json as { changes: Record<string, string[]> }).changes;
  // the watcher may have applied the change first: then this reload finds nothing to do
  const restarted = [...changes.restarted!];
  if (!restarted.length) assert.deepEqual(changes.unchanged, ['added', 'keep']);
  const newAdded = await waitFor(async () => {
    const p = await supPid('added');
    return p && p !== addedPid ? p : undefined;
  }, { timeoutMs: 15_000, message: 'added restarted with its new spec' });
  assert.ok(await pidAlive(newAdded));
  assert.equal(await pidAlive(addedPid), false);
  assert.equal(await supPid('keep'), keepPid, 'keep untouched');

  // after an API edit (the file is replaced by a rename), hand edits are still watched
  const put = await node.api('PUT', '/api/v3/streams/viaapi', publishStream());
  assert.equal(put.status, 200, put.text);
  const text = await readFile(node.configFile, 'utf8');
  assert.match(text, /viaapi:/);
  await writeFile(node.configFile, text.replace(/^ {2}keep:/m, '  kept:'));
  await waitFor(async () => (await names()).join() === 'added,kept,viaapi', { timeoutMs: 15_000, message: 'the hand edit after an API edit' });
});
