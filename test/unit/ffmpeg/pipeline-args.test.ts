import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPipelineArgs, keyframePlan } from '../../../src/ffmpeg/args.js';
import { ExternalError } from '../../../src/core/errors.js';
import { input, stream, transcoder, profile, caps, after, allAfter, beforeInput } from './fixtures.js';

const fc = (args: string[]) => after(args, '-filter_complex') ?? '';

test('no ffmpeg for MPEG-TS sources without a transcoder (udp, tshttp, publish, stdin)', () => {
  for (const url of ['udp://239.0.0.1:1234', 'rtp://239.0.0.1:5000', 'tshttp://h/x', 'tshttps://h/x', 'publish://']) {
    assert.equal(buildPipelineArgs(stream([input(url)]), input(url)), null, url);
  }
  assert.equal(buildPipelineArgs(stream([input('publish://')]), 'stdin'), null);
});

test('pull without a transcoder: remux copy to MPEG-TS on pipe:1', () => {
  const r = buildPipelineArgs(stream([input('rtmp://h/live/a')]), input('rtmp://h/live/a'))!;
  assert.deepEqual(r.outputs, [{ rendition: 'v1a1', fd: 1 }]);
  assert.equal(after(r.args, '-c'), 'copy');
  assert.deepEqual(allAfter(r.args, '-map'), ['0:v:0?', '0:a?']);
  assert.deepEqual(r.args.slice(-7), ['-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0', 'pipe:1']);
  assert.ok(!r.args.includes('-filter_complex'));
});

test('RTSP stream copy drops video packets without a PTS (B-frames: first keyframe has none), ffmpeg >= 5 only; other inputs untouched', () => {
  for (const url of ['rtmp://h/live/a', 'file:///tmp/a.mp4', 'srt://h:9000', 'hls://h/a.m3u8']) {
    const o = stream([input(url)]);
    assert.ok(!buildPipelineArgs(o, o.inputs[0]!, caps())!.args.some((a) => a.startsWith('-bsf')), url);
  }
  const s = stream([input('rtsp://h/cam')]);
  const r = buildPipelineArgs(s, s.inputs[0]!, caps())!;
  assert.equal(after(r.args, '-bsf:v'), 'noise=drop=eq(pts\\,nopts)');
  const old = buildPipelineArgs(s, s.inputs[0]!, caps({ major: 4, minor: 4 }))!;
  assert.ok(!old.args.some((a) => a.startsWith('-bsf')));
  const t = transcoder({ video: [profile(0, { codec: 'copy' }), profile(1, { width: 1280, height: 720 })] });
  const l = buildPipelineArgs(stream([input('rtsp://h/cam')], t), input('rtsp://h/cam'), caps())!;
  assert.equal(after(l.args, '-bsf:v:0'), 'noise=drop=eq(pts\\,nopts)');
  assert.equal(after(l.args, '-bsf:v:1'), undefined);
});

test('fake:// without a transcoder is encoded: libx264 + aac, keyframes every segment forced by time', () => {
  const s = stream([input('fake://testsrc?fps=30')], undefined, { hls: { segmentDurationMs: 4000, window: 6 } });
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  assert.equal(after(r.args, '-c:v'), 'libx264');
  assert.equal(after(r.args, '-c:a'), 'aac');
  assert.equal(after(r.args, '-preset'), 'veryfast');
  assert.equal(after(r.args, '-tune'), 'zerolatency');
  assert.equal(after(r.args, '-g'), '120');
  assert.equal(after(r.args, '-sc_threshold'), '0');
  assert.equal(after(r.args, '-force_key_frames'), 'expr:gte(t,n_forced*4)');
  assert.equal(after(r.args, '-x264-params'), 'keyint=120:min-keyint=120:scenecut=0');
  assert.equal(r.args.at(-1), 'pipe:1');
});

test('fake:// with lang= tags the audio tracks', () => {
  const s = stream([input('fake://testsrc?lang=eng,deu')]);
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  assert.equal(after(r.args, '-metadata:s:a:0'), 'language=eng');
  assert.equal(after(r.args, '-metadata:s:a:1'), 'language=deu');
});

test('cpu ladder: one ffmpeg, split → scale per profile, outputs on fd 1, 3, 4 through one tee', () => {
  const s = stream([input('rtmp://h/live/a')], transcoder());
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  assert.deepEqual(r.outputs, [
    { rendition: 'v1a1', fd: 1 },
    { rendition: 'v2a1', fd: 3 },
    { rendition: 'v3a1', fd: 4 },
  ]);
  assert.equal(r.hw, 'cpu');
  assert.equal(r.args.filter((a) => a === '-i').length, 1, 'one input, one process');
  const g = fc(r.args);
  assert.match(g, /^\[0:v:0\]split=3\[s0\]\[s1\]\[s2\]/);
  assert.match(g, /\[s0\]scale=w=1920:h=1080,format=yuv420p\[v0\]/);
  assert.match(g, /\[s1\]scale=w=1280:h=720,format=yuv420p\[v1\]/);
  assert.match(g, /\[s2\]scale=w=640:h=-2,format=yuv420p\[v2\]/, 'keeps aspect with -2');
  assert.deepEqual(allAfter(r.args, '-map'), ['[v0]', '[v1]', '[v2]', '0:a?']);
  assert.equal(allAfter(r.args, '-f').at(-1), 'tee');
  const slaves = r.args.at(-1)!;
  assert.equal(slaves, "[f=mpegts:select=\\'v:0,a\\':onfail=abort]pipe:1|[f=mpegts:select=\\'v:1,a\\':onfail=abort]pipe:3|[f=mpegts:select=\\'v:2,a\\':onfail=abort]pipe:4");
  assert.equal(allAfter(r.args, '-c:a').length, 1, 'audio encoded once');
  assert.equal(after(r.args, '-muxdelay'), '0');
  assert.equal(after(r.args, '-muxpreload'), '0');
});

test('cpu ladder encoders: bitrate/maxrate/bufsize/preset/profile/level/bframes per profile', () => {
  const t = transcoder({
    video: [
      profile(0, { bitrate: 3_000_000, width: 1280, height: 720, preset: 'fast', profile: 'high', level: '4.1', bframes: 2, maxrate: 3_300_000, bufsize: 750_000 }),
      profile(1, { bitrate: 1_000_000, width: 640, height: 360 }),
    ],
  });
  const s = stream([input('rtmp://h/a')], t);
  const a = buildPipelineArgs(s, s.inputs[0]!)!.args;
  assert.equal(after(a, '-c:v:0'), 'libx264');
  assert.equal(after(a, '-preset:v:0'), 'fast');
  assert.equal(after(a, '-preset:v:1'), 'veryfast', 'default preset');
  assert.equal(after(a, '-b:v:0'), '3000000');
  assert.equal(after(a, '-maxrate:v:0'), '3300000');
  assert.equal(after(a, '-bufsize:v:0'), String(750_000), 'bufsize is in bits, as ffmpeg takes it');
  assert.equal(after(a, '-maxrate:v:1'), '1000000', 'maxrate defaults to the bitrate');
  assert.equal(after(a, '-bufsize:v:1'), '2000000', 'bufsize defaults to 2 × maxrate');
  assert.equal(after(a, '-profile:v:0'), 'high');
  assert.equal(after(a, '-level:v:0'), '4.1');
  assert.equal(after(a, '-bf:v:0'), '2');
  assert.equal(after(a, '-profile:v:1'), undefined);
});

test('keyframes aligned: same time-forced GOP on every rendition, no scene-cut keyframes, consistent x264 keyint', () => {
  const t = transcoder({ video: [profile(0, { fps: 30, width: 1280, height: 720 }), profile(1, { fps: 30, width: 640, height: 360 }), profile(2, { fps: 15, width: 320, height: 180 })] });
  const s = stream([input('rtsp://c/x')], t, { hls: { segmentDurationMs: 2000, window: 6 } });
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  for (let i = 0; i < 3; i++) {
    assert.equal(after(r.args, `-force_key_frames:v:${i}`), 'expr:gte(t,n_forced*2)');
    assert.equal(after(r.args, `-sc_threshold:v:${i}`), '0');
  }
  assert.equal(after(r.args, '-x264-params:v:0'), 'keyint=60:min-keyint=60:scenecut=0');
  assert.equal(after(r.args, '-x264-params:v:2'), 'keyint=30:min-keyint=30:scenecut=0');
  assert.equal(after(r.args, '-g:v:2'), '30');
  assert.match(fc(r.args), /\[s2\]fps=15,scale=w=320:h=180/, 'fps before scale');
  assert.deepEqual(r.warnings, []);
});

test('keyframe plan: profile gop wins over segment duration; unknown frame rate → a 60 fps upper bound', () => {
  const s = stream([input('rtmp://h/a')], transcoder());
  assert.deepEqual(keyframePlan(s, profile(0, { gopMs: 1000, fps: 25 })), { gopSec: 1, keyint: 25 });
  assert.deepEqual(keyframePlan(s, profile(0)), { gopSec: 2, keyint: 120 });
  const t = transcoder({ video: [profile(0, { gopMs: 1000 }), profile(1, { gopMs: 2000 })] });
  const r = buildPipelineArgs(stream([input('rtmp://h/a')], t), input('rtmp://h/a'))!;
  assert.ok(r.warnings.some((w) => /will not align/.test(w)));
});

test('deinterlace runs once before the split (yadif or bwdif)', () => {
  for (const kind of ['yadif', 'bwdif'] as const) {
    const s = stream([input('rtmp://h/a')], transcoder({ deinterlace: kind }));
    assert.match(fc(buildPipelineArgs(s, s.inputs[0]!)!.args), new RegExp(`^\\[0:v:0\\]${kind}=mode=send_frame:parity=auto:deint=all,split=3`));
  }
});

test('logo: movie source with escaped path, opacity through colorchannelmixer, overlay at the position, before the split', () => {
  const logo = { path: "/srv/logos/a b,c[1]:x'y.png", position: 'bottom-right' as const, x: 20, y: 30, opacity: 0.5 };
  const s = stream([input('rtmp://h/a')], transcoder({ logo, deinterlace: 'yadif' }));
  const g = fc(buildPipelineArgs(s, s.inputs[0]!)!.args);
  const parts = g.split(/(?<!\\);/);
  assert.equal(parts[0], "movie=filename=/srv/logos/a b\\,c\\[1\\]\\\\:x\\\\\\'y.png,format=rgba,colorchannelmixer=aa=0.5[logo]");
  assert.equal(parts[1], '[0:v:0]yadif=mode=send_frame:parity=auto:deint=all[base]');
  assert.equal(parts[2], '[base][logo]overlay=x=main_w-overlay_w-20:y=main_h-overlay_h-30[main]');
  assert.match(parts[3]!, /^\[main\]split=3/);
});

test('logo positions map to overlay expressions; full opacity needs no colorchannelmixer', () => {
  const pos = {
    'top-left': 'overlay=x=5:y=6',
    'top-right': 'overlay=x=main_w-overlay_w-5:y=6',
    'bottom-left': 'overlay=x=5:y=main_h-overlay_h-6',
    center: 'overlay=x=(main_w-overlay_w)/2:y=(main_h-overlay_h)/2',
  } as const;
  for (const [position, expected] of Object.entries(pos)) {
    const s = stream([input('rtmp://h/a')], transcoder({ logo: { path: '/l.png', position: position as 'center', x: 5, y: 6, opacity: 1 } }));
    const g = fc(buildPipelineArgs(s, s.inputs[0]!)!.args);
    assert.ok(g.includes(expected), `${position}: ${g}`);
    assert.ok(!g.includes('colorchannelmixer'));
  }
});

test('audio per profile: one output per rendition, each with its own maps and audio encoder', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ audio: { codec: 'aac', bitrate: 96_000, perProfile: true, channels: 2, sampleRate: 48000 } }));
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  assert.ok(!r.args.includes('tee'));
  assert.deepEqual(allAfter(r.args, '-map'), ['[v0]', '0:a?', '[v1]', '0:a?', '[v2]', '0:a?']);
  assert.equal(allAfter(r.args, '-c:a').length, 3);
  assert.deepEqual(allAfter(r.args, '-b:a'), ['96000', '96000', '96000']);
  assert.deepEqual(allAfter(r.args, '-ac'), ['2', '2', '2']);
  assert.deepEqual(
    r.args.filter((a) => a.startsWith('pipe:')),
    ['pipe:1', 'pipe:3', 'pipe:4'],
  );
  assert.equal(allAfter(r.args, '-c:v:0').length, 3, 'each output has one video stream v:0');
});

test('a single-profile transcoder writes plain MPEG-TS to pipe:1 (no split, no tee)', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ video: [profile(0, { width: 1280, height: 720 })] }));
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  assert.equal(fc(r.args), '[0:v:0]scale=w=1280:h=720,format=yuv420p[v0]');
  assert.equal(r.args.at(-1), 'pipe:1');
  assert.ok(!r.args.includes('tee'));
});

test('h265 profiles use libx265 with keyint/scenecut/open-gop in x265-params; copy profiles map the source', () => {
  const t = transcoder({ video: [profile(0, { codec: 'copy' }), profile(1, { codec: 'h265', width: 1280, height: 720, bframes: 3, level: '4.1' })] });
  const s = stream([input('rtmp://h/a')], t);
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  assert.equal(after(r.args, '-c:v:0'), 'copy');
  assert.equal(after(r.args, '-c:v:1'), 'libx265');
  assert.equal(after(r.args, '-x265-params:v:1'), 'keyint=120:min-keyint=120:scenecut=0:open-gop=0:log-level=error:bframes=3:level-idc=4.1');
  assert.deepEqual(allAfter(r.args, '-map').slice(0, 2), ['0:v:0', '[v1]']);
  assert.ok(r.warnings.some((w) => /copy/.test(w)));
});

test('audio codecs: opus → libopus, copy → copy without bitrate', () => {
  const s1 = stream([input('rtmp://h/a')], transcoder({ audio: { codec: 'opus', bitrate: 64_000, perProfile: false } }));
  assert.equal(after(buildPipelineArgs(s1, s1.inputs[0]!)!.args, '-c:a'), 'libopus');
  const s2 = stream([input('rtmp://h/a')], transcoder({ audio: { codec: 'copy', bitrate: 64_000, perProfile: false } }));
  const a2 = buildPipelineArgs(s2, s2.inputs[0]!)!.args;
  assert.equal(after(a2, '-c:a'), 'copy');
  assert.ok(!a2.includes('-b:a'));
});

test('publish:// and native sources with a transcoder read TS from stdin', () => {
  const s = stream([input('publish://')], transcoder());
  for (const r of [buildPipelineArgs(s, 'stdin')!, buildPipelineArgs(s, s.inputs[0]!)!]) {
    assert.equal(after(r.args, '-i'), 'pipe:0');
    assert.equal(r.outputs.length, 3);
  }
  const u = stream([input('udp://239.1.1.1:1234')], transcoder());
  assert.match(after(buildPipelineArgs(u, u.inputs[0]!)!.args, '-i')!, /^udp:/);
});

test('with caps: a cpu ladder without libx264 is an ExternalError', () => {
  const s = stream([input('rtmp://h/a')], transcoder());
  assert.throws(() => buildPipelineArgs(s, s.inputs[0]!, caps({ encoders: new Set(['aac']) })), (e: unknown) => e instanceof ExternalError && /no libx264 encoder/.test((e as Error).message));
});

test('ladder input options stay before -i (file loop, fake pacing)', () => {
  const s = stream([input('file:///m.mp4')], transcoder());
  const pre = beforeInput(buildPipelineArgs(s, s.inputs[0]!)!.args);
  assert.ok(pre.includes('-re') && pre.includes('-stream_loop'));
});
