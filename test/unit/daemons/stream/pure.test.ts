/** Pure helpers of the supervisor: ffmpeg stderr summary, UDP URLs/RTP, spec, redaction, monitor. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineTail, cleanLine, describeExit, summarizeFfmpegError } from '../../../../src/daemons/stream/ffmpeg-log.js';
import { interfaceAddress, isMulticast, parseUdpUrl, unwrapRtp } from '../../../../src/daemons/stream/sources/udp.js';
import { tshttpToHttp } from '../../../../src/daemons/stream/sources/tshttp.js';
import { parseSpec, runFiles, specHashOf } from '../../../../src/daemons/stream/spec.js';
import { redact } from '../../../../src/daemons/stream/supervisor.js';
import { InputMonitor, createTsAnalyzer } from '../../../../src/daemons/stream/monitor.js';
import { input, stream, tsPackets } from './fakes.js';

test('ffmpeg stderr → one telling line', () => {
  assert.equal(cleanLine('[tcp @ 0x55d0c0a1b2c0] Connection to tcp://127.0.0.1:1 failed: Connection refused'), 'tcp: Connection to tcp://127.0.0.1:1 failed: Connection refused');
  assert.equal(
    summarizeFfmpegError([
      'Input #0, lavfi, from x:',
      '  Duration: N/A',
      '[tcp @ 0x5600] Connection to tcp://127.0.0.1:1935?timeout=0 failed: Connection refused',
      'rtmp://127.0.0.1/live/x: Connection refused',
      'Conversion failed!',
    ]),
    'rtmp://127.0.0.1/live/x: Connection refused',
  );
  assert.equal(summarizeFfmpegError(['frame=  10 fps=0.0 q=-1.0 size=0kB', 'Exiting normally, received signal 15.']), 'Exiting normally, received signal 15.');
  assert.equal(summarizeFfmpegError(['/x/y.mp4: No such file or directory']), '/x/y.mp4: No such file or directory');
  assert.equal(summarizeFfmpegError([]), null);
  assert.equal(summarizeFfmpegError(['\x1b[31mHTTP error 404 Not Found\x1b[0m']), 'HTTP error 404 Not Found');
  assert.ok(summarizeFfmpegError(['x'.repeat(1000) + ' error'])!.length <= 300);
  assert.equal(describeExit(1, null, 'a: b'), 'ffmpeg exited with code 1: a: b');
  assert.equal(describeExit(null, 'SIGKILL', null), 'ffmpeg killed by SIGKILL');
  const tail = new LineTail(3);
  assert.deepEqual(tail.push('a\nb'), ['a']);
  assert.deepEqual(tail.push('c\rd\n\ne\n'), ['bc', 'd', 'e']);
  assert.deepEqual(tail.lines, ['bc', 'd', 'e']);
  tail.push('f\ng');
  assert.deepEqual(tail.all(), ['d', 'e', 'f', 'g']);
});

test('udp URLs: unicast, multicast, SSM, ffmpeg-style @; RTP unwrap', () => {
  assert.deepEqual(parseUdpUrl('udp://127.0.0.1:1234'), { host: '127.0.0.1', port: 1234, source: undefined, multicast: false });
  assert.deepEqual(parseUdpUrl('udp://239.0.0.1:5000?fifo_size=1'), { host: '239.0.0.1', port: 5000, source: undefined, multicast: true });
  assert.deepEqual(parseUdpUrl('udp://@239.1.1.1:5000'), { host: '239.1.1.1', port: 5000, source: undefined, multicast: true });
  assert.deepEqual(parseUdpUrl('udp://10.0.0.9@232.1.1.1:5000'), { host: '232.1.1.1', port: 5000, source: '10.0.0.9', multicast: true });
  assert.deepEqual(parseUdpUrl('udp://:5000'), { host: '0.0.0.0', port: 5000, source: undefined, multicast: false });
  assert.deepEqual(parseUdpUrl('udp://[ff02::1]:5000').multicast, true);
  assert.throws(() => parseUdpUrl('udp://host'), /cannot parse/);
  assert.throws(() => parseUdpUrl('udp://h:70000'), /bad UDP port/);
  assert.equal(isMulticast('224.0.0.1'), true);
  assert.equal(isMulticast('240.0.0.1'), false);
  assert.equal(interfaceAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(interfaceAddress('lo'), '127.0.0.1');
  assert.equal(interfaceAddress(undefined), undefined);
  assert.throws(() => interfaceAddress('nosuchif0'), /no IPv4 address/);
  const ts = tsPackets(2, 5);
  assert.equal(unwrapRtp(ts), ts, 'plain TS untouched');
  const rtp = Buffer.concat([Buffer.from([0x80, 33, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), ts]);
  assert.ok(unwrapRtp(rtp).equals(ts));
  const rtpCsrcExt = Buffer.concat([Buffer.from([0x91, 33, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(4), Buffer.from([0xbe, 0xde, 0, 1]), Buffer.alloc(4), ts]);
  assert.ok(unwrapRtp(rtpCsrcExt).equals(ts));
  assert.equal(tshttpToHttp('tshttps://h/x.ts'), 'https://h/x.ts');
  assert.equal(tshttpToHttp('tshttp://h/x.ts'), 'http://h/x.ts');
});

test('spec: parsed and checked; run files of a name with /', () => {
  const s = stream('cams/door', [input('fake://testsrc')], { root: '/data/cams/door' });
  const text = JSON.stringify({ stream: s, server: { runDir: '/run' }, specHash: 'h', ffmpeg: '/usr/bin/ffmpeg' });
  const spec = parseSpec(text);
  assert.equal(spec.stream.name, 'cams/door');
  assert.equal(spec.specHash, 'h');
  const noHash = parseSpec(JSON.stringify({ stream: s, server: { runDir: '/run' }, ffmpeg: 'ffmpeg' }));
  assert.equal(noHash.specHash, specHashOf(s));
  assert.match(specHashOf(s), /^[0-9a-f]{64}$/);
  assert.throws(() => parseSpec('{'), /not JSON/);
  assert.throws(() => parseSpec(JSON.stringify({ stream: { ...s, root: 'rel' }, server: { runDir: '/r' }, ffmpeg: 'f' })), /root must be an absolute path/);
  assert.throws(() => parseSpec(JSON.stringify({ stream: { ...s, name: '../x' }, server: { runDir: '/r' }, ffmpeg: 'f' })), /\.\./);
  assert.throws(() => parseSpec(JSON.stringify({ stream: s, server: {} })), /server\.runDir is missing; ffmpeg/);
  const f = runFiles('/run', 'cams/door');
  assert.equal(f.sock, '/run/streams/cams%2Fdoor.sock');
  assert.equal(f.pid, '/run/streams/cams%2Fdoor.pid');
  assert.equal(f.spec, '/run/streams/cams%2Fdoor.json');
});

test('redact hides credentials in URLs', () => {
  assert.equal(redact('rtmp://user:secret@h/live/x'), 'rtmp://user:***@h/live/x');
  assert.equal(redact('srt://h:1?mode=caller&passphrase=abcdefghijk&latency=1'), 'srt://h:1?mode=caller&passphrase=***&latency=1');
  assert.equal(redact('udp://239.0.0.1:1234'), 'udp://239.0.0.1:1234');
});

test('input monitor: bytes, bitrate window, CC errors and lost packets from the demuxer, silence → 0', () => {
  const m = new InputMonitor(createTsAnalyzer);
  let now = 1_000_000;
  m.tick(now);
  // 2 s of 100 packets per 100 ms = 1000 packets/s = 1.504 Mbit/s; continuous CC
  let cc = 0;
  for (let i = 0; i < 20; i++) {
    now += 100;
    m.feed(tsPackets(100, 1, cc), now);
    cc = (cc + 100) & 0x0f;
    m.tick(now);
  }
  assert.equal(m.bytes, 188 * 2000);
  assert.equal(m.bitrate, 1_504_000);
  assert.equal(m.ccErrors, 0);
  m.feed(tsPackets(10, 1, (cc + 3) & 0x0f), now); // a gap: 3 packets lost
  assert.equal(m.ccErrors, 1);
  assert.equal(m.lostPackets, 3);
  const before = m.ccErrors;
  m.reset(); // a new byte stream: counters carry on
  assert.equal(m.ccErrors, before);
  m.tick(now + 5000);
  assert.equal(m.bitrate, 0, 'silent input → 0 bit/s');
  assert.equal(m.snapshot().lastPacketAt, now);
});
