import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ccOf,
  ffprobeBytes,
  ffprobeJson,
  h264Fixture,
  packetsOf,
  pesPtsOf,
  pidOf,
  rng,
  segmentAll,
  tsPacket,
  type CapturedSegment,
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

function sameSegments(a: CapturedSegment[], b: CapturedSegment[], what: string): void {
  assert.equal(b.length, a.length, `${what}: segment count`);
  for (let k = 0; k < a.length; k++) {
    assert.deepEqual(b[k]!.open, a[k]!.open, `${what}: open ${k}`);
    assert.deepEqual(b[k]!.close, a[k]!.close, `${what}: close ${k}`);
    assert.ok(b[k]!.data.equals(a[k]!.data), `${what}: bytes of segment ${k}`);
  }
}

describe('Segmenter on H.264/AAC', () => {
  it('cuts exactly at keyframes once the target is reached, with exact durations', () => {
    const fx = h264Fixture();
    const pk = videoPackets(fx.path);
    const { segments, segmenter } = segmentAll(fx.data, { targetDurationMs: 2000 });
    const expected = expectedCuts(pk, 2000);
    assert.equal(expected.length, 3);
    assert.deepEqual(
      segments.map((s) => ({ startPts: s.open.startPts, durationMs: s.close!.durationMs })),
      expected,
    );
    for (const s of segments) {
      assert.equal(s.open.keyframe, true);
      assert.equal(s.open.discontinuity, false);
      assert.equal(s.close!.bytes, s.data.length);
      assert.equal(s.close!.startPts, s.open.startPts);
    }
    assert.match(segmenter.mediaInfo.codecs ?? '', /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    assert.equal(segmenter.stats.keyframes, 6);
    // Target 1 s: one segment per GOP.
    const one = segmentAll(fx.data, { targetDurationMs: 1000 }).segments;
    assert.deepEqual(
      one.map((s) => s.close!.durationMs),
      expectedCuts(pk, 1000).map((c) => c.durationMs),
    );
    assert.equal(one.length, 6);
  });

  it('writes segments that ffprobe reads cleanly: PAT+PMT first, a keyframe first, every frame once', () => {
    const fx = h264Fixture();
    const { segments } = segmentAll(fx.data, { targetDurationMs: 2000 });
    let frames = 0;
    for (const [k, s] of segments.entries()) {
      assert.equal(pidOf(s.data), 0, 'PAT first');
      assert.equal(pidOf(s.data.subarray(188)), 0x1000, 'PMT second');
      const { json, stderr } = ffprobeBytes(`seg${k}.ts`, s.data, ['-show_entries', 'packet=pts,flags', '-select_streams', 'v:0']);
      assert.equal(stderr, '', `ffprobe warnings for segment ${k}`);
      assert.ok(json.packets[0].flags.startsWith('K'), `segment ${k} starts with a keyframe`);
      assert.equal(json.packets[0].pts, s.open.startPts);
      frames += json.packets.length;
    }
    assert.equal(frames, 150);
    // The whole output, concatenated, is one clean stream for ffprobe too (PSI continuity counters included).
    const all = Buffer.concat(segments.map((s) => s.data));
    const { stderr } = ffprobeBytes('all.ts', all, ['-show_entries', 'format=nb_streams']);
    assert.equal(stderr, '');
  });

  it('passes packets through untouched and keeps PAT/PMT continuity counters continuous', () => {
    const input = h264Fixture().data;
    const { segments } = segmentAll(input, { targetDurationMs: 2000 });
    const isPsi = (p: Buffer) => pidOf(p) === 0 || pidOf(p) === 0x1000;
    const inPk = packetsOf(input);
    const firstPts = segments[0]!.open.startPts;
    const start = inPk.findIndex((p) => pidOf(p) === 256 && pesPtsOf(p) === firstPts);
    assert.ok(start > 0);
    const expected = inPk.slice(start).filter((p) => !isPsi(p));
    const out = packetsOf(Buffer.concat(segments.map((s) => s.data)));
    const got = out.filter((p) => !isPsi(p));
    assert.equal(got.length, expected.length);
    for (let k = 0; k < got.length; k++) assert.ok(got[k]!.equals(expected[k]!), `packet ${k}`);
    for (const pid of [0, 0x1000]) {
      const ccs = out.filter((p) => pidOf(p) === pid).map(ccOf);
      assert.ok(ccs.length > segments.length);
      for (let k = 1; k < ccs.length; k++) assert.equal(ccs[k], (ccs[k - 1]! + 1) & 15, `CC of PID ${pid}`);
    }
  });

  it('gives byte-identical segments for any chunking of the input (1..4000 bytes)', () => {
    const input = h264Fixture().data;
    const ref = segmentAll(input, { targetDurationMs: 2000 }).segments;
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      sameSegments(ref, segmentAll(input, { targetDurationMs: 2000 }, () => 1 + Math.floor(r() * 4000)).segments, `seed ${seed}`);
    }
    sameSegments(ref, segmentAll(input, { targetDurationMs: 2000 }, () => 188).segments, '188');
  });

  it('drops null packets and everything before the first keyframe', () => {
    const input = h264Fixture().data;
    const ref = segmentAll(input).segments;
    const pkts = packetsOf(input);
    const withNulls: Buffer[] = [];
    pkts.forEach((p, k) => {
      withNulls.push(p);
      if (k % 5 === 0) withNulls.push(tsPacket({ pid: 0x1fff, cc: 0, payload: new Uint8Array(184) }));
    });
    sameSegments(ref, segmentAll(Buffer.concat(withNulls)).segments, 'with null packets');
    // Start 30% into the stream (mid-GOP): the first segment starts at the next keyframe.
    const late = Buffer.concat(pkts.slice(Math.floor(pkts.length * 0.3)));
    const segs = segmentAll(late).segments;
    const keys = videoPackets(h264Fixture().path).filter((p) => p.flags.startsWith('K'));
    assert.equal(segs[0]!.open.startPts, keys[2]!.pts);
    assert.equal(segs[0]!.open.keyframe, true);
  });
});

