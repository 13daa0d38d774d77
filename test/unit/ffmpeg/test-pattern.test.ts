import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFakeUrl, fakeLavfiGraph, fakeBitrate, fakeUrlProblem } from '../../../src/ffmpeg/test-pattern.js';

test('defaults: testsrc2 1280x720 at 25 fps, one stereo 1 kHz tone, realtime', () => {
  const f = parseFakeUrl('fake://testsrc');
  assert.equal(f.pattern, 'testsrc2');
  assert.deepEqual([f.width, f.height, f.fps, f.tone, f.freq, f.audioTracks, f.channels, f.realtime], [1280, 720, '25', true, 1000, 1, 2, true]);
  assert.equal(parseFakeUrl('fake://').pattern, 'testsrc2');
});

test('every option parses', () => {
  const f = parseFakeUrl('fake://color?size=640x360&fps=30000/1001&tone=0&rate=44100&channels=1&color=%23ff0000&duration=2m&realtime=0&bitrate=1500k&audio=2');
  assert.equal(f.pattern, 'color');
  assert.equal(f.fps, '30000/1001');
  assert.ok(Math.abs(f.fpsValue - 29.97) < 0.01);
  assert.equal(f.color, '0xff0000');
  assert.equal(f.durationSec, 120);
  assert.equal(f.realtime, false);
  assert.equal(f.bitrate, 1_500_000);
  assert.equal(f.audioTracks, 2);
  assert.equal(f.channels, 1);
  const g = fakeLavfiGraph(f);
  assert.match(g, /^color=c=0xff0000:size=640x360:rate=30000\/1001:duration=120\[out0\]/);
  assert.equal((g.match(/anullsrc=channel_layout=mono:sample_rate=44100/g) ?? []).length, 2);
});

test('audio=0 gives a video-only graph; lang sets the track count', () => {
  assert.equal(fakeLavfiGraph(parseFakeUrl('fake://black?audio=0')), 'color=c=black:size=1280x720:rate=25[out0]');
  assert.equal(parseFakeUrl('fake://testsrc?lang=eng,fra,deu').audioTracks, 3);
  assert.match(fakeUrlProblem('fake://testsrc?audio=2&lang=eng') ?? '', /does not match/);
});

test('bad values are reported with the option name', () => {
  assert.match(fakeUrlProblem('fake://testsrc?fps=0') ?? '', /fps=0/);
  assert.match(fakeUrlProblem('fake://testsrc?tone=maybe') ?? '', /tone=maybe/);
  assert.match(fakeUrlProblem('fake://testsrc?duration=x') ?? '', /duration=x/);
  assert.match(fakeUrlProblem('fake://testsrc?lang=english') ?? '', /lang=/);
  assert.equal(fakeUrlProblem('fake://smptehdbars?size=1920x1080'), undefined);
});

test('default bitrate scales with pixels and frame rate, within bounds', () => {
  assert.equal(fakeBitrate(parseFakeUrl('fake://testsrc?size=1280x720&fps=25')), 1_843_000);
  assert.equal(fakeBitrate(parseFakeUrl('fake://testsrc?size=160x120&fps=5')), 200_000);
  assert.equal(fakeBitrate(parseFakeUrl('fake://testsrc?bitrate=3M')), 3_000_000);
});
