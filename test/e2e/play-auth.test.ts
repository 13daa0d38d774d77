/**
 * Play authorization on a real node against a real backend written here (a node:http server that
 * records what it is asked): token required, allow/deny, Flussonic's query parameters,
 * X-AuthDuration caching and re-asking, X-UserId, X-Max-Sessions, sessions listed and killed,
 * max_sessions per stream and per node, idle timeout, backend down/slow/garbage (deny, or allow
 * with fail_open), IP rules for streams and the API. Streams that wait for a publisher answer 404
 * once authorized (no playlist yet) and 403 when refused, which tells the verdicts apart cheaply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import httpMod from 'node:http';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fakeStream, getFrom, publishStream, sleep, startNode, tempDir, waitFor } from '../helpers/index.js';

interface Asked {
  path: string;
  q: Record<string, string>;
}

/** The test's play backend: verdicts by token. */
async function startBackend(t: { after(fn: () => unknown): void }): Promise<{ url: string; asked: Asked[]; port: number }> {
  const asked: Asked[] = [];
  const server = httpMod.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    asked.push({ path: u.pathname, q: Object.fromEntries(u.searchParams) });
    if (u.pathname === '/slow') return; // never answers
    const token = u.searchParams.get('token');
    if (token === 'good') res.writeHead(200, { 'X-AuthDuration': '30', 'X-UserId': 'user-1' });
    else if (token === 'short') res.writeHead(200, { 'X-AuthDuration': '1' });
    else if (token === 'flip') res.writeHead(u.searchParams.get('request_number') === '1' ? 200 : 403, { 'X-AuthDuration': '1' });
    else if (token === 'max1') res.writeHead(200, { 'X-AuthDuration': '30', 'X-Max-Sessions': '1' });
    else if (token === 'moved') res.writeHead(302, { location: 'http://127.0.0.1:1/' });
    else res.writeHead(403);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/auth`, asked, port };
}

/** GET from a chosen loopback source address (127.0.0.x: another viewer). */
const get = (port: number, p: string, o: { from?: string; headers?: Record<string, string> } = {}) => getFrom(`http://127.0.0.1:${port}${p}`, o);

test('play backend: token, verdicts, parameters, X-AuthDuration, X-UserId, X-Max-Sessions, sessions, kill, max_sessions, idle timeout, IP rules', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const be = await startBackend(t);
  const node = await startNode(t, {
    dir,
    streams: {
      live: fakeStream({ auth: { play_token: true, play_backend: be.url } }),
      alias: publishStream({ auth: { on_play: be.url } }),
      capped: publishStream({ auth: { max_sessions: 1 } }),
      dead: publishStream({ auth: { on_play: 'http://127.0.0.1:1/auth' } }),
      slow: publishStream({ auth: { play_backend: `http://127.0.0.1:${be.port}/slow` } }),
      office: publishStream({ auth: { allow_ips: ['127.0.0.2/32'] } }),
      lobby: publishStream({ auth: { deny_ips: ['127.0.0.3'] } }),
    },
    extra: { auth: { play_backend_timeout: '1s', play_cache: '5s', session_timeout: '2s', api_deny_ips: ['127.0.0.4'] } },
  });
  const port = node.httpPort;
  const askedFor = (token: string) => be.asked.filter((a) => a.q.token === token);

  // --- play_token: no token, no backend call
  assert.equal((await get(port, '/live/index.m3u8')).status, 403);
  assert.equal(be.asked.length, 0, 'a missing token is refused before asking the backend');

  // --- denied token
  assert.equal((await get(port, '/live/index.m3u8?token=bad')).status, 403);
  assert.equal(askedFor('bad').length, 1);

  // --- allowed token: real playback, the token carried into the playlist's URIs, backend asked once
  const master = await waitFor(async () => {
    const r = await get(port, '/live/index.m3u8?token=good', { headers: { referer: 'http://portal.example/watch', 'user-agent': 'test-player/1' } });
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 30_000, message: 'master playlist with token' });
  const mediaUri = master.text.split('\n').find((l) => l && !l.startsWith('#'))!;
  assert.match(mediaUri, /\?token=good$/);
  const media = await get(port, `/live/${mediaUri}`, { headers: { 'user-agent': 'test-player/1' } });
  assert.equal(media.status, 200, media.text);
  const segUri = media.text.split('\n').find((l) => l && !l.startsWith('#'))!;
  assert.match(segUri, /\.ts\?token=good$/);
  assert.equal((await get(port, `/live/tracks-v1a1/${segUri}`, { headers: { 'user-agent': 'test-player/1' } })).status, 200);
  for (let i = 0; i < 5; i++) assert.equal((await get(port, `/live/${mediaUri}`, { headers: { 'user-agent': 'test-player/1' } })).status, 200);
  const good = askedFor('good');
  assert.equal(good.length, 1, 'X-AuthDuration: 30 — not asked again within it');
  const q = good[0]!.q;
  assert.equal(q.name, 'live');
  assert.equal(q.proto, 'hls');
  assert.equal(q.ip, '127.0.0.1');
  assert.equal(q.request_type, 'new_session');
  assert.equal(q.request_number, '1');
  assert.equal(q.referer, 'http://portal.example/watch');
  assert.equal(q.user_agent, 'test-player/1');
  assert.ok(q.session_id && q.session_id.length >= 8, 'session_id');
  for (const k of ['stream_clients', 'total_clients', 'duration']) assert.match(q[k] ?? '', /^\d+$/, k);

  // --- the session is listed (Flussonic shape), with the backend's X-UserId; filter by name
  const list = await node.api('GET', '/api/v3/sessions?name=live');
  assert.equal(list.status, 200);
  const sessions = (list.json as { sessions: { id: string; name: string; token: string; user_id: string; ip: string; proto: string }[]; estimated_count: number });
  const mine = sessions.sessions.find((s) => s.token === 'good');
  assert.ok(mine, JSON.stringify(sessions));
  assert.equal(mine.id, q.session_id);
  assert.equal(mine.user_id, 'user-1');
  assert.equal(mine.name, 'live');
  assert.equal(mine.proto, 'hls');
  assert.equal(sessions.estimated_count, sessions.sessions.length);
  assert.ok(sessions.sessions.every((s) => s.name === 'live'));
  assert.equal(((await node.api('GET', '/api/v3/sessions?name=nope')).json as { estimated_count: number }).estimated_count, 0);

  // --- flux session ls / kill: the killed session's next request is refused
  const ls = await node.cli(['session', 'ls', '--json', '--stream', 'live']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.ok((ls.json.sessions as { id: string }[]).some((s) => s.id === mine.id));
  const kill = await node.cli(['session', 'kill', mine.id]);
  assert.equal(kill.code, 0, kill.stderr);
  assert.equal((await get(port, `/live/${mediaUri}`, { headers: { 'user-agent': 'test-player/1' } })).status, 403);
  assert.equal((await node.cli(['session', 'kill', mine.id])).code, 1, 'killing an unknown session fails');
  assert.equal((await node.api('DELETE', '/api/v3/sessions/nope')).status, 404);

  // --- on_play alias asks the same backend; a redirect is a deny (never followed)
  assert.equal((await get(port, '/alias/index.m3u8?token=good')).status, 404, 'allowed (no playlist: waits for a publisher)');
  assert.equal((await get(port, '/alias/index.m3u8?token=moved')).status, 403);
  assert.equal((await get(port, '/alias/index.m3u8')).status, 403, 'no token: the backend denies');

  // --- X-AuthDuration: 1 → asked again while the session lives (in the background: requests are not held up)
  assert.equal((await get(port, '/alias/index.m3u8?token=short')).status, 404);
  await sleep(1300);
  const t1 = Date.now();
  assert.equal((await get(port, '/alias/index.m3u8?token=short')).status, 404);
  assert.ok(Date.now() - t1 < 500, 'served on the running verdict');
  const short = await waitFor(() => (askedFor('short').length >= 2 ? askedFor('short') : undefined), { message: 'short re-asked' });
  assert.equal(short[1]!.q.request_type, 'update_session');
  assert.equal(short[1]!.q.request_number, '2');
  assert.equal(short[1]!.q.session_id, short[0]!.q.session_id);

  // --- an allow withdrawn on the re-ask: the session's next request is refused
  assert.equal((await get(port, '/alias/index.m3u8?token=flip')).status, 404);
  await waitFor(async () => (await get(port, '/alias/index.m3u8?token=flip')).status === 403, { timeoutMs: 10_000, message: 'flip refused after the re-ask' });
  assert.equal(askedFor('flip')[1]!.q.request_type, 'update_session');

  // --- X-Max-Sessions: 1 → a second viewer with the same token is refused
  assert.equal((await get(port, '/alias/index.m3u8?token=max1')).status, 404);
  assert.equal((await get(port, '/alias/index.m3u8?token=max1', { from: '127.0.0.2' })).status, 403);

  // --- max_sessions per stream; idle timeout frees the place
  assert.equal((await get(port, '/capped/index.m3u8')).status, 404);
  assert.equal((await get(port, '/capped/index.m3u8', { from: '127.0.0.2' })).status, 403, 'the extra session');
  await sleep(3500); // session_timeout 2s
  assert.equal((await get(port, '/capped/index.m3u8', { from: '127.0.0.2' })).status, 404, 'the idle session closed');

  // --- backend down, slow: deny within play_backend_timeout
  assert.equal((await get(port, '/dead/index.m3u8?token=good')).status, 403);
  const t0 = Date.now();
  assert.equal((await get(port, '/slow/index.m3u8?token=good')).status, 403);
  assert.ok(Date.now() - t0 < 2500, `slow backend: answered after ${Date.now() - t0} ms`);

  // --- IP rules per stream
  assert.equal((await get(port, '/office/index.m3u8')).status, 403);
  assert.equal((await get(port, '/office/index.m3u8', { from: '127.0.0.2' })).status, 404);
  assert.equal((await get(port, '/lobby/index.m3u8')).status, 404);
  assert.equal((await get(port, '/lobby/index.m3u8', { from: '127.0.0.3' })).status, 403);
  // --- and for the API (api_deny_ips)
  assert.equal((await get(port, '/api/v3/streams')).status, 200);
  assert.equal((await get(port, '/api/v3/streams', { from: '127.0.0.4' })).status, 403);

  // the node logged its verdicts and keeps running
  assert.equal((await node.api('GET', '/api/v3/streams')).status, 200);
  const log = await waitFor(async () => {
    const text = await readFile(path.join(dir, 'data', 'node.log'), 'utf8');
    return /no answer within 1000 ms/.test(text) ? text : undefined;
  }, { message: 'verdicts in node.log' });
  const verdicts = log.split('\n').filter((l) => /"msg":"play (allowed|denied)"/.test(l)).map((l) => JSON.parse(l) as { verdict: string; by: string; reason: string; stream: string });
  assert.ok(verdicts.some((v) => v.verdict === 'deny' && v.by === 'play_token' && v.stream === 'live'));
  assert.ok(verdicts.some((v) => v.verdict === 'deny' && v.by === 'backend' && /answered 403/.test(v.reason)));
  assert.ok(verdicts.some((v) => v.verdict === 'allow' && v.by === 'backend' && v.stream === 'live'));
  assert.ok(verdicts.some((v) => v.verdict === 'deny' && v.by === 'backend' && /backend failed \(ECONNREFUSED\)/.test(v.reason)));
  assert.ok(verdicts.some((v) => v.verdict === 'deny' && v.by === 'ip'));
  assert.ok(verdicts.some((v) => v.verdict === 'deny' && v.by === 'max_sessions'));
});

test('backend failures: garbage answers deny; fail_open allows; node-wide max_sessions and allow_ips/deny_ips', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  // a "backend" that answers garbage instead of HTTP
  const garbage = net.createServer((c) => c.end('NOT HTTP AT ALL\r\n\r\n'));
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
  t.after(() => garbage.close());
  const gport = (garbage.address() as net.AddressInfo).port;
  const node = await startNode(t, {
    dir,
    streams: {
      junk: publishStream({ auth: { play_backend: `http://127.0.0.1:${gport}/` } }),
      a: publishStream(),
      b: publishStream(),
    },
    extra: { auth: { max_sessions: 2, allow_ips: ['127.0.0.0/29'], deny_ips: ['127.0.0.5'], api_allow_ips: ['127.0.0.1/32'] } },
  });
  const port = node.httpPort;
  assert.equal((await get(port, '/junk/index.m3u8?token=x')).status, 403, 'garbage denies');
  assert.equal((await get(port, '/a/index.m3u8')).status, 404);
  assert.equal((await get(port, '/b/index.m3u8', { from: '127.0.0.2' })).status, 404);
  assert.equal((await get(port, '/b/index.m3u8', { from: '127.0.0.3' })).status, 403, 'node max_sessions: 2');
  assert.equal((await get(port, '/a/index.m3u8', { from: '127.0.0.5' })).status, 403, 'deny_ips');
  assert.equal((await get(port, '/a/index.m3u8', { from: '127.0.0.9' })).status, 403, 'outside allow_ips');
  assert.equal((await get(port, '/api/v3/streams')).status, 200);
  assert.equal((await get(port, '/api/v3/streams', { from: '127.0.0.2' })).status, 403, 'outside api_allow_ips');

  // fail_open: a backend that is down allows
  const dir2 = await tempDir(t);
  const open = await startNode(t, { dir: dir2, streams: { d: publishStream() }, extra: { auth: { on_play: 'http://127.0.0.1:1/auth', fail_open: true, play_backend_timeout: '1s' } } });
  assert.equal((await get(open.httpPort, '/d/index.m3u8?token=any')).status, 404, 'fail_open allows');
  // play_default: allow is the older spelling of fail_open
  const dir3 = await tempDir(t);
  const old = await startNode(t, { dir: dir3, streams: { d: publishStream() }, extra: { auth: { play_backend: 'http://127.0.0.1:1/auth', play_default: 'allow' } } });
  assert.equal((await get(old.httpPort, '/d/index.m3u8?token=any')).status, 404, 'play_default: allow');
});
