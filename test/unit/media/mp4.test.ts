/**
 * The native fMP4/CMAF muxer: box tree (read back by a small box parser here), ffprobe decoding of
 * init + fragments, tfdt continuity across fragments and segments, part rules (duration ≤ part target,
 * independent only on keyframes), codec change (new init + discontinuity), H.264 / H.265 / AAC.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CmafSegmenter, type CmafInit, type CmafPart, type SegmentClose, type SegmentOpen } from '../../../src/media/mp4/cmaf-segmenter.js';
import { buildFragment } from '../../../src/media/mp4/fragment.js';
import { audioSpecificConfig } from '../../../src/media/mp4/init.js';
import { previewFromCmaf, previewFromTs } from '../../../src/media/mp4/preview.js';
import { audioFixture, ffmpegFixture, ffprobeBytes, fixtureDir, h264Fixture, h265Fixture } from './_helpers.js';

interface Box {
  type: string;
  start: number;
  size: number;
  /** Payload offset (after the header). */
  body: number;
  children: Box[];
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'dinf']);

/** Parses a box tree; throws when a size does not add up. */
function parseBoxes(b: Buffer, start = 0, end = b.length): Box[] {
  const out: Box[] = [];
  let o = start;
  while (o < end) {
    assert.ok(o + 8 <= end, `truncated box header at ${o}`);
    const size = b.readUInt32BE(o);
    const type = b.toString('latin1', o + 4, o + 8);
    assert.ok(size >= 8 && o + size <= end, `bad size ${size} of ${type} at ${o}`);
    const box: Box = { type, start: o, size, body: o + 8, children: [] };
    if (CONTAINERS.has(type)) box.children = parseBoxes(b, o + 8, o + size);
    if (type === 'stsd') box.children = parseBoxes(b, o + 16, o + size);
    out.push(box);
    o += size;
  }
  return out;
}

function find(boxes: Box[], path: string): Box[] {
  const [head, ...rest] = path.split('/');
  const hits = boxes.filter((x) => x.type === head);
  if (rest.length === 0) return hits;
  return hits.flatMap((h) => find(h.children, rest.join('/')));
}

interface Captured {
  inits: CmafInit[];
  segments: { open: SegmentOpen; close?: SegmentClose; parts: CmafPart[]; initVersion: number }[];
}

function run(input: Buffer, opts: { targetDurationMs?: number; partDurationMs?: number; maxDurationMs?: number }, chunk = 1316, between?: (k: number, s: CmafSegmenter) => void): Captured {
  const c: Captured = { inits: [], segments: [] };
  const seg = new CmafSegmenter(
    {
      init(i) {
        const last = c.segments.at(-1);
        assert.ok(last === undefined || last.close !== undefined, 'init while a segment is open');
        c.inits.push(i);
      },
      openSegment(o) {
        const last = c.segments.at(-1);
        assert.ok(last === undefined || last.close !== undefined, 'open while open');
        c.segments.push({ open: o, parts: [], initVersion: c.inits.length - 1 });
      },
      part(p) {
        const last = c.segments.at(-1);
        assert.ok(last !== undefined && last.close === undefined, 'part outside a segment');
        assert.equal(p.index, last.parts.length);
        last.parts.push(p);
      },
      closeSegment(info) {
        const last = c.segments.at(-1);
        assert.ok(last !== undefined && last.close === undefined, 'close without open');
        assert.equal(info.bytes, last.parts.reduce((n, p) => n + p.data.length, 0));
        last.close = info;
      },
    },
    opts,
  );
  let k = 0;
  for (let o = 0; o < input.length; o += chunk) {
    between?.(k++, seg);
    seg.push(input.subarray(o, o + chunk));
  }
  seg.flush();
  return c;
}

/** tfdt per track id of a fragment. */
function tfdts(frag: Buffer): Map<number, { tfdt: number; sum: number; count: number; flags: number[] }> {
  const out = new Map<number, { tfdt: number; sum: number; count: number; flags: number[] }>();
  const boxes = parseBoxes(frag);
  for (const traf of find(boxes, 'moof/traf')) {
    const tfhd = traf.children.find((x) => x.type === 'tfhd')!;
    const id = frag.readUInt32BE(tfhd.body + 4);
    const tfdt = traf.children.find((x) => x.type === 'tfdt')!;
    assert.equal(frag[tfdt.body], 1, 'tfdt version 1');
    const t = Number(frag.readBigUInt64BE(tfdt.body + 4));
    const trun = traf.children.find((x) => x.type === 'trun')!;
    const count = frag.readUInt32BE(trun.body + 4);
    let sum = 0;
    const flags: number[] = [];
    for (let k = 0; k < count; k++) {
      const o = trun.body + 12 + 16 * k;
      sum += frag.readUInt32BE(o);
      flags.push(frag.readUInt32BE(o + 8));
    }
    out.set(id, { tfdt: t, sum, count, flags });
  }
  return out;
}

function concatAll(c: Captured): Buffer {
  return Buffer.concat([c.inits[0]!.data, ...c.segments.flatMap((s) => s.parts.map((p) => p.data))]);
}

describe('fMP4 init segment', () => {
  it('H.264 + AAC: ftyp with cmfc, moov with avcC, esds and mvex/trex per track', () => {
    const c = run(h264Fixture(4, 25).data, { targetDurationMs: 2000 });
    assert.equal(c.inits.length, 1);
    const init = c.inits[0]!;
    assert.match(init.codecs, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    const boxes = parseBoxes(init.data);
    assert.deepEqual(
      boxes.map((x) => x.type),
      ['ftyp', 'moov'],
    );
    const ftyp = boxes[0]!;
    assert.ok(init.data.toString('latin1', ftyp.body, ftyp.start + ftyp.size).includes('cmfc'));
    assert.equal(find(boxes, 'moov/trak').length, 2);
    assert.equal(find(boxes, 'moov/mvex/trex').length, 2);
    const avc1 = find(boxes, 'moov/trak/mdia/minf/stbl/stsd/avc1')[0]!;
    assert.equal(init.data.readUInt16BE(avc1.body + 24), 320);
    assert.equal(init.data.readUInt16BE(avc1.body + 26), 180);
    const avcC = parseBoxes(init.data, avc1.body + 78, avc1.start + avc1.size).find((x) => x.type === 'avcC')!;
    assert.equal(init.data[avcC.body], 1, 'configurationVersion');
    assert.equal(init.data[avcC.body + 4]! & 3, 3, '4-byte NAL lengths');
    assert.equal(init.data[avcC.body + 5]! & 0x1f, 1, 'one SPS');
    const mp4a = find(boxes, 'moov/trak/mdia/minf/stbl/stsd/mp4a')[0]!;
    const esds = parseBoxes(init.data, mp4a.body + 28, mp4a.start + mp4a.size).find((x) => x.type === 'esds');
    assert.ok(esds, 'esds inside mp4a');
    // timescales: video 90 kHz, audio the sample rate
    const mdhd = find(boxes, 'moov/trak/mdia/mdhd');
    assert.deepEqual(
      mdhd.map((m) => init.data.readUInt32BE(m.body + 12)),
      [90000, 48000],
    );
  });

  it('AudioSpecificConfig of AAC-LC 48 kHz stereo is 0x1190', () => {
    assert.deepEqual([...audioSpecificConfig(2, 48000, 2)], [0x11, 0x90]);
  });

  it('H.265: hvc1 sample entry with VPS/SPS/PPS arrays in hvcC', () => {
    const c = run(h265Fixture(2).data, { targetDurationMs: 1000 });
    const init = c.inits[0]!;
    assert.match(init.codecs, /^hvc1\./);
    const boxes = parseBoxes(init.data);
    const hvc1 = find(boxes, 'moov/trak/mdia/minf/stbl/stsd/hvc1')[0]!;
    const hvcC = parseBoxes(init.data, hvc1.body + 78, hvc1.start + hvc1.size).find((x) => x.type === 'hvcC')!;
    const b = init.data;
    assert.equal(b[hvcC.body], 1);
    assert.equal(b[hvcC.body + 22], 3, 'three NAL arrays');
    let o = hvcC.body + 23;
    const types: number[] = [];
    for (let k = 0; k < 3; k++) {
      types.push(b[o]! & 0x3f);
      const n = b.readUInt16BE(o + 1);
      o += 3;
      for (let j = 0; j < n; j++) o += 2 + b.readUInt16BE(o);
    }
    assert.deepEqual(types, [32, 33, 34]);
    assert.equal(o, hvcC.start + hvcC.size);
  });
});

describe('fMP4 fragments', () => {
  it('H.264 + AAC: init + fragments decode with ffprobe, every frame and audio packet kept', () => {
    const input = h264Fixture(6, 25);
    const c = run(input.data, { targetDurationMs: 2000 });
    assert.equal(c.segments.length, 3);
    const { json, stderr } = ffprobeBytes('h264.mp4', concatAll(c), ['-count_frames', '-show_streams']);
    assert.equal(stderr.trim(), '');
    const v = json.streams.find((s: any) => s.codec_type === 'video');
    const a = json.streams.find((s: any) => s.codec_type === 'audio');
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.width, 320);
    assert.equal(Number(v.nb_read_frames), 150);
    assert.equal(a.codec_name, 'aac');
    assert.ok(Number(a.nb_read_frames) >= 280, `audio frames ${a.nb_read_frames}`);
    // a full decode without errors
    const path = join(fixtureDir(), 'h264-decode.mp4');
    writeFileSync(path, concatAll(c));
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(r.stderr.trim(), '');
  });

  it('tfdt continuity: each fragment starts where the previous one ended, per track', () => {
    const c = run(h264Fixture(6, 25).data, { targetDurationMs: 1000, partDurationMs: 300 });
    const next = new Map<number, number>();
    let frags = 0;
    for (const s of c.segments) {
      for (const p of s.parts) {
        for (const [id, t] of tfdts(p.data)) {
          const want = next.get(id);
          if (want !== undefined) assert.equal(t.tfdt, want, `track ${id} fragment ${frags}`);
          next.set(id, t.tfdt + t.sum);
        }
        frags++;
      }
    }
    assert.ok(frags > 15);
    // video decode times are the TS timestamps (90 kHz): the first segment starts at its startPts or before
    const first = tfdts(c.segments[0]!.parts[0]!.data).get(1)!;
    assert.ok(Math.abs(first.tfdt - c.segments[0]!.open.startPts) <= 2 * 3600);
  });

  it('composition offsets are signed (trun version 1) and B-frames keep their order', () => {
    const c = run(h264Fixture(2, 25).data, { targetDurationMs: 2000 });
    const frag = c.segments[0]!.parts[0]!.data;
    const trun = find(parseBoxes(frag), 'moof/traf/trun')[0]!;
    assert.equal(frag[trun.body], 1);
    const count = frag.readUInt32BE(trun.body + 4);
    const ctos = Array.from({ length: count }, (_, k) => frag.readInt32BE(trun.body + 12 + 16 * k + 12));
    assert.ok(ctos.some((x) => x > 0), 'the fixture has B-frames: some composition offsets are positive');
  });

  it('parts last at most the part target; only parts that start on a keyframe are independent', () => {
    const c = run(h264Fixture(6, 25).data, { targetDurationMs: 2000, partDurationMs: 500 });
    for (const s of c.segments) {
      assert.ok(s.parts.length >= 4, `parts of a 2 s segment: ${s.parts.length}`);
      assert.equal(s.parts[0]!.independent, true);
      for (const p of s.parts) {
        assert.ok(p.durationMs <= 500 + 0.001, `part of ${p.durationMs} ms`);
        const flags = tfdts(p.data).get(1)!.flags;
        assert.equal(p.independent, flags[0] === 0x02000000);
      }
      const sum = s.parts.reduce((n, p) => n + p.durationMs, 0);
      assert.ok(Math.abs(sum - s.close!.durationMs) < 0.01);
    }
  });

  it('GOP longer than the target: forced cuts are not keyframe segments, parts not independent', () => {
    const c = run(h264Fixture(6, 125).data, { targetDurationMs: 1000, maxDurationMs: 2000, partDurationMs: 500 });
    const forced = c.segments.filter((s) => !s.open.keyframe);
    assert.ok(forced.length >= 1);
    for (const s of forced) assert.ok(s.parts.every((p) => !p.independent));
    assert.equal(c.segments[0]!.open.keyframe, true);
  });

  it('H.265 and AAC-only streams decode', () => {
    const h = run(h265Fixture(4).data, { targetDurationMs: 1000, partDurationMs: 500 });
    const hv = ffprobeBytes('h265.mp4', concatAll(h), ['-count_frames', '-show_streams']).json.streams[0];
    assert.equal(hv.codec_name, 'hevc');
    assert.equal(hv.codec_tag_string, 'hvc1');
    assert.equal(Number(hv.nb_read_frames), 100);
    const a = run(audioFixture(4).data, { targetDurationMs: 1000, partDurationMs: 500 });
    assert.ok(a.segments.length >= 4);
    for (const s of a.segments.slice(0, -1)) assert.ok(Math.abs(s.close!.durationMs - 1000) < 50, `audio segment ${s.close!.durationMs}`);
    const as = ffprobeBytes('aac.mp4', concatAll(a), ['-count_frames', '-show_streams']).json.streams[0];
    assert.equal(as.codec_name, 'aac');
    assert.equal(Number(as.sample_rate), 44100);
    assert.equal(Number(as.channels), 2);
    assert.ok(Number(as.nb_read_frames) >= 170);
  });

  it('a codec change mid-stream gives a new init segment and a discontinuity', () => {
    const small = h264Fixture(2, 25);
    // prettier-ignore
    const big = ffmpegFixture('h264-640.ts', [
      '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac',
      '-output_ts_offset', '10', '-f', 'mpegts',
    ]);
    const c = run(Buffer.concat([small.data, big.data]), { targetDurationMs: 1000 });
    assert.equal(c.inits.length, 2);
    const seg = c.segments.find((s) => s.initVersion === 1)!;
    assert.equal(seg.open.discontinuity, true);
    const avc1 = find(parseBoxes(c.inits[1]!.data), 'moov/trak/mdia/minf/stbl/stsd/avc1')[0]!;
    assert.equal(c.inits[1]!.data.readUInt16BE(avc1.body + 24), 640);
    // the second init + its fragments decode at the new size
    const tail = Buffer.concat([c.inits[1]!.data, ...c.segments.filter((s) => s.initVersion === 1).flatMap((s) => s.parts.map((p) => p.data))]);
    const v = ffprobeBytes('change.mp4', tail, ['-show_streams']).json.streams.find((s: any) => s.codec_type === 'video');
    assert.equal(v.width, 640);
  });

  it('markDiscontinuity closes the open segment and the next one is flagged', () => {
    const d = h264Fixture(4, 25).data;
    const half = Math.floor(d.length / 188 / 2) * 188;
    const c = run(d, { targetDurationMs: 1000 }, 188 * 7, (k, s) => {
      if (k * 188 * 7 >= half && k * 188 * 7 < half + 188 * 7) s.markDiscontinuity();
    });
    assert.equal(c.inits.length, 1);
    assert.ok(c.segments.some((s) => s.open.discontinuity));
    assert.ok(c.segments.every((s) => s.close !== undefined));
  });

  it('buildFragment: data offsets point into mdat, sizes add up', () => {
    const frag = buildFragment(7, [
      { id: 1, lengthPrefixed: true, samples: [{ dts: 90000, cto: 3600, duration: 3600, key: true, chunks: [Uint8Array.of(0x65, 1, 2), Uint8Array.of(6, 9)] }] },
      { id: 2, lengthPrefixed: false, samples: [{ dts: 48000, cto: 0, duration: 1024, key: true, chunks: [Uint8Array.of(0xaa, 0xbb)] }] },
    ]);
    const boxes = parseBoxes(frag);
    assert.deepEqual(
      boxes.map((x) => x.type),
      ['moof', 'mdat'],
    );
    const mdat = boxes[1]!;
    assert.equal(frag.readUInt32BE(find(boxes, 'moof/mfhd')[0]!.body + 4), 7);
    const truns = find(boxes, 'moof/traf/trun');
    const off1 = frag.readInt32BE(truns[0]!.body + 8);
    const off2 = frag.readInt32BE(truns[1]!.body + 8);
    assert.equal(off1, mdat.body);
    assert.deepEqual([...frag.subarray(off1, off1 + 13)], [0, 0, 0, 3, 0x65, 1, 2, 0, 0, 0, 2, 6, 9]);
    assert.deepEqual([...frag.subarray(off2, off2 + 2)], [0xaa, 0xbb]);
    assert.equal(off2 + 2, frag.length);
  });
});

describe('preview.mp4 (one keyframe, no decode)', () => {
  it('from a TS segment: H.264 and H.265 give one decodable frame at the stream size', () => {
    for (const [name, ts, codec] of [
      ['h264', h264Fixture(2, 25).data, 'h264'],
      ['h265', h265Fixture(2).data, 'hevc'],
    ] as const) {
      const mp4 = previewFromTs(ts);
      assert.ok(mp4, name);
      const v = ffprobeBytes(`preview-${name}.mp4`, mp4, ['-count_frames', '-show_streams']).json.streams[0];
      assert.equal(v.codec_name, codec);
      assert.equal(Number(v.nb_read_frames), 1);
      assert.equal(v.width, 320);
    }
    assert.equal(previewFromTs(audioFixture(1).data), null, 'no video: no preview');
    assert.equal(previewFromTs(Buffer.alloc(188 * 10, 0x47)), null);
  });

  it('from a CMAF segment and its init segment', () => {
    const c = run(h264Fixture(2, 25).data, { targetDurationMs: 1000 });
    const seg = Buffer.concat(c.segments[1]!.parts.map((p) => p.data));
    const mp4 = previewFromCmaf(c.inits[0]!.data, seg);
    assert.ok(mp4);
    const streams = ffprobeBytes('preview-cmaf.mp4', mp4, ['-count_frames', '-show_streams']).json.streams;
    const v = streams.find((s: any) => s.codec_type === 'video');
    assert.equal(Number(v.nb_read_frames), 1);
    assert.equal(v.height, 180);
    assert.equal(previewFromCmaf(c.inits[0]!.data, seg.subarray(0, 100)), null, 'truncated: null, no throw');
    assert.equal(previewFromCmaf(Buffer.from('garbage'), seg), null);
  });
});
