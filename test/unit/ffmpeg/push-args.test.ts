import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPushArgs, pushFormat, pushUrlIssue } from '../../../src/ffmpeg/args.js';
import { redactPushUrl } from '../../../src/daemons/stream/push.js';
import { InputError } from '../../../src/core/errors.js';
import { push, after, allAfter } from './fixtures.js';

test('rtmp push: TS from pipe:0, copy, flv with no_duration_filesize, one video + one audio track', () => {
  const a = buildPushArgs(push('rtmp://cdn.example.com/live/key'));
  assert.equal(after(a, '-i'), 'pipe:0');
  assert.equal(a[a.indexOf('-i') - 1], 'mpegts');
  assert.equal(after(a, '-c'), 'copy');
  assert.equal(allAfter(a, '-f').at(-1), 'flv');
  assert.equal(after(a, '-flvflags'), 'no_duration_filesize');
  assert.deepEqual(allAfter(a, '-map'), ['0:v:0?', '0:a:0?']);
  assert.equal(a.at(-1), 'rtmp://cdn.example.com/live/key');
  assert.ok(!a.some((x) => /^-c:v$|libx264/.test(x)), 'never re-encodes');
  assert.equal(after(a, '-progress'), 'pipe:1');
  assert.ok(a.includes('-nostdin'));
});

test('rtmps push is flv too', () => {
  assert.equal(allAfter(buildPushArgs(push('rtmps://x/app/k')), '-f').at(-1), 'flv');
});

test('srt push: mpegts, caller mode and 1316-byte payloads added, every audio track kept', () => {
  const a = buildPushArgs(push('srt://1.2.3.4:9000?streamid=abc'));
  assert.equal(allAfter(a, '-f').at(-1), 'mpegts');
  assert.equal(a.at(-1), 'srt://1.2.3.4:9000?streamid=abc&mode=caller&pkt_size=1316');
  assert.deepEqual(allAfter(a, '-map'), ['0:v:0?', '0:a?']);
});

test('udp push: mpegts with pkt_size', () => {
  const a = buildPushArgs(push('udp://239.0.0.2:1234?ttl=4'));
  assert.equal(allAfter(a, '-f').at(-1), 'mpegts');
  assert.equal(a.at(-1), 'udp://239.0.0.2:1234?ttl=4&pkt_size=1316');
});

test('file push: -y, container from the extension, path protected by file:', () => {
  const ts = buildPushArgs(push('file:///rec/out.ts'));
  assert.equal(ts.at(-1), 'file:/rec/out.ts');
  assert.equal(allAfter(ts, '-f').at(-1), 'mpegts');
  assert.ok(ts.includes('-y'));
  const flv = buildPushArgs(push('file:///rec/out.flv'));
  assert.equal(allAfter(flv, '-f').at(-1), 'flv');
});

test('pushFormat and unsupported schemes', () => {
  assert.equal(pushFormat('rtmp://a/b'), 'flv');
  assert.equal(pushFormat('srt://a:1'), 'mpegts');
  assert.throws(() => buildPushArgs(push('http://a/b')), InputError);
});

test('srt push: listener mode and passphrase kept from the URL', () => {
  const a = buildPushArgs(push('srt://127.0.0.1:9000?mode=listener&passphrase=0123456789'));
  assert.equal(a.at(-1), 'srt://127.0.0.1:9000?mode=listener&passphrase=0123456789&pkt_size=1316');
});

test('udp push ?muxrate=: constant-rate mpegts (-muxrate) and paced datagrams (udp bitrate), option removed from the URL', () => {
  const a = buildPushArgs(push('udp://239.1.1.1:1234?ttl=4&pkt_size=1316&muxrate=8M'));
  assert.equal(after(a, '-muxrate'), '8000000');
  assert.equal(a.at(-1), 'udp://239.1.1.1:1234?ttl=4&pkt_size=1316&bitrate=8000000');
  const s = buildPushArgs(push('srt://h:1?muxrate=4000k'));
  assert.equal(after(s, '-muxrate'), '4000000');
  assert.ok(!s.at(-1)!.includes('muxrate'));
  assert.throws(() => buildPushArgs(push('udp://h:1?muxrate=fast')), /muxrate "fast" is not a bitrate/);
  assert.throws(() => buildPushArgs(push('udp://h:1?muxrate=10k')), /too low/);
  assert.equal(pushUrlIssue('udp://h:1?muxrate=8M'), null);
  assert.match(pushUrlIssue('rtmp://h/live/x?muxrate=8M')!, /udp:\/\/ and srt:\/\/ pushes only/);
  assert.equal(pushUrlIssue('rtmp://h/live/x'), null);
});

test('push status and logs mask an SRT passphrase', () => {
  assert.equal(redactPushUrl('srt://h:1?streamid=a&passphrase=topsecret99&latency=1'), 'srt://h:1?streamid=a&passphrase=***&latency=1');
  assert.equal(redactPushUrl('rtmp://u:pw@h/live/x'), 'rtmp://u:***@h/live/x');
  assert.equal(redactPushUrl('udp://239.1.1.1:1234'), 'udp://239.1.1.1:1234');
});
