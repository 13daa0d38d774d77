/**
 * What a playback worker serves itself (routes.ts) and what the agent lets it serve
 * (PlayGate.isUnguarded, recordViewers, killedViewers): live HLS of routed streams only, matched
 * among every stream name as the agent matches them; any play protection keeps a stream with the
 * agent; viewers reported by workers become sessions, killed ones are not reopened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { RouteTable } from '../../../../src/daemons/playback-worker/routes.js';
import { PlayGate } from '../../../../src/auth/play-gate.js';
import { validateText } from '../../../../src/config/load.js';
import { resolveConfig } from '../../../../src/config/resolve.js';
import { silentLogger } from '../../../../src/core/logger.js';

function req(url: string, o: { method?: string; ip?: string; ua?: string } = {}): IncomingMessage {
  return { method: o.method ?? 'GET', url, socket: { remoteAddress: o.ip ?? '127.0.0.1' }, headers: o.ua ? { 'user-agent': o.ua } : {} } as unknown as IncomingMessage;
}

const route = (name: string) => ({ name, root: `/data/${name}`, renditions: ['v1a1'], hls: { segmentDurationMs: 1000, window: 4 } });

test('RouteTable: playlists, segments, parts and init files of routed streams; everything else goes to the agent', () => {
  const t = new RouteTable();
  t.update({ type: 'routes', routes: [route('a'), route('cams/door')], names: ['a', 'cams/door', 'locked'], killed: [], meter: false });
  const yes = [
    '/a/index.m3u8',
    '/a/tracks-v1a1/index.m3u8',
    '/a/tracks-v1a1/mono.m3u8?_HLS_msn=3',
    '/a/tracks-v2a1/index.m3u8', // an unknown rendition: the handler's own 404, as the agent answers
    '/a/tracks-v1a1/2026/01/02/03/1767322800000-1000.ts',
    '/a/tracks-v1a1/2026/01/02/03/1767322800000-p2.m4s',
    '/a/tracks-v1a1/init-0123456789ab.mp4',
    '/cams/door/index.m3u8',
    '/cams/door/tracks-v1a1/index.m3u8',
  ];
  for (const u of yes) assert.ok(t.match(req(u)), u);
  assert.equal(t.match(req('/cams/door/index.m3u8'))!.stream.name, 'cams/door');
  assert.equal(t.match(req('/a/tracks-v1a1/2026/01/02/03/1767322800000-1000.ts'))!.last, '1767322800000-1000.ts');
  const no = [
    '/a/index.m3u8?token=abc', // sessions named in the request: the agent's
    '/a/index.m3u8?x=1&session=abc',
    '/a/embed.html',
    '/a/mpegts',
    '/a/index.mpd',
    '/a/preview.jpg',
    '/a/archive-1700000000-60.m3u8',
    '/a/tracks-v1a1/key-3.key',
    '/a/tracks-v1a1/2026/01/02/1767322800000-1000.ts',
    '/a/whep',
    '/locked/index.m3u8', // known but not routed (protected)
    '/nope/index.m3u8',
    '/a/tracks-v1a1/index.m3u8/../../x', // refused paths: the agent answers them
    '/api/v3/streams',
    '/metrics',
    '/admin/',
    '/vod/films/x.mp4/index.m3u8',
    '/balance/a/index.m3u8',
    '/flux/static/hls.min.js',
    'http://host/a/index.m3u8',
  ];
  for (const u of no) assert.equal(t.match(req(u)), undefined, u);
  // a longer known name wins even when it is not routed: `a/tracks-v1a1` is a stream of its own
  const nested = new RouteTable();
  nested.update({ type: 'routes', routes: [route('a')], names: ['a', 'a/tracks-v1a1'], killed: [], meter: false });
  assert.equal(nested.match(req('/a/tracks-v1a1/index.m3u8')), undefined, 'the protected a/tracks-v1a1 stream, not a rendition of a');
  for (const method of ['POST', 'OPTIONS', 'DELETE']) assert.equal(t.match(req('/a/index.m3u8', { method })), undefined, method);
  assert.ok(t.match(req('/a/index.m3u8', { method: 'HEAD' })));
  // killed viewers go to the agent, others of the same stream do not
  t.update({ type: 'routes', routes: [route('a')], names: ['a'], killed: ['a\x00127.0.0.1\x00bad-ua'], meter: false });
  assert.equal(t.match(req('/a/index.m3u8', { ua: 'bad-ua' })), undefined);
  assert.ok(t.match(req('/a/index.m3u8', { ua: 'good-ua' })));
  assert.ok(t.match(req('/a/index.m3u8', { ua: 'bad-ua', ip: '127.0.0.2' })));
  // the same stream object while the route is unchanged (playback memoizes paths per object)
  const s1 = t.stream('a');
  t.update({ type: 'routes', routes: [route('a')], names: ['a'], killed: [], meter: false });
  assert.equal(t.stream('a'), s1);
  t.update({ type: 'routes', routes: [], names: ['a'], killed: [], meter: false });
  assert.equal(t.match(req('/a/index.m3u8')), undefined, 'unrouted at once');
});

function config(yaml: string) {
  const r = validateText(yaml, 'f.yaml');
  assert.deepEqual(r.issues, []);
  return resolveConfig(r.input!, '/tmp/f.yaml');
}

test('PlayGate.isUnguarded: any play protection keeps a stream with the agent', (t) => {
  const streams = `streams:
  open: { inputs: [{ url: "publish://" }] }
  token: { inputs: [{ url: "publish://" }], auth: { play_token: true, play_backend: "http://127.0.0.1:9/x" } }
  signed: { inputs: [{ url: "publish://" }], auth: { securetoken: "stream-secret-1" } }
  link: { inputs: [{ url: "publish://" }], auth: { secure_link: true } }
  backend: { inputs: [{ url: "publish://" }], auth: { play_backend: "http://127.0.0.1:9/x" } }
  allow: { inputs: [{ url: "publish://" }], auth: { allow_ips: ["10.0.0.0/8"] } }
  deny: { inputs: [{ url: "publish://" }], auth: { deny_ips: ["10.0.0.0/8"] } }
  capped: { inputs: [{ url: "publish://" }], auth: { max_sessions: 5 } }
`;
  const gate = new PlayGate(silentLogger);
  t.after(() => gate.stop());
  const cfg = config(`${streams}auth: { securetoken: "node-secret-12" }\n`);
  gate.apply(cfg);
  const open = Object.entries(cfg.streams).filter(([, s]) => gate.isUnguarded(s)).map(([n]) => n);
  assert.deepEqual(open, ['open']);
  for (const node of ['play_backend: "http://127.0.0.1:9/x"', 'allow_ips: ["10.0.0.0/8"]', 'deny_ips: ["10.0.0.0/8"]', 'max_sessions: 100']) {
    const c = config(`${streams}auth: { securetoken: "node-secret-12", ${node} }\n`);
    gate.apply(c);
    assert.equal(gate.isUnguarded(c.streams.open!), false, node);
  }
});

test('PlayGate.recordViewers: worker-served viewers open or touch sessions; killed ones stay closed', async (t) => {
  const gate = new PlayGate(silentLogger);
  t.after(() => gate.stop());
  const cfg = config('streams:\n  open: { inputs: [{ url: "publish://" }] }\n  locked: { inputs: [{ url: "publish://" }], auth: { allow_ips: ["10.0.0.0/8"] } }\n');
  gate.apply(cfg);
  const open = cfg.streams.open!;
  const v = { stream: open, ip: '127.0.0.1', userAgent: 'ua-1', referer: 'http://site/', proto: 'hls', requests: 5 };
  gate.recordViewers([v, { ...v, stream: cfg.streams.locked!, userAgent: 'ua-2' }]);
  await new Promise((r) => setImmediate(r));
  let list = gate.sessions.list('open');
  assert.equal(list.length, 1);
  assert.deepEqual([list[0]!.ip, list[0]!.userAgent, list[0]!.referer, list[0]!.requests, list[0]!.verdict], ['127.0.0.1', 'ua-1', 'http://site/', 5, 'allow']);
  assert.equal(gate.sessions.list('locked').length, 0, 'a protected stream is never opened from a report');
  gate.recordViewers([{ ...v, requests: 3 }]);
  list = gate.sessions.list('open');
  assert.equal(list.length, 1, 'the same viewer: the same session');
  assert.equal(list[0]!.requests, 8);
  // the agent's own authorize() finds the same session for the same viewer
  const r = await gate.authorize({ socket: { remoteAddress: '127.0.0.1' }, headers: { 'user-agent': 'ua-1' } } as unknown as IncomingMessage, open, new URLSearchParams(), 'hls');
  assert.ok(r.ok && r.session.id === list[0]!.id);
  assert.equal(gate.kill(list[0]!.id), true);
  assert.deepEqual(gate.killedViewers(), ['open\x00127.0.0.1\x00ua-1']);
  gate.recordViewers([v]);
  assert.equal(gate.sessions.list('open').length, 0, 'a killed viewer is not reopened by a late report');
});
