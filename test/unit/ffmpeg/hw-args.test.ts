import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPipelineArgs } from '../../../src/ffmpeg/args.js';
import { hwSupport } from '../../../src/ffmpeg/caps.js';
import { nvencPreset, qsvPreset } from '../../../src/ffmpeg/hw-ladder.js';
import { ExternalError } from '../../../src/core/errors.js';
import { input, stream, transcoder, profile, caps, after, allAfter, beforeInput } from './fixtures.js';

const fc = (args: string[]) => after(args, '-filter_complex') ?? '';
const withNvidia = () => caps({ hardware: { nvidia: { devices: ['/dev/nvidia0'], smiGpus: [] }, renderNodes: [] } });
const withRender = (vendor = '0x8086') => caps({ hardware: { nvidia: { devices: [], smiGpus: [] }, renderNodes: [{ path: '/dev/dri/renderD128', vendor }] } });

test('nvenc: CUDA decode to GPU frames, scale_cuda, yadif_cuda, h264_nvenc with p-preset, rc, forced IDR', () => {
  const t = transcoder({ hw: 'nvenc', deinterlace: 'yadif', video: [profile(0, { width: 1280, height: 720, preset: 'veryfast', bframes: 0 }), profile(1, { width: 640, height: -2, preset: 'p6', maxrate: 1_500_000 })] });
  const s = stream([input('rtsp://cam/x')], t);
  const r = buildPipelineArgs(s, s.inputs[0]!, withNvidia())!;
  assert.equal(r.hw, 'nvenc');
  const pre = beforeInput(r.args);
  assert.equal(after(pre, '-hwaccel'), 'cuda');
  assert.equal(after(pre, '-hwaccel_output_format'), 'cuda');
  assert.equal(after(pre, '-init_hw_device'), 'cuda=cu:0');
  const g = fc(r.args);
  assert.match(g, /^\[0:v:0\]yadif_cuda=mode=send_frame:parity=auto:deint=all,split=2\[s0\]\[s1\]/);
  assert.match(g, /\[s0\]scale_cuda=w=1280:h=720\[v0\]/);
  assert.match(g, /\[s1\]scale_cuda=w=640:h=-2\[v1\]/);
  assert.ok(!g.includes('format=yuv420p'), 'no cpu pixel format conversion on GPU frames');
  assert.equal(after(r.args, '-c:v:0'), 'h264_nvenc');
  assert.equal(after(r.args, '-preset:v:0'), 'p3');
  assert.equal(after(r.args, '-preset:v:1'), 'p6');
  assert.equal(after(r.args, '-rc:v:0'), 'cbr');
  assert.equal(after(r.args, '-rc:v:1'), 'vbr', 'maxrate above bitrate → vbr');
  assert.equal(after(r.args, '-bf:v:0'), '0');
  assert.equal(after(r.args, '-forced-idr:v:1'), '1');
  assert.equal(after(r.args, '-force_key_frames:v:1'), 'expr:gte(t,n_forced*2)');
});

test('nvenc: device index from transcoder.device; hevc_nvenc for h265; scale_npp when scale_cuda is absent', () => {
  const t = transcoder({ hw: 'nvenc', device: '1', video: [profile(0, { codec: 'h265', width: 1280, height: 720 })] });
  const c = caps({ filters: new Set(['scale_npp', 'yadif_cuda']), hardware: { nvidia: { devices: ['/dev/nvidia0', '/dev/nvidia1'], smiGpus: [] }, renderNodes: [] } });
  const r = buildPipelineArgs(stream([input('rtmp://h/a')], t), input('rtmp://h/a'), c)!;
  assert.equal(after(r.args, '-init_hw_device'), 'cuda=cu:1');
  assert.equal(after(r.args, '-c:v:0'), 'hevc_nvenc');
  assert.match(fc(r.args), /scale_npp=w=1280:h=720/);
});

test('nvenc with fake:// (raw lavfi frames): no -hwaccel, frames uploaded before the split', () => {
  const s = stream([input('fake://testsrc')], transcoder({ hw: 'nvenc' }));
  const r = buildPipelineArgs(s, s.inputs[0]!, withNvidia())!;
  assert.ok(!r.args.includes('-hwaccel'));
  assert.match(fc(r.args), /^\[0:v:0\]format=nv12,hwupload,split=3/);
});

test('nvenc logo: overlay_cuda on the GPU (x/y expressions); without overlay_cuda: download, overlay on the CPU, upload', () => {
  const tl = transcoder({ hw: 'nvenc', logo: { path: '/l.png', position: 'top-left', x: 4, y: 8, opacity: 0.7 } });
  const g1 = fc(buildPipelineArgs(stream([input('rtmp://h/a')], tl), input('rtmp://h/a'), withNvidia())!.args);
  assert.match(g1, /movie=filename=\/l\.png,format=rgba,colorchannelmixer=aa=0\.7,format=yuva420p,hwupload\[logo\]/);
  assert.match(g1, /\[base\]\[logo\]overlay_cuda=x=4:y=8\[main\]/);
  const br = transcoder({ hw: 'nvenc', logo: { path: '/l.png', position: 'bottom-right', x: 4, y: 8, opacity: 1 } });
  const g2 = fc(buildPipelineArgs(stream([input('rtmp://h/a')], br), input('rtmp://h/a'), withNvidia())!.args);
  assert.match(g2, /overlay_cuda=x=main_w-overlay_w-4:y=main_h-overlay_h-8\[main\]/);
  const noCudaOverlay = { ...withNvidia(), filters: new Set(['scale_cuda', 'yadif_cuda']) };
  const g3 = fc(buildPipelineArgs(stream([input('rtmp://h/a')], br), input('rtmp://h/a'), noCudaOverlay)!.args);
  assert.match(g3, /\[0:v:0\]hwdownload,format=nv12\[base\];\[base\]\[logo\]overlay=x=main_w-overlay_w-4:y=main_h-overlay_h-8,format=nv12,hwupload\[main\]/);
});

test('nvenc requested without an NVIDIA device: ExternalError naming the device', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ hw: 'nvenc' }));
  assert.throws(
    () => buildPipelineArgs(s, s.inputs[0]!, caps()),
    (e: unknown) => e instanceof ExternalError && /nvenc requested but no NVIDIA device \(\/dev\/nvidia0 missing\)/.test((e as Error).message),
  );
});

test('fallback: cpu → libx264 arguments and a warning instead of an error', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ hw: 'nvenc', fallback: 'cpu', deinterlace: 'yadif' }));
  const r = buildPipelineArgs(s, s.inputs[0]!, caps())!;
  assert.equal(r.hw, 'cpu');
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /nvenc requested but no NVIDIA device.*falling back to cpu/);
  assert.ok(!r.args.includes('-hwaccel'));
  assert.equal(after(r.args, '-c:v:0'), 'libx264');
  assert.match(fc(r.args), /yadif=mode=send_frame/);
});

test('without caps the builder does not check hardware (display, tests)', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ hw: 'vaapi' }));
  assert.equal(buildPipelineArgs(s, s.inputs[0]!)!.hw, 'vaapi');
});

test('qsv: qsv device from the render node, hwaccel qsv, vpp_qsv deinterlace and scale (kept aspect computed), h264_qsv', () => {
  const t = transcoder({ hw: 'qsv', deinterlace: 'bwdif', video: [profile(0, { width: 1280, height: 720, preset: 'ultrafast' }), profile(1, { width: 640, height: -2 })] });
  const r = buildPipelineArgs(stream([input('rtmp://h/a')], t), input('rtmp://h/a'), withRender())!;
  const pre = beforeInput(r.args);
  assert.equal(after(pre, '-hwaccel'), 'qsv');
  assert.equal(after(pre, '-qsv_device'), '/dev/dri/renderD128', 'ffmpeg 5.x picks the decoder device with -qsv_device');
  assert.equal(after(pre, '-hwaccel_output_format'), 'qsv');
  assert.equal(after(pre, '-init_hw_device'), 'qsv=qs:hw_any,child_device=/dev/dri/renderD128');
  const g = fc(r.args);
  assert.match(g, /^\[0:v:0\]vpp_qsv=deinterlace=2,split=2/);
  assert.match(g, /\[s0\]vpp_qsv=w=1280:h=720\[v0\]/);
  assert.match(g, /\[s1\]vpp_qsv=w=640:h=2\*trunc\(ih\*640\/iw\/2\)\[v1\]/);
  assert.equal(after(r.args, '-c:v:0'), 'h264_qsv');
  assert.equal(after(r.args, '-preset:v:0'), 'veryfast');
  assert.equal(after(r.args, '-forced_idr:v:0'), '1');
  const lv = buildPipelineArgs(stream([input('rtmp://h/a')], transcoder({ hw: 'qsv', video: [profile(0, { level: '4.1' })] })), input('rtmp://h/a'), withRender())!;
  assert.equal(after(lv.args, '-level:v:0'), '41', 'qsv level as a number');
  const v7 = buildPipelineArgs(stream([input('rtmp://h/a')], t), input('rtmp://h/a'), { ...withRender(), major: 7, minor: 0 })!;
  assert.ok(!v7.args.includes('-qsv_device'));
  assert.equal(after(v7.args, '-hwaccel_device'), 'qs');
});

test('qsv on a non-Intel render node is refused', () => {
  const s = hwSupport(withRender('0x1002'), 'qsv');
  assert.equal(s.ok, false);
  assert.match((s as { reason: string }).reason, /not an Intel GPU \(vendor AMD\)/);
});

test('vaapi: render node device, vaapi decode, deinterlace_vaapi, scale_vaapi, rc_mode, profile names', () => {
  const t = transcoder({
    hw: 'vaapi',
    device: '/dev/dri/renderD129',
    deinterlace: 'yadif',
    video: [profile(0, { width: 1280, height: 720, profile: 'baseline' }), profile(1, { codec: 'h265', width: -2, height: 360 })],
  });
  const c = caps({ hardware: { nvidia: { devices: [], smiGpus: [] }, renderNodes: [{ path: '/dev/dri/renderD129' }] } });
  const r = buildPipelineArgs(stream([input('srt://h:1')], t), input('srt://h:1'), c)!;
  const pre = beforeInput(r.args);
  assert.equal(after(pre, '-init_hw_device'), 'vaapi=va:/dev/dri/renderD129');
  assert.equal(after(pre, '-hwaccel'), 'vaapi');
  assert.equal(after(pre, '-hwaccel_device'), 'va');
  assert.equal(after(pre, '-hwaccel_output_format'), 'vaapi');
  const g = fc(r.args);
  assert.match(g, /^\[0:v:0\]deinterlace_vaapi=mode=default:rate=frame,split=2/);
  assert.match(g, /\[s1\]scale_vaapi=w=-2:h=360:format=nv12\[v1\]/);
  assert.equal(after(r.args, '-c:v:0'), 'h264_vaapi');
  assert.equal(after(r.args, '-c:v:1'), 'hevc_vaapi');
  assert.equal(after(r.args, '-rc_mode:v:0'), 'CBR');
  assert.equal(after(r.args, '-profile:v:0'), 'constrained_baseline');
});

test('vaapi logo: overlay_vaapi (top-left on 5.x) with alpha; else hwdownload → overlay → hwupload', () => {
  const c = withRender();
  const tl = transcoder({ hw: 'vaapi', logo: { path: '/l.png', position: 'top-left', x: 1, y: 2, opacity: 0.25 } });
  const g1 = fc(buildPipelineArgs(stream([input('rtmp://h/a')], tl), input('rtmp://h/a'), c)!.args);
  assert.match(g1, /movie=filename=\/l\.png,format=rgba,hwupload\[logo\]/);
  assert.match(g1, /\[base\]\[logo\]overlay_vaapi=x=1:y=2:alpha=0\.25\[main\]/);
  const br = transcoder({ hw: 'vaapi', logo: { path: '/l.png', position: 'bottom-right', x: 1, y: 2, opacity: 0.25 } });
  const g2 = fc(buildPipelineArgs(stream([input('rtmp://h/a')], br), input('rtmp://h/a'), c)!.args);
  assert.match(g2, /hwdownload,format=nv12\[base\];\[base\]\[logo\]overlay=x=main_w-overlay_w-1:y=main_h-overlay_h-2,format=nv12,hwupload\[main\]/);
  assert.match(g2, /colorchannelmixer=aa=0\.25/);
  const g3 = fc(buildPipelineArgs(stream([input('rtmp://h/a')], br), input('rtmp://h/a'), { ...c, major: 6, minor: 1 })!.args);
  assert.match(g3, /overlay_vaapi=x=W-w-1:y=H-h-2:alpha=0\.25/);
});

test('vaapi without a render node: ExternalError; missing encoder named when ffmpeg lacks it', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ hw: 'vaapi' }));
  assert.throws(() => buildPipelineArgs(s, s.inputs[0]!, caps()), /vaapi requested but no GPU render node \(\/dev\/dri\/renderD128 missing\)/);
  const noEnc = caps({ encoders: new Set(['libx264', 'aac']), hardware: withRender().hardware });
  assert.throws(() => buildPipelineArgs(s, s.inputs[0]!, noEnc), /has no h264_vaapi encoder/);
});

test('hevc on a GPU needs its hevc encoder too', () => {
  const c = caps({ encoders: new Set(['libx264', 'aac', 'h264_nvenc']), hardware: withNvidia().hardware });
  const s = hwSupport(c, 'nvenc', undefined, ['h264', 'h265']);
  assert.equal(s.ok, false);
  assert.match((s as { reason: string }).reason, /hevc_nvenc/);
});

test('preset mapping between x264 names, nvenc p1..p7 and qsv names', () => {
  assert.equal(nvencPreset(undefined), 'p4');
  assert.equal(nvencPreset('ultrafast'), 'p1');
  assert.equal(nvencPreset('veryslow'), 'p7');
  assert.equal(nvencPreset('p2'), 'p2');
  assert.equal(qsvPreset('superfast'), 'veryfast');
  assert.equal(qsvPreset('p7'), 'veryslow');
  assert.equal(qsvPreset('slow'), 'slow');
});

test('gpu ladders still map every audio track and write fd 1, 3, 4', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ hw: 'nvenc' }));
  const r = buildPipelineArgs(s, s.inputs[0]!, withNvidia())!;
  assert.ok(allAfter(r.args, '-map').includes('0:a?'));
  assert.deepEqual(r.outputs.map((o) => o.fd), [1, 3, 4]);
});
