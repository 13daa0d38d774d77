/** The `vod:` section: location names are one URL segment; `path` resolves against the config file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText } from '../../../src/config/load.js';
import { resolveConfig } from '../../../src/config/resolve.js';

test('vod locations: path resolved against the config file; bad names and keys are placed', () => {
  const ok = validateText('vod:\n  movies: { path: ./media }\n  kids_2: { path: /srv/kids }\n', '/etc/flux/flux.yaml');
  assert.deepEqual(ok.issues, []);
  assert.deepEqual(resolveConfig(ok.input!, '/etc/flux/flux.yaml').vod, { movies: { path: '/etc/flux/media' }, kids_2: { path: '/srv/kids' } });
  assert.equal(resolveConfig(validateText('streams: {}\n', 'f.yaml').input!, 'f.yaml').vod, undefined, 'no vod section: none resolved');
  const bad = validateText('vod:\n  "my movies": { path: /m }\n  x: { paht: /m }\n  y: {}\n', 'f.yaml');
  assert.ok(bad.issues.some((i) => `${i.line}:${i.col} ${i.message}` === '2:3 vod location name "my movies": use 1..64 of A-Z a-z 0-9 _ -'), JSON.stringify(bad.issues));
  assert.ok(bad.issues.some((i) => i.line === 3 && /paht/.test(i.message) && /path/.test(i.message)), JSON.stringify(bad.issues));
  assert.ok(bad.issues.some((i) => i.line === 4 && /path/.test(i.message)), JSON.stringify(bad.issues));
});
