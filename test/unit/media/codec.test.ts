import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aacCodecString, parseAdtsHeader } from '../../../src/media/codec/aac.js';
import { findStartCode, firstVclNal, isKeyframeAccessUnit, splitAnnexB } from '../../../src/media/codec/annexb.js';
import { parseAc3Header, parseMpegAudioHeader } from '../../../src/media/codec/audio.js';
import { BitReader, unescapeRbsp } from '../../../src/media/codec/bits.js';
import { h264CodecString, parseH264Sps } from '../../../src/media/codec/h264.js';
import { h265CodecString, parseH265Sps, parseH265Vps } from '../../../src/media/codec/h265.js';
import { TsDemuxer, type TsTrack } from '../../../src/media/ts/demuxer.js';
import { ffprobeJson, h264Fixture, h265Fixture } from './_helpers.js';

/** First complete PES payload of each PID. */
function firstPayloads(ts: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const d = new TsDemuxer({
    pes(track: TsTrack, payload: Buffer) {
      if (!out.has(track.pid)) out.set(track.pid, Buffer.from(payload));
    },
  });
  d.push(ts);
  d.flush();
  return out;
}

const H264_PROFILES: Record<string, number> = { Baseline: 66, 'Constrained Baseline': 66, Main: 77, High: 100, 'High 10': 110, 'High 4:2:2': 122, 'High 4:4:4 Predictive': 244 };

describe('bit reading', () => {
  it('removes emulation-prevention bytes only after two zeros', () => {
    const src = Uint8Array.from([0x11, 0x00, 0x00, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03]);
    assert.deepEqual([...unescapeRbsp(src)], [0x11, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00]);
    const clean = Uint8Array.from([1, 2, 3]);
    assert.deepEqual([...unescapeRbsp(clean)], [1, 2, 3]);
  });

  it('reads exp-Golomb codes and never throws past the end', () => {
    // 1 | 010 | 011 | 00100 | 00101 -> ue 0,1,2,3 ; se of 4 = -2
    const r = new BitReader(Uint8Array.from([0b10100110, 0b01000010, 0b10000000]));
    assert.equal(r.ue(), 0);
    assert.equal(r.ue(), 1);
    assert.equal(r.ue(), 2);
    assert.equal(r.ue(), 3);
    assert.equal(r.se(), -2);
    assert.equal(r.overrun, false);
    assert.equal(r.u(32), 0);
    assert.equal(r.overrun, true);
    const empty = new BitReader(new Uint8Array(0));
    assert.equal(empty.ue(), 0);
    assert.equal(empty.overrun, true);
  });
});

describe('H.264', () => {
  it('parses the SPS of a real x264 stream like ffprobe does (profile, level, cropped size, fps)', () => {
    const fx = h264Fixture();
    const video = firstPayloads(fx.data).get(256)!;
    const nals = splitAnnexB(video, 'h264');
    const spsNal = nals.find((n) => n.type === 7)!;
    assert.ok(spsNal, 'SPS in the first access unit');
    const sps = parseH264Sps(video.subarray(spsNal.start, spsNal.end))!;
    assert.ok(sps);
    const probe = ffprobeJson(fx.path, ['-show_streams', '-select_streams', 'v:0']).streams[0];
    assert.equal(sps.profileIdc, H264_PROFILES[probe.profile]);
    assert.equal(sps.levelIdc, probe.level);
    assert.equal(sps.width, probe.width);
    assert.equal(sps.height, probe.height);
    assert.equal(sps.height, 180); // 192 coded lines, cropped
    assert.equal(sps.codedHeight, 192);
    assert.equal(sps.fps, 25);
    assert.equal(sps.codecString, h264CodecString(sps.profileIdc, sps.constraintFlags, sps.levelIdc));
    assert.match(sps.codecString, /^avc1\.[0-9a-f]{6}$/);
    assert.equal(sps.codecString.slice(5, 7), sps.profileIdc.toString(16).padStart(2, '0'));
    assert.equal(Number.parseInt(sps.codecString.slice(9, 11), 16), probe.level);
  });

  it('builds avc1.PPCCLL from profile, constraint flags and level', () => {
    assert.equal(h264CodecString(100, 0, 31), 'avc1.64001f');
    assert.equal(h264CodecString(66, 0xc0, 30), 'avc1.42c01e');
  });

  it('finds the first VCL NAL and tells IDR from non-IDR', () => {
    const idr = Uint8Array.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x84]);
    const p = Uint8Array.from([0, 0, 0, 1, 0x09, 0x30, 0, 0, 1, 0x41, 0x9a, 0x00]);
    assert.deepEqual(
      splitAnnexB(idr).map((n) => n.type),
      [9, 7, 8, 5],
    );
    assert.equal(firstVclNal(idr)?.type, 5);
    assert.equal(isKeyframeAccessUnit(idr), true);
    assert.equal(isKeyframeAccessUnit(p), false);
    // Open GOP: recovery-point SEI (payloadType 6) then an I slice (first_mb 0, slice_type 7) is a keyframe;
    // the same SEI before a P slice is not.
    const openGop = Uint8Array.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x06, 0x06, 0x01, 0xc4, 0x80, 0, 0, 1, 0x21, 0x88, 0x84]);
    assert.equal(isKeyframeAccessUnit(openGop), true);
    const recoveryP = Uint8Array.from([0, 0, 0, 1, 0x06, 0x06, 0x01, 0xc4, 0x80, 0, 0, 1, 0x21, 0x9a, 0x84]);
    assert.equal(isKeyframeAccessUnit(recoveryP), false);
    assert.equal(firstVclNal(Uint8Array.from([0, 0, 1, 0x09, 0xf0])), null);
    assert.equal(findStartCode(Uint8Array.from([7, 7, 0, 0, 1, 9])), 5);
    assert.equal(findStartCode(Uint8Array.from([0, 0, 2, 1])), -1);
  });

  it('returns null for truncated or foreign SPS bytes', () => {
    assert.equal(parseH264Sps(Uint8Array.from([0x67, 0x64])), null);
    assert.equal(parseH264Sps(Uint8Array.from([0x68, 0x64, 0, 0x1f, 0xff])), null);
    for (let n = 0; n < 12; n++) parseH264Sps(Uint8Array.from([0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10].slice(0, n)));
  });
});

describe('H.265', () => {
  it('parses VPS/SPS of a real x265 stream: hvc1 codec string, profile/level like ffprobe, size, fps', () => {
    const fx = h265Fixture();
    const video = firstPayloads(fx.data).get(256)!;
    const nals = splitAnnexB(video, 'h265');
    assert.deepEqual(
      nals
        .map((n) => n.type)
        .filter((t) => t !== 35) // access unit delimiter
        .slice(0, 3),
      [32, 33, 34],
    );
    const vcl = firstVclNal(video, 'h265')!;
    assert.ok(vcl.type >= 16 && vcl.type <= 23, `IRAP first picture, got ${vcl.type}`);
    assert.equal(isKeyframeAccessUnit(video, 'h265'), true);
    const spsNal = nals.find((n) => n.type === 33)!;
    const sps = parseH265Sps(video.subarray(spsNal.start, spsNal.end))!;
    const vpsNal = nals.find((n) => n.type === 32)!;
    const vps = parseH265Vps(video.subarray(vpsNal.start, vpsNal.end))!;
    assert.ok(sps && vps);
    const probe = ffprobeJson(fx.path, ['-show_streams', '-select_streams', 'v:0']).streams[0];
    assert.equal(probe.profile, 'Main');
    assert.equal(sps.profileIdc, 1);
    assert.equal(sps.levelIdc, probe.level);
    assert.equal(vps.levelIdc, probe.level);
    assert.equal(sps.width, 320);
    assert.equal(sps.height, 180);
    assert.equal(sps.fps, 25);
    // Main profile: compatibility flags 1 and 2 -> reversed "6"; tier L; progressive + frame-only constraints.
    assert.match(sps.codecString, new RegExp(`^hvc1\\.1\\.6\\.L${probe.level}(\\.[0-9A-F]{2})*$`));
    assert.equal(sps.codecString, vps.codecString);
  });

  it('formats the codec string per ISO/IEC 14496-15 E.3', () => {
    const ptl = { profileSpace: 0, tierFlag: 0, profileIdc: 1, compatibilityFlags: 0x60000000, constraintBytes: [0xb0, 0, 0, 0, 0, 0], levelIdc: 93 };
    assert.equal(h265CodecString(ptl), 'hvc1.1.6.L93.B0');
    assert.equal(h265CodecString({ ...ptl, profileIdc: 2, compatibilityFlags: 0x20000000, tierFlag: 1, levelIdc: 120 }), 'hvc1.2.4.H120.B0');
    assert.equal(h265CodecString({ ...ptl, profileSpace: 1, constraintBytes: [0, 0, 0, 0, 0, 0] }, 'hev1'), 'hev1.A1.6.L93');
  });
});

describe('audio headers', () => {
  it('parses the ADTS header of a real AAC stream like ffprobe does', () => {
    const fx = h264Fixture();
    const audio = firstPayloads(fx.data).get(257)!;
    const h = parseAdtsHeader(audio)!;
    assert.ok(h);
    const probe = ffprobeJson(fx.path, ['-show_streams', '-select_streams', 'a:0']).streams[0];
    assert.equal(probe.profile, 'LC');
    assert.equal(h.objectType, 2);
    assert.equal(aacCodecString(h.objectType), 'mp4a.40.2');
    assert.equal(h.sampleRate, Number(probe.sample_rate));
    assert.equal(h.channels, probe.channels);
    assert.ok(h.frameLength > 7 && h.frameLength <= audio.length);
    assert.equal(parseAdtsHeader(audio, 1), null);
    assert.equal(parseAdtsHeader(audio.subarray(0, 5)), null);
  });

  it('parses MPEG audio and AC-3 / E-AC-3 headers', () => {
    const mp3 = parseMpegAudioHeader(Uint8Array.from([0xff, 0xfb, 0x90, 0x64]))!;
    assert.deepEqual(
      { v: mp3.version, l: mp3.layer, br: mp3.bitrateKbps, sr: mp3.sampleRate, ch: mp3.channels, c: mp3.codecString },
      { v: 1, l: 3, br: 128, sr: 44100, ch: 2, c: 'mp4a.40.34' },
    );
    assert.equal(parseMpegAudioHeader(Uint8Array.from([0xff, 0xff, 0xff, 0xff])), null);
    // AC-3: 48 kHz, bsid 8, acmod 7 (3/2) with LFE -> 6 channels.
    const ac3 = parseAc3Header(Uint8Array.from([0x0b, 0x77, 0, 0, 0x14, 0x40, 0xe1, 0x40]))!;
    assert.equal(ac3.codecString, 'ac-3');
    assert.equal(ac3.sampleRate, 48000);
    assert.equal(ac3.channels, 6);
    // E-AC-3: fscod 0 (48 kHz), numblkscod 3, acmod 2, no LFE, bsid 16.
    const eac3 = parseAc3Header(Uint8Array.from([0x0b, 0x77, 0, 0, 0x34, 0x80, 0]))!;
    assert.equal(eac3.codecString, 'ec-3');
    assert.equal(eac3.sampleRate, 48000);
    assert.equal(eac3.channels, 2);
    assert.equal(parseAc3Header(Uint8Array.from([0x0b, 0x77, 0, 0, 0xc0, 0x40, 0])), null);
  });
});
