/**
 * Playback workers with real processes around a stand-in agent (a node:http server on 127.0.0.1:0):
 * a worker slow to load never strands a connection (the listening handle goes only to a worker that
 * listens for it); what a worker passes on reaches the agent's handler with the client's address and
 * without a client's forged address header; streamed answers stream through, and a client that
 * leaves aborts the agent's response.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PlaybackWorkers } from '../../src/daemons/node/playback-workers.js';
import { silentLogger } from '../../src/core/logger.js';
import { REPO_ROOT, tempDir, waitFor } from '../helpers/index.js';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; worker: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, worker: res.headers['x-flux-worker'] as string | undefined }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer within 5 s: ${url}`)));
    req.end();
  });
}

test('playback workers around a stand-in agent: slow start, forwarded address, streaming, client abort', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const root = path.join(dir, 'data', 'live');
  await mkdir(path.join(root, 'v1a1'), { recursive: true });
  const playlist = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:7\n';
  await writeFile(path.join(root, 'v1a1', 'index.m3u8'), playlist);
  // a worker whose module graph takes 600 ms to load (a cold disk, a loaded machine)
  const slow = path.join(dir, 'slow-worker.mts');
  await writeFile(slow, `await new Promise((r) => setTimeout(r, 600));\nawait import(${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, 'src/daemons/playback-worker/main.ts')).href)});\n`);

  let streamClosed = 0;
  const seen: { ip: string | undefined; forged: string | undefined }[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/whoami') {
      seen.push({ ip: req.socket.remoteAddress, forged: req.headers['x-flux-client'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.socket.remoteAddress}\n`);
      return;
    }
    if (req.url === '/feed') {
      // an endless stream (like /<stream>/mpegts): chunks until the client goes
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      const timer = setInterval(() => res.write(Buffer.alloc(188, 0x47)), 20);
      // a request passed on by a worker came over the internal Unix socket (no local TCP address)
      const viaWorker = req.socket.localAddress === undefined;
      res.on('close', () => {
        clearInterval(timer);
        if (viaWorker) streamClosed++;
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('agent\n');
  };
  const agent = http.createServer(handler);
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  t.after(() => {
    agent.closeAllConnections();
    agent.close();
  });
  const port = (agent.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const workers = new PlaybackWorkers({
    listener: agent,
    socketPath: path.join(dir, 'playback.sock'),
    handler,
    logger: silentLogger,
    logLevel: () => 'warn',
    routes: () => ({ routes: [{ name: 'live', root, renditions: ['v1a1'], hls: { segmentDurationMs: 1000, window: 4 } }], names: ['live'], killed: [], meter: false }),
    onUsage: () => undefined,
    script: slow,
  });
  t.after(() => workers.stop());
  await workers.start(2);

  // every connection made while the workers load is answered (by the agent until they listen)
  const until = Date.now() + 2500;
  let byWorker = 0;
  while (Date.now() < until) {
    const r = await get(`${base}/live/tracks-v1a1/index.m3u8`);
    assert.equal(r.status, 200);
    if (r.worker !== undefined) {
      byWorker++;
      assert.equal(r.text, playlist, 'a worker serves the playlist file');
    } else assert.equal(r.text, 'agent\n');
  }
  assert.equal(workers.readyCount(), 2);
  await waitFor(async () => (await get(`${base}/live/tracks-v1a1/index.m3u8`)).worker !== undefined, { timeoutMs: 5000, intervalMs: 5, message: 'a worker answers' });
  t.diagnostic(`${byWorker} answers from workers while starting`);

  // passed on: the agent sees the client's address, never a client's own x-flux-client
  seen.length = 0;
  await waitFor(async () => (await get(`${base}/whoami`, { 'x-flux-client': '10.1.2.3 9' })).worker?.endsWith('proxied') === true, { timeoutMs: 5000, intervalMs: 5, message: 'a proxied request' });
  const proxied = seen[seen.length - 1]!;
  assert.equal(proxied.ip, '127.0.0.1');
  assert.equal(proxied.forged, undefined, 'the forwarding header is consumed by the agent side');

  // a streamed answer through a worker flows, and stops at the agent when the client leaves
  const before = streamClosed;
  await waitFor(
    () =>
      new Promise<boolean>((resolve, reject) => {
        const req = http.request(`${base}/feed`, { agent: false }, (res) => {
          if (!(res.headers['x-flux-worker'] as string | undefined)?.endsWith('proxied')) {
            req.destroy();
            return resolve(false); // the agent took this connection itself: try again
          }
          let got = 0;
          res.on('data', (d: Buffer) => {
            got += d.length;
            if (got >= 188 * 5) {
              req.destroy();
              resolve(true);
            }
          });
        });
        req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
        req.end();
      }),
    { timeoutMs: 10_000, intervalMs: 5, message: 'a streamed answer through a worker' },
  );
  await waitFor(() => streamClosed > before, { timeoutMs: 3000, message: 'the agent\'s response closed after the client left' });
});
