import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { FlvToTsRemuxer } from '../../../src/media/rtmp/remux.js';
import { buildAvcDecoderConfigurationRecord } from '../../../src/media/flv/video.js';

const SPS = Buffer.from('6764001eacd940a02ff9610000030001000003003c8f162d96', 'hex');
const PPS = Buffer.from('68ebecb22c', 'hex');
const AVC_SEQ = Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), buildAvcDecoderConfigurationRecord([SPS], [PPS])]);
const AAC_SEQ = Buffer.from([0xaf, 0x00, 0x12, 0x10]);
/** keyframe tag: one IDR NAL unit (type 5) of 100 bytes */
const key = () => Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 100]), Buffer.alloc(100, 0x65)]);
const inter = () => Buffer.from([0x27, 1, 0, 0, 0, 0, 0, 0, 3, 0x41, 1, 2]);
const aac = () => Buffer.from([0xaf, 1, 0x21, 0x10, 0x05]);

/** PIDs present in the PMT of a TS buffer */
function pmtStreams(ts: Buffer): number[] {
  for (let p = 0; p < ts.length; p += 188) {
    const pid = ((ts[p + 1]! & 0x1f) << 8) | ts[p + 2]!;
    if (pid !== 0x1000) continue;
    const sec = ts.subarray(p + 5);
    const len = ((sec[1]! & 0x0f) << 8) | sec[2]!;
    const types: number[] = [];
    for (let k = 12; k < 3 + len - 4; k += 5) types.push(sec[k]!);
    return types;
  }
  return [];
}

function run(feed: (r: FlvToTsRemuxer) => void, opts?: ConstructorParameters<typeof FlvToTsRemuxer>[1]) {
  const out: Buffer[] = [];
  const r = new FlvToTsRemuxer((b) => out.push(b), opts);
  feed(r);
  return { r, ts: Buffer.concat(out) };
}

test('with metadata announcing both tracks, output waits for both configs, then has both', () => {
  const { r, ts } = run((r) => {
    r.metadata({ width: 320, height: 240, videocodecid: 7, audiocodecid: 10, framerate: 25 });
    r.media('video', 0, AVC_SEQ);
    r.media('video', 0, key());
    assert.equal(r.info.started, false, 'waits for the audio config');
    r.media('audio', 0, AAC_SEQ);
    assert.equal(r.info.started, true);
    r.media('audio', 0, aac());
    r.media('video', 40, inter());
  });
  assert.deepEqual(pmtStreams(ts), [0x1b, 0x0f]);
  assert.deepEqual(r.info.video, { codec: 'h264', width: 320, height: 240, frameRate: 25, frames: 2, keyframes: 1 });
  assert.deepEqual(r.info.audio, { codec: 'aac', sampleRate: 44100, channels: 2, frames: 1 });
  assert.equal(r.info.bytes, ts.length);
});

test('metadata without audio: video starts at once', () => {
  const { r, ts } = run((r) => {
    r.metadata({ width: 320, height: 240, videocodecid: 7 });
    r.media('video', 0, AVC_SEQ);
    assert.equal(r.info.started, true);
    r.media('video', 0, key());
    r.media('audio', 10, AAC_SEQ); // a track the PMT does not have: ignored
    r.media('audio', 10, aac());
  });
  assert.deepEqual(pmtStreams(ts), [0x1b]);
  assert.equal(r.info.audio, undefined);
  assert.equal(r.info.ignored, 2);
  assert.match(r.info.notes.join(), /audio after the tracks were fixed/);
});

test('without metadata, a missing second track is given up after trackWaitMs of media', () => {
  const { r, ts } = run(
    (r) => {
      r.media('video', 0, AVC_SEQ);
      r.media('video', 0, key());
      for (let t = 40; t < 500; t += 40) {
        r.media('video', t, inter());
        assert.equal(r.info.started, false, `still waiting at ${t} ms`);
      }
      r.media('video', 520, inter());
      assert.equal(r.info.started, true);
    },
    { trackWaitMs: 500 },
  );
  assert.deepEqual(pmtStreams(ts), [0x1b]);
  assert.equal(r.info.video!.frames, 14, 'held frames are replayed'); // 0, 40 … 480, 520
});

test('without metadata, both tracks seen: starts when both are configured', () => {
  const { r } = run((r) => {
    r.media('audio', 0, AAC_SEQ);
    r.media('audio', 0, aac());
    assert.equal(r.info.started, false, 'video may still come');
    r.media('video', 0, AVC_SEQ);
    assert.equal(r.info.started, true);
  });
  assert.ok(r.info.video && r.info.audio);
});

test('flush starts output with what is known; garbage and unsupported codecs are counted, never thrown', () => {
  const { r, ts } = run((r) => {
    r.metadata({ videocodecid: 7, audiocodecid: 10 });
    r.media('video', 0, AVC_SEQ);
    r.media('video', 0, key());
    r.flush();
    r.media('video', 40, Buffer.from([0x22, 1, 2])); // Sorenson H.263
    r.media('video', 80, Buffer.from([0x17]));
    r.media('video', 120, Buffer.from([0x1c, 1, 0, 0, 0, 0, 0, 0, 1, 2])); // HEVC after H.264
  });
  assert.equal(r.info.started, true);
  assert.deepEqual(pmtStreams(ts), [0x1b]);
  assert.equal(r.info.ignored, 3);
  const nothing = run((r) => {
    r.media('video', 0, Buffer.from([0x22, 1]));
    r.flush();
  });
  assert.equal(nothing.ts.length, 0);
  assert.equal(nothing.r.info.started, false);
});

test('a sequence header mid-stream replaces the parameter sets', () => {
  const sps2 = Buffer.from(SPS);
  sps2[sps2.length - 1] = 0x97;
  const seq2 = Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), buildAvcDecoderConfigurationRecord([sps2], [PPS])]);
  const { ts } = run((r) => {
    r.metadata({ videocodecid: 7 });
    r.media('video', 0, AVC_SEQ);
    r.media('video', 0, key());
    r.media('video', 40, seq2);
    r.media('video', 40, key());
  });
  assert.ok(ts.includes(Buffer.concat([Buffer.from([0, 0, 0, 1]), sps2])));
  assert.ok(ts.includes(Buffer.concat([Buffer.from([0, 0, 0, 1]), SPS])));
});
