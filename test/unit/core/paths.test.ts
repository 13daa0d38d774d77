/**
 * The stream-name guard: names whose path segments start with "." are refused by the guard itself,
 * by config validation and by safeJoin (a playback URL reaching a writer's `.<random>.tmp` file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeJoin, streamNameProblem } from '../../../src/core/paths.js';
import { PathError } from '../../../src/core/errors.js';
import { validateText } from '../../../src/config/load.js';

test('segments starting with "." are refused; dots elsewhere are fine', () => {
  for (const name of ['.hidden', 'cams/.door', '.x/y', 'a/b/.tmp', '...', '.a.b']) {
    assert.match(streamNameProblem(name) ?? '', /starts with "\."|contains a "\.\.?" segment/, name);
  }
  assert.match(streamNameProblem('.hidden')!, /segment "\.hidden" starts with "\."/);
  for (const name of ['a.b', 'cams/door.1', 'x..y', 'ch1.']) assert.equal(streamNameProblem(name), undefined, name);
});

test('safeJoin refuses a dot-file part (temporary segment files are never reachable)', () => {
  assert.throws(() => safeJoin('/data', 'live', '.a1b2c3.tmp'), PathError);
  assert.equal(safeJoin('/data', 'live', 'index.m3u8'), '/data/live/index.m3u8');
});

test('config validation refuses a stream named .hidden with its place', () => {
  const issues = validateText('streams:\n  .hidden:\n    inputs: [{url: "publish://"}]\n  cams/.door:\n    inputs: [{url: "publish://"}]\n', 'flux.yaml').issues;
  const msgs = issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
  assert.ok(msgs.some((m) => /^2:3: .*starts with "\."/.test(m)), msgs.join('\n'));
  assert.ok(msgs.some((m) => /^4:3: .*starts with "\."/.test(m)), msgs.join('\n'));
});
