import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doctorChecks } from '../../../src/services/doctor.js';
import { input, stream, transcoder, caps } from '../ffmpeg/fixtures.js';

const ffmpeg = { bin: { path: '/usr/bin/ffmpeg', source: 'path' as const }, version: '5.1.9' };
const ffprobe = { bin: { path: '/usr/bin/ffprobe', source: 'sibling' as const }, version: '5.1.9' };

test('doctorChecks: essentials ok, hardware absent, protocols from caps', () => {
  const c = doctorChecks(ffmpeg, ffprobe, caps());
  const by = new Map(c.map((x) => [x.name, x]));
  for (const n of ['ffmpeg', 'libx264', 'aac']) assert.equal(by.get(n)!.ok && by.get(n)!.essential, true, n);
  assert.equal(by.get('libx265')!.essential, false);
  assert.equal(by.get('srt')!.ok, true);
  assert.equal(by.get('rtsp')!.ok, true);
  assert.equal(by.get('rtmps')!.ok, false, 'rtmps not in the protocol list');
  assert.equal(by.get('nvenc')!.ok, false);
  assert.match(by.get('nvenc')!.detail, /no NVIDIA device/);
  assert.match(by.get('vaapi')!.detail, /renderD128 missing/);
  assert.match(by.get('ffmpeg')!.detail, /5\.1\.9 at \/usr\/bin\/ffmpeg \(from path\)/);
});

test('doctorChecks: no ffmpeg → ffmpeg and encoders fail; GPU present → ok with the device', () => {
  const none = doctorChecks({ error: 'ffmpeg not found' }, { error: 'ffprobe not found' }, null);
  assert.deepEqual(none.filter((x) => x.essential && !x.ok).map((x) => x.name), ['ffmpeg', 'libx264', 'aac']);
  const gpu = caps({ hardware: { nvidia: { devices: ['/dev/nvidia0'], smiGpus: [] }, renderNodes: [] } });
  const nv = doctorChecks(ffmpeg, ffprobe, gpu).find((x) => x.name === 'nvenc')!;
  assert.equal(nv.ok, true);
  assert.equal(nv.detail, 'h264_nvenc/hevc_nvenc on GPU 0');
});

test('doctorChecks: streams wanting a GPU are reported with their fallback', () => {
  const s = stream([input('rtmp://h/a')], transcoder({ hw: 'qsv', fallback: 'none' }), { name: 'tv' });
  const cfg = { streams: { tv: s } } as never;
  const row = doctorChecks(ffmpeg, ffprobe, caps(), cfg).find((x) => x.name === 'stream tv')!;
  assert.equal(row.ok, false);
  assert.match(row.detail, /qsv: qsv requested but no GPU render node .* \(will fail: set transcoder.fallback: cpu\)/);
});

