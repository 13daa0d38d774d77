/**
 * hls.container (ts | fmp4): resolved per stream (ts by default, templates apply), and refused with
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
  const by = Object.fromEntries(Object.values(cfg.streams).map((s) => [s.name, s.hls.container]));
  assert.deepEqual(by, { a: 'ts', b: 'fmp4', 'll/c': 'fmp4' });
});

test('hls.container: an unknown container is a schema error at its place', () => {
  const out = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    hls: { container: mp4 }\n');
  assert.equal(out.length, 1);
  assert.match(out[0]!, /^4:\d+: .*(ts|fmp4)/);
});

test('hls.container: fmp4 with dvr is "not supported yet", on the stream or through a template', () => {
  const own = issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    dvr: { path: /tmp/x }\n    hls: { container: fmp4 }\n');
  assert.equal(own.length, 1);
  assert.match(own[0]!, /^5:\d+: hls\.container: fmp4 together with dvr is not supported yet/);
  const viaTemplate = issues(
    'templates:\n  t:\n    prefix: cams/\n    hls: { container: fmp4 }\nstreams:\n  cams/a:\n    inputs: [{url: "fake://testsrc"}]\n    dvr: { path: /tmp/x }\n',
  );
  assert.equal(viaTemplate.length, 1);
  assert.match(viaTemplate[0]!, /^8:\d+: .*not supported yet/);
  // ts with dvr is fine
  assert.deepEqual(issues('streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n    dvr: { path: /tmp/x }\n    hls: { container: ts }\n'), []);
});
