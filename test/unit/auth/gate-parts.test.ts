import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addQueryToPlaylist } from '../../../src/auth/playlist-uris.js';
import { IpRules } from '../../../src/auth/ip-rules.js';
import { SessionTable } from '../../../src/auth/sessions.js';

test('addQueryToPlaylist: URIs and URI="…" attributes get the session, tags and blank lines untouched', () => {
  const pl = '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key-1.key",IV=0x00\n#EXTINF:2.0,\n2026/01/01/00/1-2000.ts\n#EXT-X-MAP:URI="init.mp4?v=1"\ntracks-v1a1/index.m3u8#frag\n\n';
  const out = addQueryToPlaylist(Buffer.from(pl), 'token=a%2Bb').toString();
  assert.equal(
    out,
    '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key-1.key?token=a%2Bb",IV=0x00\n#EXTINF:2.0,\n2026/01/01/00/1-2000.ts?token=a%2Bb\n#EXT-X-MAP:URI="init.mp4?v=1&token=a%2Bb"\ntracks-v1a1/index.m3u8?token=a%2Bb#frag\n\n',
  );
});

test('IpRules: allow and deny CIDR lists, IPv4-mapped clients, IPv6; deny wins', () => {
  const r = new IpRules(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'], ['10.66.0.0/16']);
  assert.equal(r.check('10.1.2.3'), undefined);
  assert.equal(r.check('::ffff:10.1.2.3'), undefined);
  assert.equal(r.check('192.0.2.7'), undefined);
  assert.equal(r.check('2001:db8::1'), undefined);
  assert.match(r.check('10.66.1.1')!, /denied/);
  assert.match(r.check('172.16.0.1')!, /not allowed/);
  assert.match(r.check(undefined)!, /unknown/);
  assert.ok(new IpRules(undefined, []).empty);
  assert.equal(new IpRules(undefined, ['127.0.0.1']).check('127.0.0.2'), undefined);
});

test('SessionTable: counts exclude denied sessions; idle sessions close; killed ids stay refused', () => {
  const closed: string[] = [];
  const t = new SessionTable(1000, (s, why) => closed.push(`${s.id}:${why}`));
  const a = t.open({ stream: 's', ip: '1.1.1.1', proto: 'hls', keys: ['ka'], now: 0 });
  const b = t.open({ stream: 's', ip: '2.2.2.2', token: 'tok', proto: 'hls', keys: ['kb'], now: 0 });
  assert.equal(t.size, 2);
  assert.equal(b.suffix, 'token=tok');
  assert.equal(a.suffix, `session=${a.id}`);
  t.setVerdict(b, 'deny');
  assert.equal(t.size, 1);
  assert.equal(t.streamCount('s'), 1);
  assert.equal(t.list('s').length, 1, 'denied sessions are not listed');
  t.setVerdict(b, 'allow');
  assert.equal(t.tokenCount('s', 'tok', a), 1);
  a.lastSeen = 500;
  t.sweep(1200);
  assert.deepEqual(closed, [`${b.id}:idle`]);
  assert.equal(t.size, 1);
  assert.ok(t.kill(a.id, 1300, 5000));
  assert.ok(t.isKilled(a.id, 2000) && t.isKilled('ka', 2000));
  assert.ok(!t.isKilled(a.id, 7000), 'remembered for a while only');
  assert.equal(t.size, 0);
  assert.equal(t.kill('nope', 0, 1), undefined);
});

test('SessionTable: touch keeps a viewer without requests open (not a denied or gone one); watchers hear the close once', () => {
  const t = new SessionTable(2000);
  const a = t.open({ stream: 's', ip: '1.1.1.1', proto: 'webrtc', keys: ['ka'], now: 0 });
  assert.equal(t.keepaliveMs, 500, 'a quarter of the timeout');
  assert.equal(new SessionTable(60_000).keepaliveMs, 5000, 'at most 5 s');
  assert.equal(new SessionTable(100).keepaliveMs, 100, 'at least 100 ms');
  for (let now = 500; now <= 6000; now += 500) {
    assert.ok(t.touch(a.id, now));
    t.sweep(now);
  }
  assert.equal(t.get(a.id), a, 'open past 3× the timeout');
  assert.equal(a.requests, 0, 'a touch is not a request');
  const heard: string[] = [];
  const unwatch2 = t.watch(a.id, (why) => heard.push(`2:${why}`));
  t.watch(a.id, (why) => heard.push(`1:${why}`));
  unwatch2();
  t.kill(a.id, 6000, 1000);
  assert.deepEqual(heard, ['1:killed']);
  assert.equal(t.touch(a.id, 6100), false, 'gone');
  t.watch(a.id, (why) => heard.push(`late:${why}`));
  assert.deepEqual(heard, ['1:killed', 'late:closed'], 'watching a closed session hears at once');
  const b = t.open({ stream: 's', ip: '2.2.2.2', proto: 'webrtc', keys: ['kb'], now: 0 });
  t.setVerdict(b, 'deny');
  assert.equal(t.touch(b.id, 100), false, 'denied');
});

test('addQueryToPlaylist: the cut of a playlist is reused, and every URI gets the query (with & after an existing one)', () => {
  const body = Buffer.from('#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key-1.key"\n#EXTINF:2,\nseg1.ts\n#EXTINF:2,\nseg2.ts?x=1\n#EXT-X-MAP:URI="init.mp4#f"\n');
  const want = (s: string) => `#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key-1.key?${s}"\n#EXTINF:2,\nseg1.ts?${s}\n#EXTINF:2,\nseg2.ts?x=1&${s}\n#EXT-X-MAP:URI="init.mp4?${s}#f"\n`;
  assert.equal(addQueryToPlaylist(body, 'session=a').toString(), want('session=a'));
  assert.equal(addQueryToPlaylist(body, 'token=bb-cc').toString(), want('token=bb-cc'), 'second suffix on the same (cached) body');
  assert.equal(addQueryToPlaylist(Buffer.from('#EXTM3U\n'), 'session=a').toString(), '#EXTM3U\n', 'nothing to rewrite');
});
