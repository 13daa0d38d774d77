/**
 * hls.container (ts | fmp4), hls.low_latency and hls.part_duration: resolved per stream (ts by default, templates apply), and refused with
 * "not supported yet" together with dvr (the archive reads MPEG-TS segments).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText } from '../../../src/config/load.js';
import { resolveConfig } from '../../../src/config/resolve.js';

const F = 'flux.yaml';
const issues = (text: string) => validateText(text, F).issues.map((i) => `${i.line}:${i.col}: ${i.message}`);

test('hls.container: ts by default, fmp4 when asked, also through a template', () => {
  const text = [
    'templates:',
    '  ll:',
    '    prefix: ll/',
    '    hls: { container: fmp4 }',
    'streams:',
    '  a:',
    '    inputs: [{url: "fake://testsrc"}]',
    '  b:',
    '    inputs: [{url: "fake://testsrc"}]',
    '    hls: { container: fmp4, window: 4 }',
    '  ll/c:',
    '    inputs: [{url: "fake://testsrc"}]',
    '',
  ].join('\n');
  const r = validateText(text, F);
  assert.deepEqual(r.issues, []);
  const cfg = resolveConfig(r.input!);
  const by = Object.fromEntries(Object.values(cfg.streams).map((s) => [s.name, s.hls.container ?? 'ts']));
  assert.deepEqual(by, { a: 'ts', b: 'fmp4', 'll/c': 'fmp4' });
  assert.equal('container' in cfg.streams.a!.hls, false, 'ts is the absent default: the spec of a ts stream does not change');
});

test('hls.container: an unknown container is a schema error at its place', () => {
  const out = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { container: mp4 }\n');
  assert.equal(out.length, 1);
  assert.match(out[0]!, /^4:\d+: .*(ts|fmp4)/);
});

test('hls.container: fmp4 with dvr is "not supported yet", on the stream or through a template', () => {
  const own = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    dvr: { path: /tmp/x }\n    hls: { container: fmp4 }\n');
  assert.equal(own.length, 1);
  assert.match(own[0]!, /^5:\d+: hls\.container: fmp4 \(and low_latency\) together with dvr is not supported yet/);
  const viaTemplate = issues(
    'templates:\n  t:\n    prefix: cams/\n    hls: { container: fmp4 }\nstreams:\n  cams/a:\n    inputs: [{url: "fake://testsrc"}]\n    dvr: { path: /tmp/x }\n',
  );
  assert.equal(viaTemplate.length, 1);
  assert.match(viaTemplate[0]!, /^8:\d+: .*not supported yet/);
  // ts with dvr is fine
  assert.deepEqual(issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    dvr: { path: /tmp/x }\n    hls: { container: ts }\n'), []);
});

test('hls.low_latency: implies fmp4, part_duration defaults to 0.5s; explicit ts is refused', () => {
  const r = validateText(
    [
      'streams:',
      '  a:',
      '    inputs: [{url: "fake://testsrc"}]',
      '    hls: { low_latency: true, segment_duration: 1s }',
      '  b:',
      '    inputs: [{url: "fake://testsrc"}]',
      '    hls: { low_latency: true, part_duration: 250ms, segment_duration: 2s }',
      '',
    ].join('\n'),
    F,
  );
  assert.deepEqual(r.issues, []);
  const cfg = resolveConfig(r.input!);
  assert.deepEqual(cfg.streams.a!.hls, { segmentDurationMs: 1000, window: 6, container: 'fmp4', lowLatency: { partDurationMs: 500 } });
  assert.deepEqual(cfg.streams.b!.hls.lowLatency, { partDurationMs: 250 });
  assert.equal(cfg.streams.b!.hls.container, 'fmp4');
  const ts = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { low_latency: true, container: ts }\n');
  assert.equal(ts.length, 1);
  assert.match(ts[0]!, /^4:\d+: hls\.low_latency needs container: fmp4/);
  const dvr = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    dvr: { path: /tmp/x }\n    hls: { low_latency: true }\n');
  assert.equal(dvr.length, 1);
  assert.match(dvr[0]!, /^5:\d+: .*not supported yet/);
});

test('hls.part_duration: at least 0.2s, below the segment duration, only with low_latency', () => {
  const low = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { low_latency: true, part_duration: 100ms }\n');
  assert.equal(low.length, 1);
  assert.match(low[0]!, /^4:\d+: .*below the minimum of 0\.2s/);
  const long = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { low_latency: true, segment_duration: 1s, part_duration: 1s }\n');
  assert.equal(long.length, 1);
  assert.match(long[0]!, /^4:\d+: hls\.part_duration \(1000 ms\) must be shorter than the segment duration/);
  const alone = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { part_duration: 300ms }\n');
  assert.equal(alone.length, 1);
  assert.match(alone[0]!, /^4:\d+: hls\.part_duration has no effect without low_latency: true/);
});

test('thumbnails: true resolves onto the stream (preview.jpg served), absent means off', () => {
  const r = validateText('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    thumbnails: true\n  b:\n    inputs: [{url: "fake://testsrc"}]\n', F);
  assert.deepEqual(r.issues, []);
  const cfg = resolveConfig(r.input!);
  assert.equal(cfg.streams.a!.thumbnails, true);
  assert.equal(cfg.streams.b!.thumbnails, undefined);
  assert.equal(issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    thumbnails: yes please\n').length, 1);
});

test('hls.encrypt with container fmp4 or low_latency is "not supported yet" (AES-128 applies to TS)', () => {
  const fmp4 = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { container: fmp4, encrypt: true }\n');
  assert.equal(fmp4.length, 1);
  assert.match(fmp4[0]!, /^4:\d+: hls\.encrypt with fmp4 or low_latency is not supported yet/);
  const ll = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { low_latency: true, encrypt: true }\n');
  assert.equal(ll.length, 1);
  assert.deepEqual(issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { container: ts, encrypt: true }\n'), []);
});
