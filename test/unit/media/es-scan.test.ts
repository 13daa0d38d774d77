/** ES scanning (media/ts/es-scan.ts) on bytes: the keyframe decision and parameter sets, at any split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { applyAudioHeader, applyParamSet, PARAM_BAD, PARAM_CHANGED, PARAM_SAME, scanAnnexB, type EsScanHost } from '../../../src/media/ts/es-scan.js';
import { TsTrack, PEEK_NONE } from '../../../src/media/ts/track.js';

function h264Track(): TsTrack {
  const t = new TsTrack(256, 0x1b, 'video', 'h264', true);
  t.collect = -1;
  t.peek = PEEK_NONE;
  return t;
}

function run(bytes: number[], splitAt: number[] = []): { t: TsTrack; ready: number; sets: number[] } {
  const t = h264Track();
  const out = { t, ready: 0, sets: [] as number[] };
  const host: EsScanHost = { ready: () => void out.ready++, paramSet: (_t, type) => void out.sets.push(type) };
  const buf = Buffer.from(bytes);
  const cuts = [0, ...splitAt, buf.length];
  for (let i = 0; i + 1 < cuts.length && out.ready === 0; i++) scanAnnexB(t, buf, cuts[i]!, cuts[i + 1]!, 65536, host);
  return out;
}

const AUD = [0, 0, 0, 1, 0x09, 0xf0];
const IDR = [0, 0, 1, 0x65, 0x88, 0x84];
const NON_IDR_P = [0, 0, 1, 0x41, 0x9a, 0x00];
const SEI_RECOVERY = [0, 0, 1, 0x06, 0x06, 0x01, 0x80];
const I_SLICE = [0, 0, 1, 0x01, 0xb8, 0x00];

test('an IDR is a keyframe, a P slice is not, whatever the chunking', () => {
  for (const split of [[], [1], [4], [7], [8, 9]]) {
    const idr = run([...AUD, ...IDR], split);
    assert.equal(idr.ready, 1, `split ${split}`);
    assert.equal(idr.t.keyframe, true, `split ${split}`);
    const p = run([...AUD, ...NON_IDR_P], split);
    assert.equal(p.ready, 1);
    assert.equal(p.t.keyframe, false);
  }
});

test('an I slice after a recovery-point SEI is a keyframe (open GOP); without the SEI it is not', () => {
  assert.equal(run([...AUD, ...SEI_RECOVERY, ...I_SLICE]).t.keyframe, true);
  assert.equal(run([...AUD, ...I_SLICE]).t.keyframe, false);
});

test('an SPS met before the first slice is handed over; applyParamSet reports change once', () => {
  // a real 320x240 High profile SPS (x264)
  const sps = [0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60];
  const r = run([...AUD, 0, 0, 0, 1, ...sps, ...IDR]);
  assert.deepEqual(r.sets, [7]);
  assert.equal(applyParamSet(r.t, 7), PARAM_CHANGED);
  assert.equal(r.t.info.width, 320);
  assert.equal(r.t.info.height, 240);
  assert.equal(applyParamSet(r.t, 7), PARAM_SAME);
  r.t.nal = Uint8Array.from([0x67, 0x00]);
  r.t.nalLen = 2;
  assert.equal(applyParamSet(r.t, 7), PARAM_BAD);
});

test('applyAudioHeader: an ADTS header sets sample rate and channels once', () => {
  const t = new TsTrack(257, 0x0f, 'audio', 'aac', true);
  // ADTS: AAC LC, 48 kHz, 2 channels
  const adts = Buffer.from([0xff, 0xf1, 0x4c, 0x80, 0x01, 0x7f, 0xfc]);
  assert.equal(applyAudioHeader(t, adts, 0, adts.length), true);
  assert.equal(t.info.sampleRate, 48000);
  assert.equal(t.info.channels, 2);
  assert.equal(t.info.codecString, 'mp4a.40.2');
  assert.equal(applyAudioHeader(t, adts, 0, adts.length), false, 'same header: no change');
  assert.equal(applyAudioHeader(t, adts, 0, 3), false, 'too short');
});
