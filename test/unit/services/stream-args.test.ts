import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamCommandLines } from '../../../src/services/stream-args.js';
import { input, stream, transcoder, push, caps } from '../ffmpeg/fixtures.js';

test('streamCommandLines: one line per input and push; native inputs are fed on stdin when transcoding', () => {
  const s = stream([input('rtmp://h/live/a'), input('udp://239.0.0.1:1234', { priority: 2 })], transcoder(), { push: [push('rtmp://cdn/live/k')] });
  const lines = streamCommandLines(s, '/usr/bin/ffmpeg');
  assert.deepEqual(lines.map((l) => [l.role, l.index]), [['input', 0], ['input', 1], ['push', 0]]);
  assert.match(lines[0]!.command!, /^\/usr\/bin\/ffmpeg -nostdin .* -i rtmp:\/\/h\/live\/a /);
  assert.ok(lines[1]!.args!.includes('pipe:0'));
  assert.match(lines[1]!.note!, /stdin/);
  assert.match(lines[2]!.command!, / -f flv .*rtmp:\/\/cdn\/live\/k$/);
});

test('streamCommandLines: native passthrough has no command; missing GPU shows the args and the error', () => {
  const s = stream([input('udp://239.0.0.1:1234')]);
  const [l] = streamCommandLines(s, 'ffmpeg');
  assert.equal(l!.args, null);
  assert.equal(l!.error, undefined);
  const g = stream([input('rtmp://h/a')], transcoder({ hw: 'nvenc' }));
  const [gl] = streamCommandLines(g, 'ffmpeg', caps());
  assert.match(gl!.error!, /no NVIDIA device/);
  assert.ok(gl!.args!.includes('h264_nvenc'));
});
