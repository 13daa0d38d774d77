/**
 * Native RTMP ingest against the real ffmpeg: publish, authorization, one publisher per stream,
 * hostile clients next to a good publisher, app-only URLs. Output validated with ffprobe/ffmpeg.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeAmf0 } from '../../src/media/rtmp/amf0.js';
import { ChunkWriter, MessageType } from '../../src/media/rtmp/chunk.js';
import { clientHandshakeStart } from '../../src/media/rtmp/handshake.js';
import {
  createReadableSink,
  rtmpStreamCandidates,
  startRtmpServer,
  type RtmpPublishAttempt,
  type RtmpServer,
} from '../../src/daemons/node/rtmp-server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'flux-rtmp-e2e-'));
const children = new Set<ChildProcess>();
const servers: RtmpServer[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** streams that may be published, with their key (undefined = no key needed) */
const STREAMS: Record<string, string | undefined> = { test: 'secret', open: undefined };

interface Publication {
  stream: string;
  chunks: Buffer[];
  ended: Promise<string>;
  endCount: number;
}

async function server(extra: Partial<Parameters<typeof startRtmpServer>[0]> = {}) {
  const attempts: RtmpPublishAttempt[] = [];
  const publications: Publication[] = [];
  const srv = await startRtmpServer({
    host: '127.0.0.1',
    port: 0,
    handshakeTimeoutMs: 1000,
    idleTimeoutMs: 5000,
    authorize: async (req) => {
      attempts.push(req);
      await new Promise((r) => setTimeout(r, 10)); // really asynchronous
      for (const name of rtmpStreamCandidates(req.app, req.name)) {
        if (!(name in STREAMS)) continue;
        const key = STREAMS[name];
        if (key !== undefined && req.params.key !== key && req.params.password !== key) {
          return { ok: false, reason: `wrong key for ${name}` };
        }
        return { ok: true, stream: name };
      }
      return { ok: false, reason: 'no such stream' };
    },
    onPublish: (stream) => {
      let resolve!: (r: string) => void;
      const pub: Publication = { stream, chunks: [], ended: new Promise((r) => (resolve = r)), endCount: 0 };
      publications.push(pub);
      return {
        write: (ts) => {
          pub.chunks.push(ts);
        },
        end: (reason) => {
          pub.endCount++;
          resolve(reason);
        },
      };
    },
    ...extra,
  });
  servers.push(srv);
  return { srv, attempts, publications };
}

function ffmpegPublish(url: string, seconds: number): { done: Promise<{ code: number | null; stderr: string }>; proc: ChildProcess } {
  const proc = spawn(
    'ffmpeg',
    [
      '-nostdin', '-v', 'error', '-re',
      '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
      '-f', 'lavfi', '-i', 'sine',
      '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'veryfast', '-g', '25',
      '-c:a', 'aac',
      '-f', 'flv', url,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(proc);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    proc.on('close', (code) => {
      children.delete(proc);
      resolve({ code, stderr });
    }),
  );
  return { done, proc };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Connects, runs `act`, resolves with how long the server took to close the connection. */
function hostileClient(port: number, act: (s: net.Socket) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const start = Date.now();
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('connect', () => act(s));
    s.on('close', () => resolve(Date.now() - start));
    setTimeout(() => {
      s.destroy();
      reject(new Error('server did not close a hostile connection'));
    }, 8000).unref();
  });
}

function validate(ts: Buffer, name: string, seconds: number) {
  const file = path.join(dir, name);
  writeFileSync(file, ts);
  const p = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]);
  assert.equal(p.status, 0);
  assert.equal(p.stderr.toString(), '', 'ffprobe reports no errors');
  const info = JSON.parse(p.stdout.toString()) as {
    streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
    format: { duration: string; format_name: string };
  };
  assert.equal(info.format.format_name, 'mpegts');
  const v = info.streams.find((s) => s.codec_type === 'video');
  const a = info.streams.find((s) => s.codec_type === 'audio');
  assert.deepEqual([v?.codec_name, v?.width, v?.height], ['h264', 320, 240]);
  assert.equal(a?.codec_name, 'aac');
  const duration = Number(info.format.duration);
  assert.ok(Math.abs(duration - seconds) < 0.5, `duration ${duration} s, expected ~${seconds} s`);
  const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(dec.status, 0);
  assert.equal(dec.stderr.toString(), '', 'decodes without errors');
}

test('ffmpeg publishes H.264+AAC; wrong key, busy name and hostile clients are refused without disturbing it', async () => {
  const { srv, attempts, publications } = await server({ publishTimeoutMs: 2500 });
  const port = srv.port;

  const good = ffmpegPublish(`rtmp://127.0.0.1:${port}/live/test?key=secret`, 4);
  await waitFor(() => srv.sessions().some((s) => s.stream === 'test' && s.phase === 'publishing' && s.tsBytes > 0), 10_000, 'the publisher');

  // hostile and broken clients, all at once, while the good one publishes
  const hostile = Promise.all([
    hostileClient(port, (s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
    hostileClient(port, (s) => {
      const junk = Buffer.alloc(6000);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 0xff;
      junk[0] = 3; // looks like RTMP: handshake completes, then garbage chunks
      s.write(junk);
    }),
    hostileClient(port, () => {}), // connects and says nothing
    hostileClient(port, (s) => {
      // slowloris: a byte of handshake every 200 ms
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(Buffer.from([3]))), 200);
      s.on('close', () => clearInterval(t));
    }),
    hostileClient(port, (s) => {
      // a real RTMP client that connects, keeps pinging, and never publishes
      const w = new ChunkWriter();
      s.write(Buffer.concat([clientHandshakeStart(), Buffer.alloc(1536)]));
      s.write(w.write({ csid: 3, type: MessageType.CommandAmf0, streamId: 0, timestamp: 0, payload: encodeAmf0('connect', 1, { app: 'live' }) }));
      const ping = Buffer.from([0, 6, 0, 0, 0, 0]);
      const t = setInterval(() => {
        if (s.destroyed) return clearInterval(t);
        s.write(w.write({ csid: 2, type: MessageType.UserControl, streamId: 0, timestamp: 0, payload: ping }));
      }, 200);
      s.on('close', () => clearInterval(t));
    }),
    hostileClient(port, (s) => {
      // valid handshake start, then an abrupt reset
      s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
      setTimeout(() => s.resetAndDestroy(), 100);
    }),
  ]);

  const wrongKey = ffmpegPublish(`rtmp://127.0.0.1:${port}/live/test?key=nope`, 2);
  const second = ffmpegPublish(`rtmp://127.0.0.1:${port}/live/test?key=secret`, 2);
  const unknown = ffmpegPublish(`rtmp://127.0.0.1:${port}/live/nosuch`, 2);

  const [w, s, u] = await Promise.all([wrongKey.done, second.done, unknown.done]);
  assert.notEqual(w.code, 0, 'wrong key: ffmpeg fails');
  assert.match(w.stderr, /wrong key/);
  assert.notEqual(s.code, 0, 'second publisher: ffmpeg fails');
  assert.match(s.stderr, /already being published/);
  assert.notEqual(u.code, 0);

  const closedAfter = await hostile;
  // silent and slow clients are cut by the 1 s handshake timeout, the others at once
  for (const ms of closedAfter) assert.ok(ms < 4000, `hostile connection closed after ${ms} ms`);
  assert.ok(closedAfter[2]! >= 900, 'the silent client was given its handshake time');
  assert.ok(closedAfter[4]! >= 2400, 'the client that never publishes was given its publish time');

  // the first publisher is still the one publishing, undisturbed
  const live = srv.sessions().filter((x) => x.stream === 'test');
  assert.equal(live.length, 1);
  assert.equal(live[0]!.phase, 'publishing');

  const g = await good.done;
  assert.equal(g.code, 0, g.stderr);
  assert.equal(publications.length, 1, 'only the first publisher reached onPublish');
  const pub = publications[0]!;
  const reason = await pub.ended;
  assert.match(reason, /FCUnpublish|deleteStream|disconnected/);
  await waitFor(() => srv.sessions().length === 0, 3000, 'all sessions to go');
  assert.equal(pub.endCount, 1);
  assert.equal(pub.stream, 'test');

  const main = attempts.find((a) => a.params.key === 'secret')!;
  assert.deepEqual([main.app, main.name, main.query], ['live', 'test', 'key=secret']);
  assert.equal(main.remoteAddress, '127.0.0.1');

  const ts = Buffer.concat(pub.chunks);
  assert.equal(ts.length % 188, 0);
  validate(ts, 'publish.ts', 4);
});

test('an app-only URL (rtmp://host/NAME) publishes to NAME', async () => {
  const { srv, attempts, publications } = await server();
  const p = ffmpegPublish(`rtmp://127.0.0.1:${srv.port}/open`, 2);
  const r = await p.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(attempts.length, 1);
  // FFmpeg puts the only path segment in the app
  assert.deepEqual([attempts[0]!.app, attempts[0]!.name], ['open', '']);
  assert.deepEqual(rtmpStreamCandidates(attempts[0]!.app, attempts[0]!.name), ['open']);
  assert.deepEqual(rtmpStreamCandidates('live/cams', 'door'), ['live/cams/door', 'cams/door', 'door']);
  assert.deepEqual(rtmpStreamCandidates('live', 'NAME'), ['live/NAME', 'NAME']);
  assert.deepEqual(rtmpStreamCandidates('', ''), []);
  assert.equal(publications.length, 1);
  assert.equal(publications[0]!.stream, 'open');
  await publications[0]!.ended;
  validate(Buffer.concat(publications[0]!.chunks), 'apponly.ts', 2);
});

test('an idle publisher is dropped and its sink ended; the server closes cleanly', async () => {
  const { srv, publications } = await server({ idleTimeoutMs: 800 });
  const p = ffmpegPublish(`rtmp://127.0.0.1:${srv.port}/live/open`, 30);
  await waitFor(() => publications.length === 1 && publications[0]!.chunks.length > 0, 10_000, 'the publisher');
  // freeze ffmpeg: the socket goes quiet
  p.proc.kill('SIGSTOP');
  const reason = await publications[0]!.ended;
  assert.equal(reason, 'idle timeout');
  p.proc.kill('SIGKILL');
  await p.done;
  await srv.close();
  assert.deepEqual(srv.sessions(), []);
  // closing twice is harmless
  await srv.close();
});

test('createReadableSink: backpressure towards a slow consumer, and a consumer that quits ends the publication', async () => {
  const ends: string[] = [];
  const waits: number[] = [];
  const received: Buffer[][] = [];
  let n = 0;
  const srv = await startRtmpServer({
    host: '127.0.0.1',
    port: 0,
    authorize: (req) => ({ ok: true, stream: req.name }),
    onPublish: (_stream, publisher) => {
      // batching off: a write per TS run, so the tiny high-water mark is reached at once
      const { sink, readable } = createReadableSink(2048, { ms: 0 });
      const idx = n++;
      const mine: Buffer[] = [];
      received.push(mine);
      void (async () => {
        let bytes = 0;
        for await (const chunk of readable) {
          mine.push(chunk as Buffer);
          bytes += (chunk as Buffer).length;
          await new Promise((r) => setTimeout(r, 2)); // slow reader
          if (idx === 1 && bytes > 30_000) {
            readable.destroy(); // the consumer gives up
            return;
          }
        }
      })();
      return { write: (b) => sink.write(b), end: (r) => ((waits[idx] = publisher.info().sinkWaits), (ends[idx] = r), sink.end(r)), waitDrain: () => sink.waitDrain!() };
    },
  });
  servers.push(srv);
  const slow = ffmpegPublish(`rtmp://127.0.0.1:${srv.port}/live/slow`, 2);
  const r = await slow.done;
  assert.equal(r.code, 0, r.stderr);
  await waitFor(() => ends[0] !== undefined, 3000, 'the end of the first publication');
  validate(Buffer.concat(received[0]!), 'readable.ts', 2);
  assert.ok(waits[0]! > 0, 'the server waited for the slow consumer');

  const quitter = ffmpegPublish(`rtmp://127.0.0.1:${srv.port}/live/quitter`, 20);
  await waitFor(() => ends[1] !== undefined, 10_000, 'the publication to end when its consumer quits');
  assert.match(ends[1]!, /sink failed: TS consumer is gone/);
  const q = await quitter.done;
  assert.notEqual(q.code, 0, 'the publisher was disconnected');
  await waitFor(() => srv.sessions().length === 0, 3000, 'sessions to go');
});

test('createReadableSink batches the remuxer\'s small TS runs: ~25 writes a second, the same bytes', async () => {
  const runs: { sink: number; out: Buffer[]; ended?: boolean }[] = [];
  const srv = await startRtmpServer({
    host: '127.0.0.1',
    port: 0,
    authorize: (req) => ({ ok: true, stream: req.name }),
    onPublish: () => {
      const batched = runs.length === 0;
      const rec = { sink: 0, out: [] as Buffer[], ended: false };
      runs.push(rec);
      const { sink, readable } = createReadableSink(undefined, batched ? {} : { ms: 0 });
      readable.on('data', (c: Buffer) => rec.out.push(c));
      readable.on('end', () => (rec.ended = true));
      return { write: (b) => (rec.sink++, sink.write(b)), end: (r) => sink.end(r) };
    },
  });
  servers.push(srv);
  for (const name of ['batched', 'unbatched']) {
    const r = await ffmpegPublish(`rtmp://127.0.0.1:${srv.port}/live/${name}`, 3).done;
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => runs.at(-1)?.ended === true, 5000, `the end of ${name}`);
  }
  const [batched, unbatched] = runs as [(typeof runs)[0], (typeof runs)[0]];
  validate(Buffer.concat(batched.out), 'batched.ts', 3);
  assert.equal(unbatched.out.length, unbatched.sink, 'unbatched: one chunk per TS run');
  // 3 s at 40 ms batches: ~75 chunks (+ the start, where the remuxer waits for both tracks)
  assert.ok(batched.out.length <= 100, `batched chunks: ${batched.out.length} for ${batched.sink} TS runs`);
  assert.ok(batched.sink >= 2 * batched.out.length, `batched chunks: ${batched.out.length} for ${batched.sink} TS runs`);
});
