/** The supervisor's I/O pieces in-process: control socket, publish hub, tshttp source, ffmpeg child wrapper. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { Supervisor } from '../../../../src/daemons/stream/supervisor.js';
import { ControlServer, socketAlive } from '../../../../src/daemons/stream/control.js';
import { TsHttpSource } from '../../../../src/daemons/stream/sources/tshttp.js';
import { FfmpegChild, type ChildExit } from '../../../../src/daemons/stream/child.js';
import { Backoff } from '../../../../src/core/backoff.js';
import { fakeWriterFactory, input, logger, stream, tsPackets, waitFor } from './fakes.js';

function req(sock: string, method: string, p: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ socketPath: sock, method, path: p }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

test('control socket: status, one publisher at a time, restart, stop; socket mode 0600', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-ctl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 's.sock');
  const wf = fakeWriterFactory();
  const sup = new Supervisor({ stream: stream('pub', [input('publish://', { sourceTimeoutMs: 500 })]), specHash: 'h' }, { ffmpegPath: 'ffmpeg', buildPipelineArgs: () => null, openWriter: wf.open, logger, tickMs: 50 });
  let stops = 0;
  const ctl = new ControlServer({ socketPath: sock, supervisor: sup, onStop: () => stops++ });
  await ctl.listen();
  await sup.start();
  t.after(async () => {
    await sup.stop();
    await ctl.close();
  });
  assert.equal((await stat(sock)).mode & 0o777, 0o600);
  assert.equal(await socketAlive(sock), true);
  await assert.rejects(new ControlServer({ socketPath: sock, supervisor: sup, onStop: () => {} }).listen(), /another supervisor/);

  const st = JSON.parse((await req(sock, 'GET', '/status')).body);
  assert.equal(st.name, 'pub');
  assert.equal(st.specHash, 'h');
  assert.equal(st.inputs[0].url, 'publish://');

  // a streaming publisher
  const pub = http.request({ socketPath: sock, method: 'POST', path: '/ingest' });
  const pubDone = new Promise<{ status: number; body: string }>((resolve) =>
    pub.on('response', (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    }),
  );
  pub.write(tsPackets(50, 4));
  await waitFor('bytes written', () => (wf.writers[0]?.bytes ?? 0) >= 188 * 50);
  assert.equal(sup.status().state, 'running');
  const busy = await req(sock, 'POST', '/ingest', tsPackets(5, 5));
  assert.equal(busy.status, 409);
  pub.end(tsPackets(10, 4));
  const done = await pubDone;
  assert.equal(done.status, 200);
  assert.equal(JSON.parse(done.body).bytes, 188 * 60);
  // the next publisher is welcome, with a discontinuity before its bytes
  const again = await req(sock, 'POST', '/ingest', tsPackets(20, 6));
  assert.equal(again.status, 200);
  assert.deepEqual(wf.writers[0]!.timeline(), [4, 'D', 6]);
  const evs = sup.status().events.map((e) => e.type);
  assert.deepEqual(evs.filter((e) => e === 'publish' || e === 'unpublish'), ['publish', 'unpublish', 'publish', 'unpublish']);

  assert.equal((await req(sock, 'POST', '/restart')).status, 200);
  assert.equal(sup.status().restarts, 1);
  assert.equal((await req(sock, 'GET', '/nothing')).status, 404);
  assert.equal((await req(sock, 'DELETE', '/status')).status, 405);
  assert.equal((await req(sock, 'POST', '/stop')).status, 200);
  await waitFor('onStop', () => stops === 1);
});

test('tshttp source: streams the body, reconnects with backoff when it ends, reports HTTP errors', async (t) => {
  let n = 0;
  const server = http.createServer((rq, res) => {
    n++;
    if (rq.url === '/404') return void res.writeHead(404, 'Not Found').end();
    if (rq.url === '/redirect') return void res.writeHead(302, { location: '/live' }).end();
    res.writeHead(200);
    res.end(tsPackets(10, n)); // a short body: ends → reconnect
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  let bytes = 0;
  let epochs = 0;
  const errors: string[] = [];
  const src = new TsHttpSource(`tshttp://127.0.0.1:${port}/redirect`, { onData: (c) => (bytes += c.length), onEpoch: () => epochs++, onError: (m) => errors.push(m) }, { stallMs: 1000, backoff: new Backoff({ initialMs: 30, maxMs: 60 }) });
  src.start();
  await waitFor('3 bodies', () => epochs >= 3, 3000);
  await src.stop();
  assert.ok(bytes >= 188 * 30);
  assert.ok(src.reconnects >= 2);
  assert.match(errors[0]!, /body ended/);

  const errs: string[] = [];
  const bad = new TsHttpSource(`tshttp://127.0.0.1:${port}/404`, { onData: () => {}, onEpoch: () => {}, onError: (m) => errs.push(m) }, { stallMs: 1000, backoff: new Backoff({ initialMs: 1000 }) });
  bad.start();
  await waitFor('error', () => errs.length > 0, 2000);
  await bad.stop();
  assert.match(bad.lastError!, /HTTP 404 Not Found/);
});

test('ffmpeg child wrapper: outputs on fd 1 and 3, stdin fed, exit with the telling stderr line', async () => {
  const outs: Buffer[][] = [[], []];
  let exit: ChildExit | undefined;
  const c = new FfmpegChild({
    command: process.execPath,
    args: ['-e', "const fs=require('fs');process.stdin.on('data',d=>{process.stdout.write(d);fs.writeSync(3,Buffer.from('x'))});process.stdin.on('end',()=>{console.error('[tcp @ 0x1234] Connection refused');console.error('Conversion failed!');process.exit(3)})"],
    outputs: [
      { rendition: 'v1a1', fd: 1 },
      { rendition: 'v2a1', fd: 3 },
    ],
    stdin: true,
    role: 'test',
    onOutput: (k, chunk) => outs[k]!.push(chunk),
    onExit: (e) => (exit = e),
  });
  c.write(Buffer.from('hello'));
  await waitFor('output', () => outs[0]!.length > 0 && outs[1]!.length > 0);
  c.endInput();
  await c.exited$();
  assert.equal(Buffer.concat(outs[0]!).toString(), 'hello');
  assert.equal(Buffer.concat(outs[1]!).toString(), 'x');
  assert.equal(exit!.code, 3);
  assert.equal(exit!.requested, false);
  assert.equal(exit!.error, 'ffmpeg exited with code 3: tcp: Connection refused');

  let exit2: ChildExit | undefined;
  const missing = new FfmpegChild({ command: '/nonexistent/ffmpeg', args: [], outputs: [{ rendition: 'v1a1', fd: 1 }], stdin: false, role: 'x', onOutput: () => {}, onExit: (e) => (exit2 = e) });
  await missing.exited$();
  assert.match(exit2!.error, /cannot run \/nonexistent\/ffmpeg: .*ENOENT/);

  const sleeper = new FfmpegChild({ command: process.execPath, args: ['-e', 'setTimeout(()=>{},60000)'], outputs: [{ rendition: 'v1a1', fd: 1 }], stdin: false, role: 'x', onOutput: () => {}, onExit: (e) => (exit2 = e), killGraceMs: 200 });
  await sleeper.stop();
  assert.equal(exit2!.requested, true);
  assert.equal(sleeper.running, false);
});
