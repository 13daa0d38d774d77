/**
 * publish://: the node pipes a publisher's MPEG-TS into POST /ingest on the supervisor socket.
 * One publisher at a time (409 for a second); the body's end = publisher gone; a new publisher
 * goes on in the same playlist after a discontinuity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { expectLive, ffmpegTestSource, readPlaylist, startSupervisorProc, tempEnv, unixRequest, waitFor, writeSpec } from './supervisor-helpers.js';
import type { TestContext } from 'node:test';

function publish(t: TestContext, sock: string): { req: http.ClientRequest; reply: Promise<{ status: number; body: string }>; stop(): Promise<void> } {
  const src = ffmpegTestSource(t, '-');
  const req = http.request({ socketPath: sock, method: 'POST', path: '/ingest', headers: { 'content-type': 'video/mp2t' } });
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  src.stdout!.pipe(req);
  reply.catch(() => {}); // the supervisor may go away first at the test's end
  return {
    req,
    reply,
    stop: async () => {
      src.stdout!.unpipe(req);
      req.end();
      await src.stop();
    },
  };
}

test('publish: POST /ingest → segments; a second publisher gets 409; publisher gone → waiting; a new one resumes', async (t) => {
  const env = await tempEnv(t);
  const { file, stream } = await writeSpec(env, 'live/pub', { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s' } });
  const sup = await startSupervisorProc(t, env, file, 'live/pub');
  await new Promise((r) => setTimeout(r, 300));
  const s0 = await sup.status();
  assert.ok(s0.state === 'starting' || s0.state === 'waiting');

  const p1 = publish(t, sup.sock);
  const { status } = await expectLive(sup, stream, { audio: true });
  assert.deepEqual(status.ffmpeg, []);
  assert.ok(status.events.some((e) => e.type === 'publish'));

  const second = await unixRequest(sup.sock, 'POST', '/ingest', Buffer.alloc(188 * 10, 0x47));
  assert.equal(second.status, 409);
  assert.match(second.body, /already has a publisher/);

  const before = (await readPlaylist(stream))!.entries.at(-1)!.msn;
  await p1.stop();
  const r1 = await p1.reply;
  assert.equal(r1.status, 200);
  assert.ok(JSON.parse(r1.body).bytes > 10_000);
  const waiting = await waitFor('waiting for a publisher', async () => {
    const s = await sup.status();
    return s.state === 'waiting' ? s : null;
  }, 10_000);
  assert.match(waiting.lastError ?? '', /waiting for a publisher/);
  assert.ok(waiting.events.some((e) => e.type === 'unpublish'));

  const p2 = publish(t, sup.sock);
  t.after(() => p2.stop());
  const pl = await waitFor('segments from the second publisher', async () => {
    const p = await readPlaylist(stream);
    return p && p.entries.at(-1)!.msn >= before + 3 ? p : null;
  }, 20_000);
  assert.ok(pl.entries.some((e) => e.msn > before && e.discontinuity), 'discontinuity for the new publisher');
  for (let k = 1; k < pl.entries.length; k++) assert.equal(pl.entries[k]!.msn, pl.entries[k - 1]!.msn + 1);
  await waitFor('running again', async () => (await sup.status()).state === 'running', 5000);
});

test('publish into a transcoded stream (two renditions) long after start: no false source_timeout restart, no stale error', async (t) => {
  const env = await tempEnv(t);
  const { file, stream } = await writeSpec(env, 'studio', {
    inputs: [{ url: 'publish://', source_timeout: '2s' }],
    transcoder: { video: [{ bitrate: '200k', size: '160x120' }, { bitrate: '100k', size: '96x72' }], audio: { bitrate: '48k' } },
    hls: { segment_duration: '1s' },
  });
  const sup = await startSupervisorProc(t, env, file, 'studio');
  // the transcoder is spawned now and idles on an empty stdin for longer than source_timeout + start-up grace
  await new Promise((r) => setTimeout(r, 9000));
  assert.equal((await sup.status()).restarts, 0);
  const p = publish(t, sup.sock);
  t.after(() => p.stop());
  const { status } = await expectLive(sup, stream, { audio: true, timeoutMs: 30_000 });
  assert.equal(status.restarts, 0, JSON.stringify(status.events));
  assert.ok(!status.events.some((e) => e.type === 'restart'), JSON.stringify(status.events));
  assert.equal(status.lastError, null);
  assert.equal(status.inputs[0]!.lastError, null);
  assert.equal(status.ffmpeg.length, 1);
});
