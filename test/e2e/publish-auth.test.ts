/**
 * Publish authorization backend (publish_backend / on_publish) for RTMP and SRT publishers on a
 * real node, with a real backend written here: allowed keys get in, denied ones do not, a backend
 * that is down denies; the backend sees Flussonic's parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import httpMod from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, publishStream, sleep, startNode, tempDir, waitFor } from '../helpers/index.js';

function publisher(t: { after(fn: () => unknown): void }, url: string, format: 'flv' | 'mpegts', seconds = 30): ChildProcess & { exited: Promise<number | null> } {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=10:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10', '-f', format, url];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { exited: Promise<number | null> };
  child.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

test('publish backend: RTMP and SRT publishers allowed or denied by the backend; backend down denies', { timeout: 150_000 }, async (t) => {
  const asked: Record<string, string>[] = [];
  const backend = httpMod.createServer((req, res) => {
    const q = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
    asked.push(q);
    if (q.token === 'brief') {
      // allowed for 2 s, then withdrawn on the re-check
      if (q.request_number === '1') res.writeHead(200, { 'X-AuthDuration': '2' }).end();
      else res.writeHead(403).end();
      return;
    }
    res.writeHead(q.token === 'letmein' ? 200 : 403).end();
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  t.after(() => backend.close());
  const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/publish`;

  const dir = await tempDir(t);
  const [rtmp, srt] = [await freePort(), await freePort()];
  const node = await startNode(t, {
    dir,
    server: { rtmp, srt },
    streams: {
      rtmpok: publishStream(),
      rtmpno: publishStream(),
      srtok: publishStream(),
      srtno: publishStream(),
      down: publishStream({ auth: { on_publish: 'http://127.0.0.1:1/publish' } }),
      brief: publishStream(),
    },
    extra: { auth: { publish_backend: url, play_backend_timeout: '1s' } },
  });

  // denied: wrong token (RTMP exits non-zero; SRT delivers nothing); backend down
  const rtmpDenied = publisher(t, `rtmp://127.0.0.1:${rtmp}/live/rtmpno?token=nope`, 'flv', 5);
  const downDenied = publisher(t, `rtmp://127.0.0.1:${rtmp}/live/down?token=letmein`, 'flv', 5);
  publisher(t, `srt://127.0.0.1:${srt}?streamid=${encodeURIComponent('#!::r=srtno,m=publish,key=nope')}`, 'mpegts', 20);
  assert.notEqual(await rtmpDenied.exited, 0);
  assert.notEqual(await downDenied.exited, 0);

  // allowed
  publisher(t, `rtmp://127.0.0.1:${rtmp}/live/rtmpok?token=letmein`, 'flv');
  publisher(t, `srt://127.0.0.1:${srt}?streamid=${encodeURIComponent('#!::r=srtok,m=publish,key=letmein')}`, 'mpegts');
  for (const name of ['rtmpok', 'srtok']) {
    await waitFor(async () => (await node.stream(name)).stats.alive, { timeoutMs: 40_000, message: `${name} alive from its publisher` });
  }
  await sleep(1000);
  assert.equal((await node.stream('rtmpno')).stats.alive, false);
  assert.equal((await node.stream('srtno')).stats.alive, false, 'the denied SRT publisher delivers nothing');
  assert.equal((await node.stream('down')).stats.alive, false);

  const byName = (n: string) => asked.filter((q) => q.name === n);
  const ok = byName('rtmpok')[0]!;
  assert.equal(ok.proto, 'rtmp');
  assert.equal(ok.token, 'letmein');
  assert.equal(ok.ip, '127.0.0.1');
  assert.equal(ok.request_type, 'new_session');
  assert.ok(ok.session_id);
  assert.equal(byName('srtok')[0]!.proto, 'srt');
  assert.equal(byName('srtok')[0]!.token, 'letmein');
  assert.ok(byName('srtno').length >= 1 && byName('srtno').every((q) => q.token === 'nope'));
  assert.equal(byName('down').length, 0, 'the stream\'s own on_publish (down) was asked, not the node\'s');

  // re-asked every X-AuthDuration while publishing: a withdrawn allow disconnects the publisher
  const t0 = Date.now();
  const brief = publisher(t, `rtmp://127.0.0.1:${rtmp}/live/brief?token=brief`, 'flv', 60);
  await waitFor(async () => (await node.stream('brief')).stats.alive, { timeoutMs: 40_000, message: 'brief alive' });
  await brief.exited;
  assert.ok(Date.now() - t0 < 45_000, 'disconnected long before its 60 s of media');
  const briefAsked = byName('brief');
  assert.ok(briefAsked.length >= 2, JSON.stringify(briefAsked));
  assert.equal(briefAsked[1]!.request_type, 'update_session');
  assert.equal(briefAsked[1]!.session_id, briefAsked[0]!.session_id);
});
