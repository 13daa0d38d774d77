import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Segmenter } from '../../../src/media/hls/segmenter.js';
import { TsDemuxer } from '../../../src/media/ts/demuxer.js';
import {
  audioFixture,
  captureSink,
  ffmpegFixture,
  ffprobeBytes,
  ffprobeJson,
  h264Fixture,
  h265Fixture,
  packetsOf,
  pesPtsOf,
  pidOf,
  segmentAll,
} from './_helpers.js';

interface ProbePacket {
  pts: number;
  dts: number;
  flags: string;
}

function videoPackets(path: string): ProbePacket[] {
  return ffprobeJson(path, ['-show_entries', 'packet=pts,dts,flags', '-select_streams', 'v:0']).packets;
}

/** Expected cuts: the first keyframe, then each keyframe at least `targetMs` after the last cut (DTS). */
function expectedCuts(pk: ProbePacket[], targetMs: number): { startPts: number; durationMs: number }[] {
  const keys = pk.filter((p) => p.flags.startsWith('K'));
  const cuts: ProbePacket[] = [keys[0]!];
  for (const k of keys) if (k.dts - cuts[cuts.length - 1]!.dts >= targetMs * 90) cuts.push(k);
  const frame = pk[1]!.dts - pk[0]!.dts;
  const end = pk[pk.length - 1]!.dts + frame;
  return cuts.map((c, i) => ({ startPts: c.pts, durationMs: ((i + 1 < cuts.length ? cuts[i + 1]!.dts : end) - c.dts) / 90 }));
}

describe('Segmenter on other streams', () => {
  it('cuts H.265 at IRAP pictures', () => {
    const fx = h265Fixture();
    const pk = videoPackets(fx.path);
    const { segments, segmenter } = segmentAll(fx.data, { targetDurationMs: 2000 });
    assert.deepEqual(
      segments.map((s) => ({ startPts: s.open.startPts, durationMs: s.close!.durationMs })),
      expectedCuts(pk, 2000),
    );
    assert.equal(segments.length, 2);
    assert.match(segmenter.mediaInfo.codecs ?? '', /^hvc1\.1\.6\.L\d+/);
    for (const [k, s] of segments.entries()) {
      const { json } = ffprobeBytes(`hevc${k}.ts`, s.data, ['-show_entries', 'packet=flags', '-select_streams', 'v:0']);
      assert.ok(json.packets[0].flags.startsWith('K'));
    }
  });

  it('cuts open-GOP H.264 at I slices announced by a recovery-point SEI (no IDR after the first)', () => {
    // prettier-ignore
    const fx = ffmpegFixture('open-gop.ts', [
      '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25', '-t', '4', '-pix_fmt', 'yuv420p',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-x264-params', 'open-gop=1:keyint=25:min-keyint=25:scenecut=0',
      '-f', 'mpegts',
    ]);
    const pk = videoPackets(fx.path);
    const { segments, segmenter } = segmentAll(fx.data, { targetDurationMs: 1000 });
    assert.deepEqual(
      segments.map((s) => ({ startPts: s.open.startPts, durationMs: s.close!.durationMs })),
      expectedCuts(pk, 1000),
    );
    assert.equal(segments.length, 4);
    assert.ok(segments.every((s) => s.open.keyframe));
    assert.equal(segmenter.stats.keyframes, 4);
  });

  it('cuts audio-only streams at audio PES starts by time', () => {
    const fx = audioFixture();
    const pesPts: number[] = [];
    const d = new TsDemuxer({ pesReady: (t) => void pesPts.push(t.pts) });
    d.push(fx.data);
    d.flush();
    const { segments, segmenter } = segmentAll(fx.data, { targetDurationMs: 2000 });
    assert.ok(segments.length >= 2);
    assert.equal(segmenter.mediaInfo.codecs, 'mp4a.40.2');
    assert.equal(segmenter.mediaInfo.sampleRate, 44100);
    assert.equal(segmenter.mediaInfo.channels, 2);
    const pesDur = pesPts[1]! - pesPts[0]!;
    for (const [k, s] of segments.entries()) {
      assert.ok(pesPts.includes(s.open.startPts), 'starts at an audio PES');
      assert.equal(s.open.keyframe, true);
      if (k + 1 < segments.length) {
        assert.equal(s.close!.durationMs, (segments[k + 1]!.open.startPts - s.open.startPts) / 90);
        assert.ok(s.close!.durationMs >= 2000 && s.close!.durationMs < 2000 + pesDur / 90 + 1);
      }
    }
    const total = segments.reduce((a, s) => a + s.close!.durationMs, 0);
    assert.ok(Math.abs(total - (pesPts[pesPts.length - 1]! + pesDur - pesPts[0]!) / 90) < 1);
  });

  it('forces a cut without keyframe after maxDurationMs', () => {
    const fx = h264Fixture(5, 250); // a single keyframe
    const { segments } = segmentAll(fx.data, { targetDurationMs: 2000, maxDurationMs: 3000 });
    assert.deepEqual(
      segments.map((s) => [s.open.keyframe, s.close!.durationMs]),
      [
        [true, 3000],
        [false, 2000],
      ],
    );
  });
});

describe('Segmenter discontinuities', () => {
  it('markDiscontinuity closes the segment and flags the next one, cut at the new source keyframe', () => {
    const a = h264Fixture().data;
    // prettier-ignore
    const b = ffmpegFixture('other-source.ts', [
      '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25', '-t', '3', '-pix_fmt', 'yuv420p',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-output_ts_offset', '1000', '-f', 'mpegts',
    ]).data;
    const half = Math.floor(a.length / 188 / 2) * 188 + 100; // mid-packet: the partial packet is dropped
    const { sink, segments } = captureSink();
    const seg = new Segmenter(sink);
    seg.push(a.subarray(0, half));
    seg.markDiscontinuity();
    seg.push(b);
    seg.flush();
    const before = segments.filter((s) => s.open.startPts < 1000 * 90000);
    const after = segments.filter((s) => s.open.startPts >= 1000 * 90000);
    assert.ok(before.length >= 1 && after.length >= 1);
    assert.ok(before.every((s) => !s.open.discontinuity));
    assert.equal(after[0]!.open.discontinuity, true);
    assert.equal(after[0]!.open.keyframe, true);
    assert.ok(after.slice(1).every((s) => !s.open.discontinuity));
    const bKeys = packetsOf(b).filter((p) => pidOf(p) === 256 && pesPtsOf(p) !== undefined);
    assert.equal(after[0]!.open.startPts, pesPtsOf(bKeys[0]!));
    // The segment cut by the switch ends one frame after its last frame.
    const lastBefore = before[before.length - 1]!.close!;
    assert.ok(lastBefore.durationMs > 0 && lastBefore.durationMs <= 2000);
    assert.equal(lastBefore.durationMs % 40, 0);
    assert.ok(segments.every((s) => s.close !== undefined));
  });

  it('detects a backward timestamp jump by itself and flags the next segment', () => {
    const a = h264Fixture().data;
    const { segments, segmenter } = segmentAll(Buffer.concat([a, a]), { targetDurationMs: 2000 });
    assert.deepEqual(
      segments.map((s) => [s.open.discontinuity, s.close!.durationMs]),
      [
        [false, 2000],
        [false, 2000],
        [false, 2000],
        [true, 2000],
        [false, 2000],
        [false, 2000],
      ],
    );
    assert.equal(segments[3]!.open.startPts, segments[0]!.open.startPts);
    assert.ok(segmenter.stats.ptsJumps >= 1);
    assert.ok(segmenter.stats.pcrJumps >= 1);
  });
});

