import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVersion, parseCodecList, parseProtocols, parseHwaccels, parseFilters, parseFormats, hwSupport, renderNodeFor, nvidiaIndex } from '../../../src/ffmpeg/caps.js';
import { caps } from './fixtures.js';

const ENCODERS = `Encoders:
 V..... = Video
 A..... = Audio
 ------
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)
 VFS..D h264                 H.264 decoder
 A..... aac                  AAC (Advanced Audio Coding)
 S..... ssa                  ASS (Advanced SubStation Alpha) subtitle
`;

test('parseVersion: Debian, release tag and git builds', () => {
  const v = parseVersion('ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\nbuilt with gcc 12\nconfiguration: --enable-gpl --enable-libx264\n');
  assert.deepEqual([v.version, v.major, v.minor, v.configuration], ['5.1.9-0+deb12u1', 5, 1, '--enable-gpl --enable-libx264']);
  assert.deepEqual([parseVersion('ffmpeg version n7.1 Copyright').major, parseVersion('ffmpeg version n7.1 Copyright').minor], [7, 1]);
  assert.equal(parseVersion('ffmpeg version N-113000-gabcdef Copyright').major, null);
  assert.equal(parseVersion('garbage').version, 'unknown');
});

test('parseCodecList skips the legend and reads every row', () => {
  assert.deepEqual([...parseCodecList(ENCODERS)].sort(), ['aac', 'h264', 'h264_nvenc', 'libx264', 'ssa']);
});

test('parseProtocols splits input and output', () => {
  const p = parseProtocols('Supported file protocols:\nInput:\n  file\n  rtmp\n  srt\nOutput:\n  file\n  rtmp\n');
  assert.deepEqual([...p.input], ['file', 'rtmp', 'srt']);
  assert.deepEqual([...p.output], ['file', 'rtmp']);
});

test('parseHwaccels', () => {
  assert.deepEqual([...parseHwaccels('Hardware acceleration methods:\nvdpau\ncuda\nvaapi\n\n')], ['vdpau', 'cuda', 'vaapi']);
});

test('parseFilters reads name from the flags/name/io columns', () => {
  const f = parseFilters('Filters:\n  T.. = Timeline support\n ... split            V->N       Pass on the input\n TSC scale            V->V       Scale\n ... scale_cuda       V->V       GPU\n ..C movie            |->N       Read\n');
  assert.deepEqual([...f], ['split', 'scale', 'scale_cuda', 'movie']);
});

test('parseFormats reads demuxers/muxers after the -- line, comma lists split', () => {
  const d = parseFormats('File formats:\n D. = Demuxing supported\n .E = Muxing supported\n --\n D  rtsp            RTSP input\n DE mpegts          MPEG-TS\n D  mov,mp4,m4a     QuickTime\n  E flv             FLV\n');
  assert.deepEqual([...d], ['rtsp', 'mpegts', 'mov', 'mp4', 'm4a', 'flv']);
});

test('hwSupport: encoder compiled in AND device present', () => {
  assert.equal(hwSupport(caps(), 'cpu').ok, true);
  const nv = caps({ hardware: { nvidia: { devices: [], smiGpus: ['GPU 0: Tesla T4 (UUID: x)'] }, renderNodes: [] } });
  assert.equal(hwSupport(nv, 'nvenc').ok, true, 'nvidia-smi listing counts');
  assert.equal(hwSupport(nv, 'nvenc', '1').ok, false, 'only one GPU listed');
  const noEnc = caps({ encoders: new Set(['libx264']), hardware: { nvidia: { devices: ['/dev/nvidia0'], smiGpus: [] }, renderNodes: [] } });
  const r = hwSupport(noEnc, 'nvenc');
  assert.equal(r.ok, false);
  assert.match((r as { reason: string }).reason, /has no h264_nvenc encoder/);
  const va = caps({ hardware: { nvidia: { devices: [], smiGpus: [] }, renderNodes: [{ path: '/dev/dri/renderD128', vendor: '0x1002' }] } });
  assert.deepEqual(hwSupport(va, 'vaapi'), { ok: true, device: '/dev/dri/renderD128' });
  assert.equal(hwSupport(va, 'vaapi', '/dev/dri/renderD129').ok, false);
});

test('device helpers', () => {
  assert.equal(nvidiaIndex(undefined), 0);
  assert.equal(nvidiaIndex('cuda:2'), 2);
  assert.equal(nvidiaIndex('/dev/nvidia3'), 3);
  assert.equal(renderNodeFor('renderD130'), '/dev/dri/renderD130');
  assert.equal(renderNodeFor(undefined, { nvidia: { devices: [], smiGpus: [] }, renderNodes: [{ path: '/dev/dri/renderD129' }] }), '/dev/dri/renderD129');
  assert.equal(renderNodeFor(undefined), '/dev/dri/renderD128');
});
