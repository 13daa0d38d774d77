/**
 * tshttp:// native passthrough: a tiny node HTTP server answers GET /live.ts with an endless
 * MPEG-TS body from an ffmpeg pipe. The supervisor reconnects when the body breaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectLive, ffmpegTestSource, readPlaylist, startSupervisorProc, tempEnv, waitFor, writeSpec } from './supervisor-helpers.js';

test('tshttp: endless HTTP MPEG-TS body → segments; a broken body reconnects; 404 is a clear lastError', async (t) => {
  const env = await tempEnv(t);
  const conns = new Set<http.ServerResponse>();
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (req.url !== '/live.ts') {
      res.writeHead(404).end('no');
      return;
    }
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    const src = ffmpegTestSource(t, '-');
    src.stdout!.pipe(res);
    conns.add(res);
    res.on('close', () => {
      conns.delete(res);
      void src.stop();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => {
    for (const c of conns) c.destroy();
    server.close(() => r());
  }));
  const port = (server.address() as AddressInfo).port;

  const { file, stream } = await writeSpec(env, 'tsh', { inputs: [{ url: `tshttp://127.0.0.1:${port}/live.ts` }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'tsh');
  const { status } = await expectLive(sup, stream, { audio: true });
  assert.deepEqual(status.ffmpeg, [], 'passthrough needs no ffmpeg');
  assert.equal(requests, 1);

  // break the body: the source reconnects (a new epoch → discontinuity in the playlist)
  const before = (await readPlaylist(stream))!.entries.at(-1)!.msn;
  for (const c of conns) c.destroy();
  await waitFor('reconnect', () => requests >= 2, 5000);
  const pl = await waitFor('segments after reconnect', async () => {
    const p = await readPlaylist(stream);
    return p && p.entries.at(-1)!.msn >= before + 3 ? p : null;
  }, 15_000);
  assert.ok(pl.entries.some((e) => e.msn > before && e.discontinuity), 'discontinuity after the reconnect');
  for (let k = 1; k < pl.entries.length; k++) assert.equal(pl.entries[k]!.msn, pl.entries[k - 1]!.msn + 1);
  assert.equal((await sup.status()).state, 'running');
});

test('tshttp: a 404 source gives a clear lastError and retries slowly', async (t) => {
  const env = await tempEnv(t);
  let requests = 0;
  const server = http.createServer((_req, res) => {
    requests++;
    res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const { file } = await writeSpec(env, 'tsh404', { inputs: [{ url: `tshttp://127.0.0.1:${port}/missing.ts`, source_timeout: '1s' }] });
  const sup = await startSupervisorProc(t, env, file, 'tsh404');
  const st = await waitFor('lastError', async () => {
    const s = await sup.status();
    return s.lastError ? s : null;
  }, 5000);
  assert.match(st.lastError!, /HTTP 404/);
  assert.match(st.inputs[0]!.lastError!, /HTTP 404/);
  await new Promise((r) => setTimeout(r, 3500));
  // backoff 0.5 + 1 + 2 s: at most 4 requests in ~4 s, not a tight loop
  assert.ok(requests >= 2 && requests <= 5, `requests ${requests}`);
  const s2 = await sup.status();
  assert.equal(s2.state, 'waiting');
});
