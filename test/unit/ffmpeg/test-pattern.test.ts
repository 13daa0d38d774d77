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

test('last-resort slates: fake://black?silence and fake://slate?text=…&image=FILE', async () => {
  const black = parseFakeUrl('fake://black?silence');
  assert.deepEqual([black.pattern, black.tone], ['black', false]);
  assert.equal(fakeLavfiGraph(black), 'color=c=black:size=1280x720:rate=25[out0];anullsrc=channel_layout=stereo:sample_rate=48000[out1]');
  assert.equal(parseFakeUrl('fake://testsrc?silence=0').tone, true);
  const slate = parseFakeUrl('fake://slate?text=Back%20soon:%20it%27s%20%5Bok%5D&image=/srv/a,b.png&size=320x240');
  assert.deepEqual([slate.pattern, slate.tone, slate.color, slate.text, slate.image], ['slate', false, 'black', "Back soon: it's [ok]", '/srv/a,b.png']);
  const g = fakeLavfiGraph(slate);
  // the image path and the text are escaped for the filtergraph; drawtext expansion is off
  assert.match(g, /^movie=filename=\/srv\/a\\,b\.png,scale=w=320:h=180:force_original_aspect_ratio=decrease,format=rgba\[slateimg\];/);
  assert.match(g, /drawtext=text=Back soon\\\\: it\\\\\\'s \\\[ok\\\]:expansion=none:/);
  assert.equal(fakeLavfiGraph(parseFakeUrl('fake://slate?tone=1&audio=0&size=160x120&fps=5')), 'color=c=black:size=160x120:rate=5[out0]');
  assert.equal(fakeUrlProblem('fake://slate?image=slate.png'), 'fake:// option image=slate.png: expected an absolute file path, e.g. image=/srv/slate.png');
  assert.equal(fakeUrlProblem('fake://testsrc?text=hi'), 'fake:// option text= applies only to fake://slate');
  assert.match(fakeUrlProblem('fake://slate?text=a%0Ab') ?? '', /no control characters/);

  // the graph really renders: the text and image are drawn (not a black frame)
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const dir = mkdtempSync(os.tmpdir() + '/flux-slate-');
  try {
    const img = dir + '/it\'s, [x].png';
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=white:size=64x48', '-frames:v', '1', '-y', img]);
    const graph = fakeLavfiGraph(parseFakeUrl(`fake://slate?text=${encodeURIComponent('Hello: %{pts} 100%')}&image=${encodeURIComponent(img)}&size=320x240&fps=5`));
    const out = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', graph, '-map', '0:v', '-frames:v', '1', '-vf', 'signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-', '-f', 'null', '-'], { encoding: 'utf8' });
    const yavg = Number(/YAVG=([\d.]+)/.exec(out)?.[1]);
    assert.ok(yavg > 30, `a white image on black: mean luma ${yavg} > 30`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
