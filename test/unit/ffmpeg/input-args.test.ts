import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInputArgs, srtInputUrl, filePathOf, GLOBAL_ARGS } from '../../../src/ffmpeg/args.js';
import { InputError } from '../../../src/core/errors.js';
import { input, after, caps, beforeInput } from './fixtures.js';

test('every input starts with the global flags and +genpts', () => {
  for (const url of ['fake://testsrc', 'file:///a.mp4', 'rtmp://h/live/x', 'rtsp://h/x', 'srt://h:9000', 'hls://h/x.m3u8', 'tshttp://h/x']) {
    const a = buildInputArgs(input(url));
    assert.deepEqual(a.slice(0, GLOBAL_ARGS.length), [...GLOBAL_ARGS], url);
    for (const f of ['-nostdin', '-hide_banner']) assert.ok(a.includes(f), `${url}: ${f}`);
    assert.equal(after(a, '-loglevel'), 'warning');
    assert.equal(after(a, '-fflags'), '+genpts');
    assert.ok(a.indexOf('-fflags') < a.indexOf('-i'), 'fflags is an input option');
  }
});

test('fake:// → paced lavfi testsrc2 with a sine tone, URL options applied', () => {
  const a = buildInputArgs(input('fake://testsrc?size=320x240&fps=25&tone=1'));
  assert.ok(beforeInput(a).includes('-re'));
  assert.equal(after(a, '-f'), 'lavfi');
  const g = after(a, '-i')!;
  assert.match(g, /^testsrc2=size=320x240:rate=25\[out0\];sine=frequency=1000:sample_rate=48000,aformat=channel_layouts=stereo\[out1\]$/);
});

test('fake:// black with silence, no -re when realtime=0, finite duration', () => {
  const a = buildInputArgs(input('fake://black?tone=0&realtime=0&duration=3'));
  assert.ok(!a.includes('-re'));
  const g = after(a, '-i')!;
  assert.match(g, /^color=c=black:size=1280x720:rate=25:duration=3\[out0\]/);
  assert.match(g, /anullsrc=channel_layout=stereo:sample_rate=48000,atrim=duration=3\[out1\]$/);
});

test('fake:// smptebars and several audio tracks from lang=', () => {
  const g = after(buildInputArgs(input('fake://smptebars?lang=eng,fra&freq=440')), '-i')!;
  assert.match(g, /^smptebars=/);
  assert.match(g, /sine=frequency=440:.*\[out1\];sine=frequency=940:.*\[out2\]$/);
});

test('fake:// with an unknown option or pattern is an InputError naming it', () => {
  assert.throws(() => buildInputArgs(input('fake://testsrc?sise=1x1')), (e: unknown) => e instanceof InputError && /unknown option "sise"/.test((e as Error).message));
  assert.throws(() => buildInputArgs(input('fake://plasma')), /unknown pattern/);
  assert.throws(() => buildInputArgs(input('fake://testsrc?size=321x240')), /even/);
});

test('file:// → -re, loops with -stream_loop -1 unless loop is off; path protected by file:', () => {
  const a = buildInputArgs(input('file:///media/my%20clip.mp4'));
  assert.deepEqual(beforeInput(a).slice(-3), ['-re', '-stream_loop', '-1']);
  assert.equal(after(a, '-i'), 'file:/media/my clip.mp4');
  const b = buildInputArgs(input('file:///media/a:b.ts', { loop: false }));
  assert.ok(!b.includes('-stream_loop'));
  assert.ok(b.includes('-re'));
  assert.equal(after(b, '-i'), 'file:/media/a:b.ts');
  assert.equal(filePathOf('file://rel/x.mp4'), 'rel/x.mp4');
});

test('rtmp/rtmps → rw_timeout (µs) from source_timeout, no -re', () => {
  const a = buildInputArgs(input('rtmp://src/live/cam', { sourceTimeoutMs: 4000 }));
  assert.equal(after(a, '-rw_timeout'), '8000000');
  assert.equal(after(a, '-i'), 'rtmp://src/live/cam');
  assert.ok(!a.includes('-re'));
  assert.equal(after(buildInputArgs(input('rtmps://src/live/cam')), '-i'), 'rtmps://src/live/cam');
});

test('rtsp → -rtsp_transport (tcp by default, udp when configured) and -timeout (µs); 4.x uses -stimeout', () => {
  const a = buildInputArgs(input('rtsp://cam/stream'));
  assert.equal(after(a, '-rtsp_transport'), 'tcp');
  assert.equal(after(a, '-timeout'), '10000000');
  const u = buildInputArgs(input('rtsp://cam/stream', { rtspTransport: 'udp' }));
  assert.equal(after(u, '-rtsp_transport'), 'udp');
  const old = buildInputArgs(input('rtsp://cam/stream'), caps({ major: 4, minor: 4 }));
  assert.ok(old.includes('-stimeout') && !old.includes('-timeout'));
});

test('srt caller: latency in microseconds, streamid and mode in the query, passphrase as protocol option', () => {
  const i = input('srt://10.0.0.1:9000', { srtLatencyMs: 200, srtStreamId: '#!::r=live/cam,m=request', srtPassphrase: 'secret&p+ss word' });
  const a = buildInputArgs(i);
  const url = after(a, '-i')!;
  assert.match(url, /^srt:\/\/10\.0\.0\.1:9000\?/);
  assert.match(url, /[?&]mode=caller(&|$)/);
  assert.match(url, /[?&]latency=200000(&|$)/);
  assert.match(url, /[?&]streamid=#!::r=live\/cam,m=request(&|$)/);
  assert.match(url, /[?&]timeout=10000000(&|$)/);
  assert.ok(!url.includes('passphrase'));
  assert.equal(after(a, '-passphrase'), 'secret&p+ss word');
  assert.ok(a.indexOf('-passphrase') < a.indexOf('-i'));
});

test('srt keeps query parameters already in the URL (mode) and overrides latency', () => {
  const url = srtInputUrl(input('srt://h:1?mode=rendezvous&latency=1&pbkeylen=16', { srtLatencyMs: 120 }));
  assert.match(url, /mode=rendezvous/);
  assert.match(url, /latency=120000/);
  assert.match(url, /pbkeylen=16/);
  assert.ok(!/mode=caller/.test(url));
});

test('srt streamid with & or + cannot be expressed: InputError', () => {
  assert.throws(() => buildInputArgs(input('srt://h:1', { srtStreamId: 'a&b' })), InputError);
  assert.throws(() => buildInputArgs(input('srt://h:1', { srtStreamId: 'a+b' })), InputError);
});

test('hls:// and http(s) m3u8 → http(s) with reconnect options', () => {
  const a = buildInputArgs(input('hls://origin/live/index.m3u8'));
  assert.equal(after(a, '-i'), 'http://origin/live/index.m3u8');
  assert.equal(after(a, '-reconnect'), '1');
  assert.equal(after(a, '-reconnect_streamed'), '1');
  assert.ok(a.includes('-reconnect_delay_max'));
  assert.equal(after(buildInputArgs(input('hlss://o/x.m3u8')), '-i'), 'https://o/x.m3u8');
  assert.equal(after(buildInputArgs(input('https://o/x.m3u8')), '-i'), 'https://o/x.m3u8');
});

test('tshttp → http with -f mpegts and reconnect', () => {
  const a = buildInputArgs(input('tshttps://o/ch/mpegts'));
  assert.equal(after(a, '-i'), 'https://o/ch/mpegts');
  assert.equal(a[a.indexOf('-i') - 1], 'mpegts');
  assert.ok(a.includes('-reconnect'));
});

test('udp multicast: interface becomes localaddr, overruns are not fatal', () => {
  const a = buildInputArgs(input('udp://239.0.0.1:1234', { interface: '10.1.1.1' }));
  const url = after(a, '-i')!;
  assert.match(url, /^udp:\/\/239\.0\.0\.1:1234\?/);
  assert.match(url, /localaddr=10\.1\.1\.1/);
  assert.match(url, /overrun_nonfatal=1/);
});

test('publish:// and stdin read MPEG-TS from pipe:0 without -re', () => {
  for (const a of [buildInputArgs('stdin'), buildInputArgs(input('publish://'))]) {
    assert.equal(after(a, '-i'), 'pipe:0');
    assert.equal(after(a, '-f'), 'mpegts');
    assert.ok(!a.includes('-re'));
  }
});

test('an unknown scheme is an InputError', () => {
  assert.throws(() => buildInputArgs(input('gopher://x')), InputError);
});

test('srt listener inputs (srt_mode: listener, srt://:port) listen without an I/O timeout; the passphrase stays an option', () => {
  const a = buildInputArgs(input('srt://0.0.0.0:9000', { srtMode: 'listener', srtLatencyMs: 200, srtPassphrase: 'correcthorsebattery' }));
  const url = after(a, '-i') ?? '';
  assert.match(url, /mode=listener/);
  assert.match(url, /latency=200000/);
  assert.doesNotMatch(url, /timeout=|passphrase/);
  assert.equal(after(a, '-passphrase'), 'correcthorsebattery');
  assert.match(srtInputUrl(input('srt://h:1', { srtMode: 'caller' })), /mode=caller.*timeout=/);
});

test('live inputs probe 1 s / 1 MB (LIVE_PROBE) before -i, the fed stdin of a transcoder too; file:// and fake:// keep ffmpeg defaults', () => {
  for (const url of ['rtmp://h/live/x', 'rtsp://h/x', 'srt://h:9000', 'hls://h/x.m3u8', 'http://h/x.ts', 'tshttp://h/x', 'udp://239.0.0.1:1234', 'rtp://239.0.0.1:5004', 'publish://']) {
    const a = buildInputArgs(input(url));
    assert.equal(after(a, '-analyzeduration'), '1000000', url);
    assert.equal(after(a, '-probesize'), '1000000', url);
    assert.ok(a.indexOf('-analyzeduration') < a.indexOf('-i'), `${url}: an input option`);
  }
  for (const url of ['file:///a.mp4', 'fake://testsrc']) {
    const a = buildInputArgs(input(url));
    assert.ok(!a.includes('-analyzeduration') && !a.includes('-probesize'), url);
  }
  assert.equal(after(buildInputArgs('stdin'), '-analyzeduration'), '1000000');
});
