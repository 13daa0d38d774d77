/**
 * Publishing into a node: RTMP (native listener) and SRT (one port, Stream ID selects the stream),
 * both piped into the stream's supervisor (POST /ingest); authorization by config and publish key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, http, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';
import { socketRequest } from '../../src/protocol/socket-http.js';
import type { SupervisorStatus } from '../../src/protocol/supervisor-status.js';
import { runFiles } from '../../src/daemons/stream/spec.js';

function publisher(t: { after(fn: () => unknown): void }, url: string, format: 'flv' | 'mpegts', seconds = 30): ChildProcess & { exited: Promise<number | null> } {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=10:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=800:duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10',
    '-c:a', 'aac', '-b:a', '64k', '-f', format, url];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { exited: Promise<number | null> };
  child.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

test('RTMP and SRT publish into publish:// streams, with authorization', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const [rtmp, srt] = [await freePort(), await freePort()];
  const node = await startNode(t, {
    dir,
    server: { rtmp, srt },
    streams: { live: publishStream(), secret: publishStream({ auth: { publish_password: 'k1' } }), 'cams/srt': publishStream() },
  });
  const info = await node.info();
  assert.equal(info.rtmp, rtmp);
  assert.equal(info.srt, srt);

  // refused: unknown stream, wrong key
  const unknown = publisher(t, `rtmp://127.0.0.1:${rtmp}/live/nope`, 'flv', 5);
  const wrongKey = publisher(t, `rtmp://127.0.0.1:${rtmp}/live/secret?key=bad`, 'flv', 5);
  assert.notEqual(await unknown.exited, 0);
  assert.notEqual(await wrongKey.exited, 0);
  const log = await readFile(`${dir}/data/node.log`, 'utf8');
  assert.match(log, /no stream matches rtmp app .*rtmp publish refused/);
  assert.match(log, /wrong or missing publish key for .*secret.*rtmp publish refused/);

  // accepted: rtmp://host/live/NAME, and the key when the stream has one
  publisher(t, `rtmp://127.0.0.1:${rtmp}/live/live`, 'flv');
  publisher(t, `rtmp://127.0.0.1:${rtmp}/live/secret?key=k1`, 'flv');
  publisher(t, `srt://127.0.0.1:${srt}?streamid=${encodeURIComponent('#!::r=cams/srt,m=publish')}`, 'mpegts');
  for (const name of ['live', 'secret', 'cams/srt']) {
    await waitFor(async () => (await node.stream(name)).stats.alive, { timeoutMs: 30_000, message: `${name} alive from its publisher` });
  }
  const playlist = await waitFor(async () => {
    const r = await http(`${node.baseUrl}/live/tracks-v1a1/index.m3u8`);
    return r.status === 200 && /\.ts/.test(r.text) ? r.text : undefined;
  }, { timeoutMs: 20_000, message: 'a live playlist with segments' });
  assert.match(playlist, /#EXTINF/);
  const mi = (await node.stream('cams/srt')).stats.media_info as { width?: number } | null;
  assert.equal(mi?.width, 160);
  // the SRT publisher's TS pipe (its ffmpeg's stdout) is the supervisor's: the TS does not cross the agent
  const srtSup = runFiles(node.runDir, 'cams/srt').sock;
  const srtStatus = (await socketRequest(srtSup, '/status', { timeoutMs: 5000 })).json as SupervisorStatus;
  assert.equal(srtStatus.publisher?.via, 'ts-handoff');
  assert.match(srtStatus.publisher?.remote ?? '', /^srt 127\.0\.0\.1:\d+$/);
});

test('SRT listener input: publish into one stream with latency and passphrase; a wrong passphrase gets nothing in', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const [good, locked] = [await freePort(), await freePort()];
  const pass = 'correcthorsebattery';
  const srtIn = (port: number) => ({
    inputs: [{ url: `srt://127.0.0.1:${port}`, srt_mode: 'listener', srt_latency: '200ms', srt_passphrase: pass }],
    hls: { segment_duration: '1s' },
  });
  const node = await startNode(t, { dir, streams: { enc: srtIn(good), locked: srtIn(locked) } });
  await waitFor(async () => (await node.stream('enc')).stats.ffmpeg?.length, { timeoutMs: 20_000, message: 'the listener ffmpeg runs' });

  const caller = (port: number, passphrase: string) =>
    publisher(t, `srt://127.0.0.1:${port}?mode=caller&passphrase=${passphrase}&pbkeylen=16`, 'mpegts');
  caller(good, pass);
  caller(locked, 'awrongpassphrase');
  await waitFor(async () => (await node.stream('enc')).stats.alive, { timeoutMs: 40_000, message: 'enc alive from an encrypted SRT publisher' });
  const mi = (await node.stream('enc')).stats.media_info as { width?: number } | null;
  assert.equal(mi?.width, 160);
  const lockedStats = (await node.stream('locked')).stats;
  assert.equal(lockedStats.alive, false, 'a caller with the wrong passphrase delivers no media');
});

test('RTMP handoff: the supervisor reads the publisher\'s socket, survives the agent, and a re-adopted one takes TS over HTTP', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const rtmp = await freePort();
  const node = await startNode(t, { dir, server: { rtmp }, streams: { live: publishStream() } });
  const supStatus = async (): Promise<SupervisorStatus> => (await socketRequest(path.join(node.runDir, 'streams', 'live.sock'), '/status', { timeoutMs: 5000 })).json as SupervisorStatus;

  const first = publisher(t, `rtmp://127.0.0.1:${rtmp}/live/live`, 'flv', 60);
  await waitFor(async () => (await node.stream('live')).stats.alive, { timeoutMs: 30_000, message: 'live alive from its publisher' });
  assert.equal((await supStatus()).publisher?.via, 'rtmp-handoff', 'handed to the supervisor');
  const events = (await node.stream('live')).stats.events;
  assert.ok(events.some((e) => e.type === 'publish'), 'publish event relayed by the node');

  // a second publisher: refused
  const second = publisher(t, `rtmp://127.0.0.1:${rtmp}/live/live`, 'flv', 5);
  assert.notEqual(await second.exited, 0);

  // the agent dies: the handed-over publisher goes on (its socket is the supervisor's)
  const bytes = (await supStatus()).publisher!.bytes;
  node.kill();
  await waitFor(async () => {
    const p = (await supStatus()).publisher;
    return p !== undefined && p.bytes > bytes + 20_000;
  }, { timeoutMs: 15_000, message: 'TS still flowing without the agent' });
  assert.equal(first.exitCode, null);

  // a new agent adopts the supervisor, which has no channel: a new publisher goes over HTTP
  await node.restart();
  assert.equal((await node.stream('live')).stats.supervisor?.adopted, true);
  first.kill('SIGKILL');
  await waitFor(async () => (await supStatus()).publisher === undefined, { timeoutMs: 40_000, message: 'the first publisher gone' });
  publisher(t, `rtmp://127.0.0.1:${rtmp}/live/live`, 'flv', 60);
  await waitFor(async () => (await supStatus()).publisher?.via === 'http', { timeoutMs: 30_000, message: 'the fallback over HTTP' });
  await waitFor(async () => (await node.stream('live')).stats.alive, { timeoutMs: 30_000, message: 'alive again' });
});
