import { test } from 'node:test';
import { tempDir } from '../../helpers/index.js';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { validateText, validateFile, loadConfigFile, MAX_CONFIG_BYTES } from '../../../src/config/load.js';
import { ConfigError, InputError } from '../../../src/core/errors.js';
import { resolveConfig } from '../../../src/config/resolve.js';
import { manyStreamsYaml } from '../../helpers/config-fixtures.js';

const F = 'flux.yaml';
const lines = (text: string) => validateText(text, F).issues.map((i) => `${i.line}:${i.col}: ${i.message}`);

test('empty and comment-only files are valid configs with no streams', () => {
  for (const text of ['', '\n\n', '# nothing yet\n', '---\n', 'streams:\n', 'streams: {}\n']) {
    const r = validateText(text, F);
    assert.deepEqual(r.issues, [], JSON.stringify(text));
    assert.deepEqual(Object.keys(r.input?.streams ?? {}), []);
  }
});

test('schema problems and semantic problems in different parts are all reported in one run', () => {
  const text = [
    'server:',
    '  http: eighty', // 2: schema (type)
    'streams:',
    '  a:',
    '    inputs:',
    '      - url: gopher://x', // 6: semantic (scheme) in a stream that also has a schema problem
    '        priorty: 1', // 7: schema (unknown key)
    '  b:',
    '    inputs: [{url: "udp://10.1.1.1:2000"}]',
    '    dvr: { storage: nowhere }', // 10: semantic (reference)
    '  c:',
    '    inputs: [{url: "udp://10.1.1.1:2000"}]', // 12: semantic (port)
  ].join('\n');
  const got = lines(text);
  assert.equal(got.length, 5, got.join('\n'));
  assert.match(got[0]!, /^2:9: server\.http: expected a number, got "eighty"$/);
  assert.match(got[1]!, /^6:14: unsupported input URL scheme "gopher"/);
  assert.match(got[2]!, /^7:9: unknown key "priorty" in streams\.a\.inputs\[0\], did you mean "priority"\?$/);
  assert.match(got[3]!, /^10:21: unknown dvr storage "nowhere"/);
  assert.match(got[4]!, /^12:20: udp port 2000 \(10\.1\.1\.1\) is already used by streams\.b\.inputs\[0\]\.url/);
});

test('positions point at the key for unknown keys and at the value for bad values; a missing key at its parent key', () => {
  const text = 'streams:\n  cam:\n    title: 7\n    colour: red\n';
  const got = lines(text);
  assert.deepEqual(got, [
    '2:3: streams.cam: missing required key "inputs"',
    '3:12: streams.cam.title: expected a string, got 7',
    '4:5: unknown key "colour" in streams.cam (expected one of: inputs, title, disabled, transcoder, dvr, push, hls, protocols, thumbnails, auth, cluster_ingest, capture_at)',
  ]);
});

test('duplicate stream names are reported at the second occurrence with the first line; validation goes on', () => {
  const text = 'streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n  b:\n    inputs: [{url: "fake://testsrc"}]\n  a:\n    inputs: [{url: "bad://x"}]\n';
  assert.deepEqual(lines(text), [
    '6:3: duplicate stream name "a" (first defined at line 2)',
    '7:20: unsupported input URL scheme "bad": expected one of publish, fake, file, udp, rtp, tshttp, tshttps, http, https, hls, hlss, rtmp, rtmps, rtsp, rtsps, srt, peer, mosaic',
  ]);
  assert.deepEqual(lines('server:\n  http: 1\n  rtmp: 2\n  http: 3\n'), ['4:3: duplicate key "http" (first defined at line 2)']);
});

test('YAML syntax errors give their line and column', () => {
  assert.deepEqual(lines('streams:\n  a: [1, 2\nserver: {}\n'), ['3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]']);
  assert.deepEqual(lines('a: "open\n'), ['2:1: YAML syntax error: Missing closing "quote']);
  assert.deepEqual(lines('streams:\n\tcam: {}\n'), ['2:1: YAML syntax error: Tabs are not allowed as indentation']);
  const multi = lines('server: {}\n---\nstreams: {}\n');
  assert.equal(multi.length, 1);
  assert.match(multi[0]!, /^\d+:\d+: YAML syntax error: .*multiple documents/i);
});

test('alias problems are one clear issue, not an exception', () => {
  assert.deepEqual(lines('server: *nope\n'), ['1:1: YAML error: Unresolved alias (the anchor must be set before the alias): nope']);
  // a billion-laughs style expansion is stopped
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill('*' + String.fromCharCode(96 + i)).join(', ')}]`);
  const got = lines(bomb.join('\n') + '\n');
  assert.equal(got.length, 1);
  assert.match(got[0]!, /^1:1: YAML error: .*alias/i);
});

test('the top level must be a mapping', () => {
  assert.deepEqual(lines('- a\n- b\n'), ['1:1: expected a mapping at the top level (server:, streams:, …)']);
  assert.deepEqual(lines('just a string\n'), ['1:1: expected a mapping at the top level (server:, streams:, …)']);
});

test('stream names: "..", absolute, empty segments, control characters are rejected at the key', () => {
  const text = 'streams:\n  ../x:\n    inputs: [{url: "fake://testsrc"}]\n  /abs:\n    inputs: [{url: "fake://testsrc"}]\n  a//b:\n    inputs: [{url: "fake://testsrc"}]\n  "c\\x01d":\n    inputs: [{url: "fake://testsrc"}]\n  cams/ok:\n    inputs: [{url: "fake://testsrc"}]\n';
  assert.deepEqual(lines(text), [
    '2:3: invalid stream name "../x": stream name contains a ".." segment',
    '4:3: invalid stream name "/abs": stream name is an absolute path',
    '6:3: invalid stream name "a//b": stream name has an empty path segment',
    '8:3: invalid stream name "c\\u0001d": stream name contains a control character',
  ]);
});

test('listener ports: same udp address, wildcard vs group, srt listeners, server.srt, http = rtmp', () => {
  const text = [
    'server: { http: 8000, rtmp: 8000, srt: 9000 }', // 1
    'streams:',
    '  a: { inputs: [{url: "udp://239.0.0.1:1234"}] }', // 3
    '  b: { inputs: [{url: "udp://@239.0.0.1:1234"}] }', // 4 same group and port as a: fine (SO_REUSEADDR)
    '  c: { inputs: [{url: "udp://239.0.0.2:1234"}] }', // 5 other group: fine
    '  d: { inputs: [{url: "udp://0.0.0.0:1234"}] }', // 6 wildcard: conflicts with a
    '  e: { inputs: [{url: "srt://:9000?mode=listener"}] }', // 7 conflicts with server.srt
    '  f: { inputs: [{url: "srt://:7000"}] }', // 8 listener (no host)
    '  g: { inputs: [{url: "srt://0.0.0.0:7000", srt_mode: listener}] }', // 9 conflict with f
    '  h: { inputs: [{url: "srt://remote.example.com:7000"}] }', // 10 caller: no conflict
    '  i: { inputs: [{url: "udp://239.0.0.9:1935"}] }', // 11 udp vs tcp rtmp: no conflict
    '  j: { inputs: [{url: "udp://127.0.0.1:5000"}] }', // 12
    '  k: { inputs: [{url: "udp://127.0.0.1:5000"}] }', // 13 one unicast address: conflict with j
    '  l: { disabled: true, inputs: [{url: "udp://127.0.0.1:5000"}] }', // 14 disabled: listens on nothing
  ].join('\n');
  const got = lines(text);
  assert.equal(got.length, 5, got.join('\n'));
  assert.match(got[0]!, /^1:\d+: server\.rtmp port 8000 is already used by server\.http$/);
  assert.match(got[1]!, /^6:\d+: udp port 1234 \(all addresses\) is already used by streams\.a/);
  assert.match(got[2]!, /^7:\d+: udp port 9000 \(all addresses\) is already used by server\.srt/);
  assert.match(got[3]!, /^9:\d+: udp port 7000 .* streams\.f\.inputs\[0\]\.url/);
  assert.match(got[4]!, /^13:\d+: udp port 5000 \(127\.0\.0\.1\) is already used by streams\.j\.inputs\[0\]\.url \(127\.0\.0\.1\)/);
});

test('auth references: play_token needs a play backend, secure_link needs a key', () => {
  const text = 'streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    auth: { play_token: true, secure_link: true }\n';
  const got = lines(text);
  assert.equal(got.length, 2);
  assert.match(got[0]!, /^4:13: play_token needs a play backend/);
  assert.match(got[1]!, /^4:31: secure_link needs a secret: auth\.securetoken/);
  assert.deepEqual(lines(text + 'auth: { play_backend: "http://127.0.0.1:1/a", secure_link_key: "0123456789" }\n'), []);
});

test('files: missing, directory, binary, invalid UTF-8, too big: one clear InputError line each', async (t) => {
  const dir = await tempDir(t, 'flux-validate-');
  const expectInput = async (file: string, code: string, re: RegExp) => {
    await assert.rejects(validateFile(file), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.equal(e.code, code);
      // a file that exists but is no config is an invalid config (node start exits 3); a missing one is not
      assert.equal(e.exitCode, code === 'E_NOENT' || code === 'E_ISDIR' ? 1 : 3, code);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  };
  await expectInput(path.join(dir, 'missing.yaml'), 'E_NOENT', /missing\.yaml: no such file$/);
  await mkdir(path.join(dir, 'sub.yaml'));
  await expectInput(path.join(dir, 'sub.yaml'), 'E_ISDIR', /is a directory/);
  const junk = Buffer.alloc(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 255;
  await writeFile(path.join(dir, 'junk.bin'), junk);
  await expectInput(path.join(dir, 'junk.bin'), 'E_BINARY', /binary data/);
  await writeFile(path.join(dir, 'latin1.yaml'), Buffer.from('title: caf\xe9\n', 'latin1'));
  await expectInput(path.join(dir, 'latin1.yaml'), 'E_BINARY', /not UTF-8 text/);
  const big = path.join(dir, 'big.yaml');
  await writeFile(big, '# ' + 'x'.repeat(10 * 1024 * 1024) + '\n');
  await expectInput(big, 'E_TOOBIG', new RegExp(`file is \\d+ bytes, larger than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB limit`));
  // loadConfigFile reports the same way
  await assert.rejects(loadConfigFile(path.join(dir, 'missing.yaml')), InputError);
});

test('a file just under the size limit (comments) is parsed, not refused', async (t) => {
  const dir = await tempDir(t, 'flux-validate-');
  const file = path.join(dir, 'long.yaml');
  await writeFile(file, ('# ' + 'y'.repeat(1000) + '\n').repeat(Math.floor((MAX_CONFIG_BYTES - 4096) / 1003)) + 'streams: {}\n');
  const r = await validateFile(file);
  assert.deepEqual(r.issues, []);
});

// The timeout only catches a hang or a blow-up on a loaded machine; 5,000 streams take about a second alone.
test('5,000 streams validate and resolve; one broken stream among them is found with its position', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t, 'flux-validate-');
  const file = path.join(dir, 'many.yaml');
  await writeFile(file, manyStreamsYaml(5000));
  const r = await validateFile(file);
  assert.deepEqual(r.issues, []);
  const resolved = resolveConfig(r.input!, file);
  assert.equal(Object.keys(resolved.streams).length, 5000);
  assert.equal(resolved.streams.ch4999!.dvr!.retentionMs, 86_400_000);
  const text = manyStreamsYaml(5000).replace('  ch4321:\n    inputs:\n', '  ch4321:\n    inputz:\n');
  const bad = validateText(text, file);
  const line = text.slice(0, text.indexOf('  ch4321:')).split('\n').length;
  assert.deepEqual(
    bad.issues.map((i) => `${i.line}:${i.col}: ${i.message}`),
    [`${line}:3: streams.ch4321: missing required key "inputs"`, `${line + 1}:5: unknown key "inputz" in streams.ch4321, did you mean "inputs"?`],
  );
});

test('loadConfigFile throws ConfigError with every issue', async (t) => {
  const dir = await tempDir(t, 'flux-validate-');
  const file = path.join(dir, 'f.yaml');
  await writeFile(file, 'streams:\n  a:\n    inputs: []\n  b:\n    inputs: [{url: "nope://"}]\n');
  await assert.rejects(loadConfigFile(file), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues.length, 2);
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /f\.yaml:3:13: streams\.a\.inputs: needs at least 1 item\n.*f\.yaml:5:20: unsupported input URL scheme "nope"/);
    return true;
  });
});

test('push ?muxrate= is checked by validate: udp/srt only, a real bitrate, with its place', () => {
  const text = ['streams:', '  a:', '    inputs: [{ url: fake://testsrc }]', '    push:', '      - udp://239.1.1.1:1234?ttl=4&muxrate=8M', '      - rtmp://cdn/live/a?muxrate=8M', '      - { url: "srt://h:9000?muxrate=lots" }', ''].join('\n');
  assert.deepEqual(lines(text), ['6:9: muxrate (constant-rate MPEG-TS) applies to udp:// and srt:// pushes only', '7:16: push srt://h:9000?muxrate=lots: muxrate "lots" is not a bitrate (e.g. 8M, 4000k)']);
});

test('fake:// URLs are checked by validate: unknown patterns and options at the url, known ones pass', () => {
  const text = 'streams:\n  a:\n    inputs: [{url: "fake://plasma"}]\n  b:\n    inputs: [{url: "fake://slate?size=13x7"}]\n  c:\n    inputs: [{url: "fake://black?silence"}, {url: "fake://testsrc?size=640x360&fps=30"}]\n';
  const got = lines(text);
  assert.equal(got.length, 2, got.join('\n'));
  assert.match(got[0]!, /^3:\d+: fake:\/\/plasma: unknown pattern/);
  assert.match(got[1]!, /^5:\d+: fake:\/\/ option size=13x7/);
});

test('mosaic:// inputs are checked by validate: tiles, self and cycles, options, bitrate with a ladder, at the url', () => {
  const text = [
    'streams:',
    '  cams/door:',
    '    inputs: [{ url: fake://testsrc }]',
    '  yard:',
    '    inputs: [{ url: fake://testsrc }]',
    '    disabled: true',
    '  ok:',
    '    inputs: [{ url: "mosaic://cams/door,yard?layout=2x1&size=640x240&labels=1&audio=yard" }]',
    '  ghost:',
    '    inputs: [{ url: "mosaic://cams/door,nowhere" }]',
    '  self:',
    '    inputs: [{ url: "mosaic://yard,self" }]',
    '  ring1:',
    '    inputs: [{ url: "mosaic://ring2" }]',
    '  ring2:',
    '    inputs: [{ url: "mosaic://yard,ring1" }]',
    '  bad:',
    '    inputs:',
    '      - url: "mosaic://"',
    '      - url: "mosaic://yard?layout=0x2"',
    '      - url: "mosaic://yard,ok,cams/door?layout=2x1"',
    '      - url: "mosaic://yard?size=big"',
    '      - url: "mosaic://yard?zoom=2"',
    '  laddered:',
    '    inputs: [{ url: "mosaic://yard?bitrate=2M" }]',
    '    transcoder: { video: [{ bitrate: 1M, size: 640x360 }, { codec: copy, bitrate: 1M }] }',
    '',
  ].join('\n');
  const got = lines(text);
  assert.deepEqual(got, [
    '10:21: mosaic:// tile "nowhere" is not a stream of this config',
    '12:21: mosaic:// tile "self" is this stream itself',
    '14:21: mosaic:// cycle: ring1 → ring2 → ring1 (a mosaic cannot show itself)',
    '16:21: mosaic:// cycle: ring2 → ring1 → ring2 (a mosaic cannot show itself)',
    '19:14: mosaic:// needs at least one tile: mosaic://NAME[,NAME…]',
    '20:14: mosaic:// option layout=0x2: expected COLUMNSxROWS, each 1..99, e.g. 2x2',
    '21:14: mosaic:// layout=2x1 has 2 cells for 3 tiles',
    '22:14: mosaic:// option size=big: invalid frame size "big": expected WIDTHxHEIGHT, e.g. 1280x720',
    '23:14: mosaic:// unknown option "zoom" (known: layout, size, fps, bitrate, labels, audio)',
    '25:21: mosaic:// option bitrate= has no effect with a transcoder: the ladder\'s profiles set the bitrates',
    '25:21: mosaic:// needs every transcoder profile to encode (a mosaic is a new picture: there is nothing to copy)',
  ]);
});

test('server.http_workers: a whole number 0..256 or auto, refused with its place; auto = CPUs − 1, at least 1; default 0', async () => {
  const expected: Record<string, string> = {
    '-1': 'must be at least 0, got -1',
    lots: 'expected a whole number 0..256 or auto, got "lots"',
    '1.5': 'expected a whole number 0..256 or auto, got 1.5',
    '257': 'must be at most 256, got 257',
    true: 'expected a whole number 0..256 or auto, got true',
  };
  for (const [bad, message] of Object.entries(expected)) assert.deepEqual(lines(`server:\n  http_workers: ${bad}\n`), [`2:17: server.http_workers: ${message}`], bad);
  for (const good of ['0', '3', 'auto']) assert.deepEqual(lines(`server:\n  http_workers: ${good}\n`), [], good);
  const { availableParallelism } = await import('node:os');
  const workers = (text: string) => resolveConfig(validateText(text, F).input!, F).server.httpWorkers;
  assert.equal(workers('server:\n  http_workers: auto\n'), Math.max(1, availableParallelism() - 1));
  assert.equal(workers('server:\n  http_workers: 3\n'), 3);
  assert.equal(workers('server: {}\n'), 0);
});
