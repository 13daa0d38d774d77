/**
 * server.http_workers on a real node: worker processes share the HTTP port and serve the live HLS
 * of unprotected streams; a playlist served by any worker equals the newest one on disk (within the
 * 150 ms revalidation the agent itself uses); protected streams and the API still go through the
 * agent's rules with the client's own address; a worker killed with SIGKILL comes back while
 * requests keep succeeding; workers stop with the node and die with it; `flux validate` refuses
 * bad values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import httpMod from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { parsePrometheus, sample } from './prometheus-text.js';
import { HEADERS_TIMEOUT_MS } from '../../src/core/http-server-options.js';
import { dribbleHeaders, fakeStream, pidAlive, publishStream, runCli, sleep, startNode, tempDir, waitFor } from '../helpers/index.js';

interface Answer {
  status: number;
  body: Buffer;
  worker: string | undefined;
}

/** One request on its own connection (each one is accepted anew: agent or any worker). */
function get(url: string, o: { headers?: Record<string, string>; method?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpMod.request(url, { method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), worker: res.headers['x-flux-worker'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // a connection nobody answers is a defect to report, not a test that hangs
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer within 15 s: ${o.method ?? 'GET'} ${url}`)));
    req.end();
  });
}

/** A file's bytes and mtime read through one fd (one version, even while it is renamed over). */
async function onDisk(file: string): Promise<{ body: Buffer; mtimeMs: number }> {
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    return { body: await fh.readFile(), mtimeMs: st.mtimeMs };
  } finally {
    await fh.close();
  }
}

/** Playback workers of an agent: its child processes running the worker entry. */
async function workerPids(agentPid: number): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== agentPid) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('playback-worker')) out.push(Number(e));
  }
  return out.sort((a, b) => a - b);
}

function lanAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const dribble = (port: number) => dribbleHeaders(port, '/idle/index.m3u8', 60_000);

const STALE_MS = 150 + 100; // the revalidation interval, plus scheduling slack on a loaded machine

test('http_workers: 2 — fresh playlists from workers, protection and API rules hold, restarts, stop', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, {
    dir,
    server: { host: '0.0.0.0', http_workers: 2 },
    streams: {
      open: fakeStream(),
      signed: publishStream({ auth: { securetoken: 'stream-own-secret' } }),
      walled: publishStream({ auth: { allow_ips: ['10.9.9.0/24'] } }),
    },
  });
  const base = node.baseUrl;
  const agentPid = (await node.info()).pid;
  const pids = await waitFor(async () => {
    const p = await workerPids(agentPid);
    return p.length === 2 ? p : undefined;
  }, { timeoutMs: 15_000, message: 'two playback workers' });

  // --- a playlist served by any worker equals the newest one on disk
  const mediaFile = path.join(dir, 'data', 'open', 'v1a1', 'index.m3u8');
  const masterFile = path.join(dir, 'data', 'open', 'index.m3u8');
  // every process has it: a worker that asked before the file existed may hold its absence for the
  // revalidation interval (150 ms), as it holds a playlist
  await waitFor(async () => (await Promise.all(Array.from({ length: 8 }, () => get(`${base}/open/tracks-v1a1/index.m3u8`)))).every((r) => r.status === 200), { timeoutMs: 30_000, message: 'live playlist' });
  const workersSeen = new Set<string>();
  let stale = 0;
  let maxLag = 0; // ms between the newest playlist's write and a request that still got the one before
  let checked = 0;
  const until = Date.now() + 5000; // five 1 s segments: five new playlists at least
  while (Date.now() < until) {
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const [file, url] = i % 4 === 0 ? [masterFile, `${base}/open/index.m3u8`] : [mediaFile, `${base}/open/tracks-v1a1/index.m3u8`];
        const before = await onDisk(file);
        const startedAt = Date.now();
        const r = await get(url, { headers: { 'user-agent': 'flux-test-fresh' } });
        const after = await onDisk(file);
        assert.equal(r.status, 200);
        if (r.worker !== undefined && !r.worker.includes('proxied')) workersSeen.add(r.worker);
        checked++;
        if (r.body.equals(before.body) || r.body.equals(after.body)) return;
        // older than what was on disk when the request went out: allowed only within the revalidation interval
        stale++;
        maxLag = Math.max(maxLag, startedAt - before.mtimeMs);
        assert.ok(startedAt - before.mtimeMs <= STALE_MS, `a playlist ${startedAt - before.mtimeMs} ms older than the newest on disk:\n${r.body}\n--- on disk:\n${before.body}`);
      }),
    );
  }
  assert.ok(checked >= 40, `requests checked: ${checked}`);
  assert.ok(workersSeen.size >= 1, `playlists were answered by workers (x-flux-worker), saw: ${[...workersSeen].join(', ')}`);
  t.diagnostic(`${checked} playlist requests, ${stale} answered the previous playlist (at most ${Math.round(maxLag)} ms after the new one was written), answered by workers ${[...workersSeen].join(', ')}`);

  // segments too, byte for byte what is on disk
  const media = (await get(`${base}/open/tracks-v1a1/index.m3u8`)).body.toString();
  const segUri = media.split('\n').find((l) => l && !l.startsWith('#'))!;
  const seg = await get(`${base}/open/tracks-v1a1/${segUri}`);
  assert.equal(seg.status, 200);
  assert.ok(seg.body.equals(await readFile(path.join(dir, 'data', 'open', 'v1a1', segUri))), 'segment bytes');

  // the workers' counters reach /metrics
  await waitFor(async () => {
    const m = parsePrometheus((await node.api('GET', '/metrics')).text);
    return (sample(m, 'flux_http_worker_requests_total', { handled_by: 'worker' }) ?? 0) > 0 && sample(m, 'flux_http_workers', { state: 'ready' }) === 2;
  }, { timeoutMs: 5000, message: 'worker counters in /metrics' });

  // viewers served by workers are play sessions of the agent
  const sessions = await waitFor(async () => {
    const r = await node.api('GET', '/api/v3/sessions?name=open');
    const list = (r.json as { sessions: { id: string; ip: string; user_agent: string | null; requests: number }[] }).sessions;
    const s = list.find((x) => x.user_agent === 'flux-test-fresh');
    return s && s.requests >= checked / 2 ? s : undefined;
  }, { timeoutMs: 5000, message: 'a play session counting the worker-served requests' });
  assert.match(sessions.ip, /127\.0\.0\.1$/);

  // a killed viewer is refused from its next request, whichever process accepts it
  assert.equal((await node.api('DELETE', `/api/v3/sessions/${sessions.id}`)).status, 204);
  await waitFor(async () => (await get(`${base}/open/index.m3u8`, { headers: { 'user-agent': 'flux-test-fresh' } })).status === 403, { timeoutMs: 3000, message: 'killed viewer refused' });
  for (let i = 0; i < 12; i++) assert.equal((await get(`${base}/open/index.m3u8`, { headers: { 'user-agent': 'flux-test-fresh' } })).status, 403);
  assert.equal((await get(`${base}/open/index.m3u8`, { headers: { 'user-agent': 'another-viewer' } })).status, 200);

  // --- protected streams through the shared port: still refused without credentials
  const proxiedSeen = new Set<string>();
  for (let i = 0; i < 24; i++) {
    const a = await get(`${base}/signed/index.m3u8`);
    const b = await get(`${base}/walled/index.m3u8`);
    const c = await get(`${base}/open/index.m3u8?token=forged-client-header`, { headers: { 'x-flux-client': '10.9.9.9 1234' } });
    assert.equal(a.status, 403, 'securetoken without a token');
    assert.equal(b.status, 403, 'allow_ips');
    assert.equal(c.status, 200, 'an unprotected stream plays');
    for (const r of [a, b]) if (r.worker?.includes('proxied')) proxiedSeen.add(r.worker);
  }
  assert.ok(proxiedSeen.size >= 1, 'protected requests reached the agent through a worker');
  // a client cannot claim another address: the forged header above did not open a session for it
  const forged = (await node.api('GET', '/api/v3/sessions?name=open')).json as { sessions: { ip: string }[] };
  assert.ok(forged.sessions.every((s) => !s.ip.includes('10.9.9.9')), JSON.stringify(forged.sessions));

  // --- the API answers loopback clients only (no auth.users): the worker forwards the real address
  const lan = lanAddress();
  const apiProxied = new Set<string>();
  for (let i = 0; i < 16; i++) {
    const local = await get(`${base}/api/v3/streams`);
    assert.equal(local.status, 200, 'loopback API client');
    if (local.worker?.includes('proxied')) apiProxied.add(local.worker);
    if (lan) {
      const remote = await get(`http://${lan}:${node.httpPort}/api/v3/streams`);
      assert.equal(remote.status, 403, `API from ${lan}: ${remote.body}`);
      if (remote.worker?.includes('proxied')) apiProxied.add(remote.worker);
    }
  }
  assert.ok(apiProxied.size >= 1, 'API requests went through a worker');
  if (!lan) t.diagnostic('no non-loopback IPv4 address: the remote API check was skipped');

  // --- a worker killed with SIGKILL is started again; requests keep succeeding meanwhile
  process.kill(pids[0]!, 'SIGKILL');
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const r = await get(`${base}/open/tracks-v1a1/index.m3u8`);
    assert.equal(r.status, 200, 'requests right after a worker died');
    await sleep(20);
  }
  const again = await waitFor(async () => {
    const p = await workerPids(agentPid);
    return p.length === 2 && !p.includes(pids[0]!) ? p : undefined;
  }, { timeoutMs: 10_000, message: 'the killed worker restarted' });
  const served = new Set<string>();
  await waitFor(async () => {
    const r = await get(`${base}/open/tracks-v1a1/index.m3u8`);
    assert.equal(r.status, 200);
    if (r.worker && !r.worker.includes('proxied')) served.add(r.worker);
    return served.size === 2;
  }, { timeoutMs: 10_000, intervalMs: 5, message: 'both workers answering after the restart' });

  // --- the agent dies: its workers go with it
  node.kill();
  await waitFor(async () => (await Promise.all(again.map((p) => pidAlive(p)))).every((a) => !a), { timeoutMs: 5000, message: 'workers exit with their agent' });
});

test('http_workers: slow-header clients cut by workers too; stopped with the node; 0 = no workers, no x-flux-worker header', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, server: { http_workers: 1 }, streams: { idle: publishStream() } });
  const agentPid = (await node.info()).pid;
  const [pid] = await waitFor(async () => {
    const p = await workerPids(agentPid);
    return p.length === 1 ? p : undefined;
  }, { timeoutMs: 15_000, message: 'one playback worker' });
  // slow-header clients are cut at the headers timeout by the workers too (their server tracks its
  // connections: it listens on the shared handle itself); 8 clients: some land on the worker
  const slow = await Promise.all(Array.from({ length: 8 }, () => dribble(node.httpPort)));
  for (const { ms, answer } of slow) {
    assert.ok(ms >= HEADERS_TIMEOUT_MS - 500 && ms < HEADERS_TIMEOUT_MS + 2500, `slow-header client closed after ${ms} ms`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  }

  // a reload changes the number: 1 → 3 → 1 (the first keeps running throughout)
  const setWorkers = async (n: number) => {
    const text = await readFile(node.configFile, 'utf8');
    await writeFile(node.configFile, text.replace(/http_workers: \d+/, `http_workers: ${n}`));
    const r = await node.api('POST', '/api/v3/config/reload');
    assert.equal(r.status, 200, r.text);
    return waitFor(async () => {
      const p = await workerPids(agentPid);
      return p.length === n ? p : undefined;
    }, { timeoutMs: 15_000, message: `${n} playback workers after a reload` });
  };
  assert.ok((await setWorkers(3)).includes(pid!));
  assert.deepEqual(await setWorkers(1), [pid!]);

  const stop = await node.stop();
  assert.equal(stop?.code, 0, stop?.stderr);
  assert.equal(await pidAlive(pid!), false, 'the worker stopped with the node');

  const dir0 = await tempDir(t);
  const plain = await startNode(t, { dir: dir0, server: { http_workers: 0 }, streams: { idle: publishStream() } });
  assert.deepEqual(await workerPids((await plain.info()).pid), []);
  for (let i = 0; i < 5; i++) assert.equal((await get(`${plain.baseUrl}/idle/index.m3u8`)).worker, undefined);
});

test('flux validate refuses http_workers: -1 and lots with their place; flux config schema documents it', async (t) => {
  const schema = await runCli(['config', 'schema']);
  assert.equal(schema.code, 0, schema.stderr);
  const at = schema.stdout.indexOf('"http_workers": {');
  assert.ok(at > 0, 'server.http_workers in the JSON Schema');
  const hw = schema.stdout.slice(at, at + 1500);
  assert.match(hw, /"const": "auto"|"enum": \[\s*"auto"/);
  assert.match(hw, /playback worker processes sharing the plain HTTP port/);
  const dir = await tempDir(t);
  for (const bad of ['-1', 'lots']) {
    const file = path.join(dir, 'flux.yaml');
    await writeFile(file, `server:\n  http_workers: ${bad}\n`);
    const r = await runCli(['validate', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, bad === '-1' ? /flux\.yaml:2:17: server\.http_workers: must be at least 0, got -1/ : /flux\.yaml:2:17: server\.http_workers: expected a whole number 0\.\.256 or auto, got "lots"/);
  }
});
