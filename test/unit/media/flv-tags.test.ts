import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import {
  buildAudioSpecificConfig,
  buildAvcDecoderConfigurationRecord,
  parseAudioSpecificConfig,
  parseAudioTag,
  parseFlvFile,
  parseVideoTag,
  writeAdtsHeader,
  type AacConfig,
  type AvcConfig,
  type HevcConfig,
} from '../../../src/media/flv/index.js';

const SPS = Buffer.from('6764001eacd940a02ff9610000030001000003003c8f162d96', 'hex');
const PPS = Buffer.from('68ebecb22c', 'hex');

function avcSeqHeader(record: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x17, 0x00, 0, 0, 0]), record]);
}

test('AVC sequence header → AVCDecoderConfigurationRecord → SPS/PPS', () => {
  const rec = buildAvcDecoderConfigurationRecord([SPS], [PPS], 4);
  const tag = parseVideoTag(avcSeqHeader(rec));
  assert.equal(tag.type, 'config');
  if (tag.type !== 'config') return;
  const c = tag.config as AvcConfig;
  assert.equal(c.codec, 'h264');
  assert.equal(c.profile, 0x64);
  assert.equal(c.level, 0x1e);
  assert.equal(c.nalLengthSize, 4);
  assert.deepEqual(c.sps, [SPS]);
  assert.deepEqual(c.pps, [PPS]);
  assert.deepEqual(c.parameterSets, [SPS, PPS]);
  const two = parseVideoTag(avcSeqHeader(buildAvcDecoderConfigurationRecord([SPS], [PPS, PPS], 2)));
  assert.equal(two.type === 'config' && (two.config as AvcConfig).pps.length, 2);
  assert.equal(two.type === 'config' && two.config.nalLengthSize, 2);
});

test('AVC NALU tags carry keyframe flag and signed composition time', () => {
  const key = parseVideoTag(Buffer.from([0x17, 0x01, 0x00, 0x00, 0x50, 0, 0, 0, 2, 0x65, 0x88]));
  assert.deepEqual(
    key.type === 'frame' && { keyframe: key.keyframe, cts: key.cts, data: [...key.data] },
    { keyframe: true, cts: 80, data: [0, 0, 0, 2, 0x65, 0x88] },
  );
  const inter = parseVideoTag(Buffer.from([0x27, 0x01, 0xff, 0xff, 0xd8, 0, 0, 0, 1, 0x41]));
  assert.equal(inter.type === 'frame' && inter.keyframe, false);
  assert.equal(inter.type === 'frame' && inter.cts, -40);
  assert.equal(parseVideoTag(Buffer.from([0x17, 0x02, 0, 0, 0])).type, 'end');
  assert.equal(parseVideoTag(Buffer.from([0x57, 0x00])).type, 'skip'); // command frame
  assert.equal(parseVideoTag(Buffer.from([0x12, 0x00])).type, 'skip'); // Sorenson H.263
});

function hvcc(vps: Buffer, sps: Buffer, pps: Buffer, lengthSize = 4): Buffer {
  const head = Buffer.alloc(23);
  head[0] = 1;
  head[1] = 0x01; // general_profile_idc Main
  head[12] = 93; // level 3.1
  head[21] = 0x0c | (lengthSize - 1);
  head[22] = 3;
  const arr = (type: number, nal: Buffer) => {
    const h = Buffer.alloc(5);
    h[0] = 0x80 | type;
    h.writeUInt16BE(1, 1);
    h.writeUInt16BE(nal.length, 3);
    return Buffer.concat([h, nal]);
  };
  return Buffer.concat([head, arr(32, vps), arr(33, sps), arr(34, pps)]);
}

test('HEVC: legacy codec id 12 and enhanced RTMP hvc1 (SequenceStart, CodedFrames, CodedFramesX)', () => {
  const vps = Buffer.from([0x40, 0x01, 0x0c]);
  const sps = Buffer.from([0x42, 0x01, 0x01]);
  const pps = Buffer.from([0x44, 0x01, 0xc1]);
  const record = hvcc(vps, sps, pps);
  const legacy = parseVideoTag(Buffer.concat([Buffer.from([0x1c, 0, 0, 0, 0]), record]));
  assert.equal(legacy.type, 'config');
  if (legacy.type !== 'config') return;
  const c = legacy.config as HevcConfig;
  assert.equal(c.codec, 'h265');
  assert.equal(c.level, 93);
  assert.deepEqual(c.parameterSets, [vps, sps, pps]);

  const fourcc = Buffer.from('hvc1');
  const exStart = parseVideoTag(Buffer.concat([Buffer.from([0x80 | 0x10 | 0]), fourcc, record]));
  assert.equal(exStart.type === 'config' && exStart.codec, 'h265');
  const exFrame = parseVideoTag(Buffer.concat([Buffer.from([0x80 | 0x10 | 1]), fourcc, Buffer.from([0, 0, 40, 0, 0, 0, 1, 0x26])]));
  assert.deepEqual(exFrame.type === 'frame' && [exFrame.keyframe, exFrame.cts, exFrame.data.length], [true, 40, 5]);
  const exFrameX = parseVideoTag(Buffer.concat([Buffer.from([0x80 | 0x20 | 3]), fourcc, Buffer.from([0, 0, 0, 1, 0x02])]));
  assert.deepEqual(exFrameX.type === 'frame' && [exFrameX.keyframe, exFrameX.cts, exFrameX.data.length], [false, 0, 5]);
  const av1 = parseVideoTag(Buffer.concat([Buffer.from([0x90]), Buffer.from('av01'), Buffer.alloc(4)]));
  assert.match(av1.type === 'skip' ? av1.reason : '', /av01/);
});

test('AudioSpecificConfig: LC, HE-AAC explicit signalling, explicit frequency', () => {
  const lc = parseAudioSpecificConfig(Buffer.from([0x12, 0x10])) as AacConfig; // LC 44.1k stereo
  assert.deepEqual([lc.objectType, lc.sampleRateIndex, lc.sampleRate, lc.channelConfig], [2, 4, 44100, 2]);
  // HE-AAC: AOT 5, 24 kHz core (6), stereo, ext 48 kHz (3), core AOT 2 → 0x2b 0x11 0x88 0x00
  const he = parseAudioSpecificConfig(Buffer.from([0x2b, 0x11, 0x88, 0x00])) as AacConfig;
  assert.deepEqual([he.signalledObjectType, he.objectType, he.sampleRate, he.outputSampleRate, he.channelConfig], [5, 2, 24000, 48000, 2]);
  // explicit frequency 44100 (index 15 + 24 bits)
  const explicit = Buffer.alloc(5);
  // AOT 2 (00010), index 15 (1111), 24-bit 44100 (0x00AC44), channel 1 (0001), pad
  let v = 0n;
  v = (v << 5n) | 2n;
  v = (v << 4n) | 15n;
  v = (v << 24n) | 44100n;
  v = (v << 4n) | 1n;
  v <<= 3n;
  for (let i = 4; i >= 0; i--) {
    explicit[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  const ex = parseAudioSpecificConfig(explicit) as AacConfig;
  assert.deepEqual([ex.sampleRate, ex.sampleRateIndex, ex.channelConfig], [44100, 4, 1]);
  assert.equal(typeof parseAudioSpecificConfig(Buffer.from([0x00, 0x00])), 'string');
  assert.equal(typeof parseAudioSpecificConfig(Buffer.from([0x16])), 'string');
  assert.deepEqual(buildAudioSpecificConfig(2, 4, 2), Buffer.from([0x12, 0x10]));
});

test('AAC and MP3 audio tags, legacy and enhanced', () => {
  const cfg = parseAudioTag(Buffer.from([0xaf, 0x00, 0x11, 0x90]));
  assert.equal(cfg.type === 'config' && cfg.config.sampleRate, 48000);
  const raw = parseAudioTag(Buffer.from([0xaf, 0x01, 0x21, 0x10]));
  assert.deepEqual(raw.type === 'frame' && [raw.codec, [...raw.data]], ['aac', [0x21, 0x10]]);
  const mp3 = parseAudioTag(Buffer.from([0x2f, 0xff, 0xfb]));
  assert.deepEqual(mp3.type === 'frame' && [mp3.codec, mp3.data.length], ['mp3', 2]);
  const exCfg = parseAudioTag(Buffer.concat([Buffer.from([0x90]), Buffer.from('mp4a'), Buffer.from([0x12, 0x10])]));
  assert.equal(exCfg.type === 'config' && exCfg.config.channelConfig, 2);
  const exFrame = parseAudioTag(Buffer.concat([Buffer.from([0x91]), Buffer.from('mp4a'), Buffer.from([1, 2, 3])]));
  assert.equal(exFrame.type === 'frame' && exFrame.data.length, 3);
  assert.equal(parseAudioTag(Buffer.from([0x6f, 1])).type, 'skip'); // Nellymoser
  assert.equal(parseAudioTag(Buffer.from([0xaf])).type, 'skip');
});

test('ADTS header encodes profile, rate, channels and the frame length', () => {
  const cfg = parseAudioSpecificConfig(Buffer.from([0x12, 0x10])) as AacConfig;
  const b = Buffer.alloc(7);
  assert.equal(writeAdtsHeader(b, 0, cfg, 300), true);
  assert.equal(b.readUInt16BE(0) & 0xfff6, 0xfff0); // sync, MPEG-4, layer 0
  assert.equal(b[1]! & 1, 1); // no CRC
  assert.equal(b[2]! >> 6, 1); // LC
  assert.equal((b[2]! >> 2) & 0xf, 4); // 44.1 kHz
  assert.equal(((b[2]! & 1) << 2) | (b[3]! >> 6), 2); // stereo
  assert.equal(((b[3]! & 3) << 11) | (b[4]! << 3) | (b[5]! >> 5), 307);
  assert.equal(writeAdtsHeader(b, 0, cfg, 9000), false);
});

test('a real FLV from ffmpeg parses: AVC config with SPS/PPS, AAC config, frames', () => {
  const flv = execFileSync('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine',
    '-t', '0.5', '-c:v', 'libx264', '-g', '5', '-c:a', 'aac', '-ac', '2', '-f', 'flv', '-',
  ], { maxBuffer: 1 << 26 });
  const file = parseFlvFile(flv);
  assert.equal(file.error, undefined);
  assert.ok(file.hasAudio && file.hasVideo);
  const video = file.tags.filter((t) => t.type === 9).map((t) => parseVideoTag(t.data));
  const audio = file.tags.filter((t) => t.type === 8).map((t) => parseAudioTag(t.data));
  const vcfg = video.find((t) => t.type === 'config');
  assert.ok(vcfg && vcfg.type === 'config');
  const avc = vcfg.config as AvcConfig;
  assert.equal(avc.sps[0]![0]! & 0x1f, 7);
  assert.equal(avc.pps[0]![0]! & 0x1f, 8);
  assert.equal(avc.nalLengthSize, 4);
  const frames = video.filter((t) => t.type === 'frame');
  assert.ok(frames.length >= 10);
  assert.ok(frames[0]!.type === 'frame' && frames[0]!.keyframe);
  assert.ok(frames.filter((f) => f.type === 'frame' && f.keyframe).length >= 2);
  const acfg = audio.find((t) => t.type === 'config');
  assert.ok(acfg && acfg.type === 'config');
  assert.deepEqual([acfg.config.objectType, acfg.config.sampleRate, acfg.config.channelConfig], [2, 44100, 2]);
  assert.ok(audio.filter((t) => t.type === 'frame').length > 10);
});

test('random tag bodies never throw', () => {
  let seed = 3;
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(i % 40);
    for (let k = 0; k < b.length; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      b[k] = seed >>> 24;
    }
    if (b.length > 1 && i % 3 === 0) b[0] = 0x17; // AVC keyframe header → record parsing
    if (b.length > 1 && i % 3 === 1) b[0] = 0xaf; // AAC header
    parseVideoTag(b);
    parseAudioTag(b);
    parseFlvFile(b);
  }
});
