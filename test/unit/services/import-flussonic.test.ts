/** flussonic.conf parsing and translation into flux.yaml (pure: no processes). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { parseFlussonic, FlussonicSyntaxError } from '../../../src/services/import/flussonic-parse.js';
import { translateFlussonic } from '../../../src/services/import/flussonic.js';
import { importFlussonic } from '../../../src/services/import/index.js';
import { REPO_ROOT } from '../../helpers/index.js';

const FIX = path.join(REPO_ROOT, 'test/fixtures/flussonic');
const tr = (text: string) => translateFlussonic(parseFlussonic(text, 'f.conf'), 'f.conf');
const stream = (text: string, name = 'a') => (tr(text).config.streams as Record<string, Record<string, any>>)[name]!;

test('parser: directives, blocks, quotes, comments and positions', () => {
  const ds = parseFlussonic('# c\nhttp 80; # trailing\nstream "my cam" {\n  title "a { b; c }";\n  input udp://x:1 priority=2;\n}\n', 'f.conf');
  assert.deepEqual(ds.map((d) => [d.name, d.args, d.line]), [['http', ['80'], 2], ['stream', ['my cam'], 3]]);
  assert.deepEqual(ds[1]!.block!.map((d) => [d.name, d.args, d.line, d.col]), [['title', ['a { b; c }'], 4, 3], ['input', ['udp://x:1', 'priority=2'], 5, 3]]);
});

test('parser: syntax errors carry file:line:col', () => {
  const err = (text: string) => {
    try {
      parseFlussonic(text, 'x.conf');
    } catch (e) {
      assert.ok(e instanceof FlussonicSyntaxError);
      return e.message;
    }
    assert.fail('no syntax error');
  };
  assert.equal(err('stream a {\n  input udp://x:1;\n'), 'x.conf:1:10: "{" is never closed (missing "}")');
  assert.equal(err('http 80;\n}\n'), 'x.conf:2:1: unexpected "}" with no open block');
  assert.equal(err('stream a {\n  title "open;\n}\n'), 'x.conf:2:9: unterminated string (missing closing ")');
  assert.equal(err('http 80'), 'x.conf:1:1: directive "http" is not terminated by ";"');
  assert.equal(err('stream a {\n  input udp://x:1\n  dvr /d;\n}'), 'x.conf:2:3: directive "input" is not terminated by ";" (next line starts "dvr")');
  assert.equal(err('stream a { input udp://x:1 }'), 'x.conf:1:28: directive "input" is not terminated by ";" before "}"');
  assert.equal(err('{ http 80; }'), 'x.conf:1:1: unexpected "{": a block needs a directive name before it');
});

test('http/rtmp/srt ports, bind address and loglevel go to server', () => {
  const r = tr('http 127.0.0.1:8081;\nrtmp 1936;\nsrt 9998;\nloglevel warning;\n');
  assert.deepEqual(r.config.server, { http: 8081, host: '127.0.0.1', rtmp: 1936, srt: 9998, log_level: 'warn' });
  const bad = tr('http 80 8080;\nrtmp x;\n');
  assert.deepEqual(bad.config.server, { http: 80 });
  assert.deepEqual(bad.skipped.map((s) => [s.line, s.directive]), [[1, 'http 8080'], [2, 'rtmp x']]);
});

test('inputs: order, priority=, backup, source_timeout (per input and per stream); unknown schemes skipped', () => {
  const s = stream('stream a {\n input udp://239.0.0.1:1234;\n input tshttp://b/a/mpegts priority=2 source_timeout=10;\n input rtsp://c/x backup;\n input m4f://o/a;\n url fake://testsrc;\n source_timeout 5;\n}\n');
  assert.deepEqual(s.inputs, [
    { url: 'udp://239.0.0.1:1234', source_timeout: 5 },
    { url: 'tshttp://b/a/mpegts', priority: 2, source_timeout: 10 },
    { url: 'rtsp://c/x', backup: true, source_timeout: 5 },
    { url: 'fake://testsrc', source_timeout: 5 },
  ]);
  const r = tr('stream a {\n input udp://x:1 frames_timeout=3;\n}\nstream b {\n input copy://a;\n}\n');
  assert.deepEqual(r.skipped.map((x) => [x.line, x.reason]), [
    [2, 'input option "frames_timeout=3" not translated'],
    [4, 'stream "b" has no input Flux can use; not translated'],
    [5, 'Flux has no copy:// input'],
  ]);
  assert.deepEqual(Object.keys(r.config.streams as object), ['a']);
});

test('mosaic:// inputs: taken as they are when Flux reads the URL, else listed with the reason', () => {
  const r = tr('stream a { input fake://testsrc; }\nstream b { input fake://testsrc; }\nstream wall {\n input mosaic://a,b?size=640x240&fps=25;\n input mosaic://a,b?preset=ultrafast;\n}\n');
  assert.deepEqual((r.config.streams as Record<string, any>).wall.inputs, [{ url: 'mosaic://a,b?size=640x240&fps=25' }]);
  assert.deepEqual(r.skipped.map((x) => [x.line, x.reason]), [[5, 'mosaic:// unknown option "preset" (known: layout, size, fps, bitrate, labels, audio)']]);
});

test('dvr: positional and key=value forms, named storages, dangling storage', () => {
  assert.deepEqual(stream('stream a { input udp://x:1; dvr /st 7d 500G; }').dvr, { path: '/st', retention: '7d', max_size: '500G' });
  assert.deepEqual(stream('stream a { input udp://x:1; dvr /st 3600 90%; }').dvr, { path: '/st', retention: 3600, disk_usage_limit: '90%' });
  assert.deepEqual(stream('stream a { input udp://x:1; dvr /st retention=1d storage_limit=50G disk_limit=80; }').dvr, { path: '/st', retention: '1d', max_size: '50G', disk_usage_limit: '80%' });
  const r = tr('dvr main {\n root /s;\n dvr_limit 2d;\n dvr_capacity 1T;\n disk_limit 95;\n copies 2;\n}\nstream a { input udp://x:1; dvr @main; }\nstream b {\n input udp://x:2;\n dvr @nope;\n}\n');
  assert.deepEqual(r.config.dvr, { main: { path: '/s', retention: '2d', max_size: '1T', disk_usage_limit: '95%' } });
  assert.deepEqual((r.config.streams as any).a.dvr, { storage: 'main' });
  assert.equal((r.config.streams as any).b.dvr, undefined);
  assert.deepEqual(r.skipped.map((x) => [x.line, x.directive]), [[6, 'copies 2'], [11, 'dvr @nope']]);
});

test('transcoder: inline options (each vb= starts a profile) and the block form with profile blocks', () => {
  const s = stream('stream a { input udp://x:1; transcoder vb=2048k size=1280x720 preset=veryfast vcodec=hevc vb=1024k size=640x360:fit fps=25 bframes=0 ab=128k acodec=aac ar=48000 ac=2 hw=nvenc deinterlace=true; }');
  assert.deepEqual(s.transcoder, {
    hw: 'nvenc',
    deinterlace: true,
    video: [
      { bitrate: '2048k', size: '1280x720', preset: 'veryfast', codec: 'h265' },
      { bitrate: '1024k', size: '640x360', fps: 25, bframes: 0 },
    ],
    audio: { bitrate: '128k', codec: 'aac', sample_rate: 48000, channels: 2 },
  });
  const b = stream('stream a { input udp://x:1; transcoder { hw qsv; deinterlace bwdif; profile { vb 1500k; size 1280x720; } profile { vb 500k; } ab 64k; } }');
  assert.deepEqual(b.transcoder, { hw: 'qsv', deinterlace: 'bwdif', video: [{ bitrate: '1500k', size: '1280x720' }, { bitrate: '500k' }], audio: { bitrate: '64k' } });
  const r = tr('stream a {\n input udp://x:1;\n transcoder size=1x1 vb=fast vb=1000k g=50 hw=amf;\n}\n');
  assert.deepEqual((r.config.streams as any).a.transcoder, { video: [{ bitrate: '1000k' }] });
  assert.deepEqual(r.skipped.map((x) => x.directive), ['transcoder size=1x1', 'transcoder vb=fast', 'transcoder g=50', 'transcoder hw=amf']);
  const copy = tr('stream a { input udp://x:1; transcoder vb=copy ab=128k; }');
  assert.equal((copy.config.streams as any).a.transcoder, undefined);
  assert.match(copy.skipped[0]!.reason, /vb=copy/);
});

test('push, auth, on_play, publish_password, title, hls, disabled, static', () => {
  const s = stream('stream a { input publish://; title "The A"; push rtmp://cdn/live/a; push srt://cdn:9000; auth http://auth/x; publish_password k1; segment_duration 4; segment_count 8; disabled; static; }');
  assert.deepEqual(s, {
    inputs: [{ url: 'publish://' }],
    title: 'The A',
    push: ['rtmp://cdn/live/a', 'srt://cdn:9000'],
    auth: { play_backend: 'http://auth/x', publish_password: 'k1' },
    hls: { segment_duration: 4, window: 8 },
    disabled: true,
  });
  assert.deepEqual(stream('stream a { input publish://; on_play http://a/play; }').auth, { play_backend: 'http://a/play' });
  const r = tr('stream a {\n input publish://;\n push hls://x;\n auth token;\n}\n');
  assert.deepEqual(r.skipped.map((x) => x.line), [3, 4]);
});

test('templates keep prefix; cluster_key, peer, source, edit_auth and unknown directives are listed', () => {
  const r = tr('cluster_key k;\npeer p { cluster_key k; }\nsource s.local { }\nedit_auth a b;\ntemplate cams {\n prefix cams/ door/;\n input rtsp://x/$name;\n}\ntemplate t2 { dvr /x 1d; }\nfoo bar;\n');
  assert.deepEqual(r.config.templates, { cams: { prefix: ['cams/', 'door/'], inputs: [{ url: 'rtsp://x/$name' }] }, t2: { prefix: 't2', dvr: { path: '/x', retention: '1d' } } });
  assert.deepEqual(r.skipped.map((x) => [x.line, x.directive.split(' ')[0]]), [[1, 'cluster_key'], [2, 'peer'], [3, 'source'], [4, 'edit_auth'], [10, 'foo']]);
  assert.match(r.skipped[0]!.reason, /etcd/);
});

test('every corpus config imports into a flux.yaml the validator accepts, with source-line comments', async () => {
  const files = (await readdir(FIX)).filter((f) => f.endsWith('.conf'));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const text = await readFile(path.join(FIX, f), 'utf8');
    const r = importFlussonic(text, f);
    assert.deepEqual(r.issues, [], `${f}: ${JSON.stringify(r.issues)}`);
    assert.ok(r.streams >= 2, f);
    const doc = parse(r.yaml);
    for (const name of Object.keys(doc.streams)) {
      const line = text.split('\n').findIndex((l) => l.startsWith(`stream ${name} `)) + 1;
      assert.ok(r.yaml.includes(`# ${f}:${line}\n`), `${f}: stream ${name} names its line ${line}`);
    }
  }
  const cams = importFlussonic(await readFile(path.join(FIX, 'cameras.conf'), 'utf8'), 'cameras.conf');
  assert.deepEqual(cams.skipped.map((s) => [s.line, s.directive.split(' ')[0]]), [[4, 'cluster_key'], [5, 'peer'], [8, 'edit_auth'], [42, 'on_publish']]);
  assert.match(cams.yaml, /^# 4 directives were not translated:$/m);
});

test('file NAME { path DIR; } becomes a vod location', () => {
  const r = tr('file movies {\n path /srv/movies;\n download true;\n}\nfile "bad name" { path /x; }\n');
  assert.deepEqual(r.config.vod, { movies: { path: '/srv/movies' } });
  assert.deepEqual(r.skipped.map((x) => [x.line, x.directive]), [[3, 'download true'], [5, 'file bad name']]);
  const out = importFlussonic('file movies { path /srv/movies; }\nstream a { input publish://; }\n', 'f.conf');
  assert.deepEqual(out.issues, []);
  assert.match(out.yaml, /^vod:\n {2}# f\.conf:1\n {2}movies:\n {4}path: \/srv\/movies$/m);
});
