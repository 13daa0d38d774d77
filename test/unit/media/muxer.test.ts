/**
 * TsMuxer validated by the real ffprobe/ffmpeg (codecs, dimensions, timestamps, decode errors) and
 * by a packet-level check of what ffprobe forgives: continuity counters, PAT/PMT and PCR spacing,
 * random access flags, PES framing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAudioTag, parseFlvFile, parseVideoTag, type FlvTag } from '../../../src/media/flv/index.js';
import { TsMuxer, type TsMuxerOptions } from '../../../src/media/ts/muxer.js';
import { TsDemuxer } from '../../../src/media/ts/demuxer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'flux-muxer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function ffmpegOut(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', ...args, '-'], { maxBuffer: 1 << 27 });
}

function makeFlv(rate: number, seconds: number, extra: string[] = []): FlvTag[] {
  const flv = ffmpegOut([
    '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=${rate}`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(rate), '-bf', '2', '-c:a', 'aac', '-ac', '2',
    ...extra, '-f', 'flv',
  ]);
  const file = parseFlvFile(flv);
  assert.equal(file.error, undefined);
  return file.tags;
}

/** FLV tags → TS through TsMuxer, as the RTMP server does it. */
function mux(tags: FlvTag[], opts: TsMuxerOptions, shiftMs = 0): { ts: Buffer; muxer: TsMuxer } {
  const m = new TsMuxer(opts);
  const parts: Buffer[] = [];
  for (const t of tags) {
    const ts = (t.timestamp + shiftMs) >>> 0;
    if (t.type === 9 && opts.video) {
      const v = parseVideoTag(t.data);
      if (v.type === 'config') m.setVideoConfig(v.config.parameterSets, v.config.nalLengthSize);
      else if (v.type === 'frame') parts.push(m.writeVideo(ts, v.cts, v.keyframe, v.data));
    } else if (t.type === 8 && opts.audio) {
      const a = parseAudioTag(t.data);
      if (a.type === 'config') m.setAudioConfig(a.config);
      else if (a.type === 'frame') parts.push(m.writeAudio(ts, a.data));
    }
  }
  return { ts: Buffer.concat(parts), muxer: m };
}

interface Probe {
  streams: { codec_name: string; codec_type: string; width?: number; height?: number; sample_rate?: string; channels?: number }[];
  packets: { codec_type: string; pts: number; dts: number; flags: string }[];
}

function probe(ts: Buffer, name: string): Probe {
  const file = path.join(dir, name);
  writeFileSync(file, ts);
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_streams', '-show_packets', '-of', 'json', file], { maxBuffer: 1 << 27 });
  assert.equal(r.status, 0);
  assert.equal(r.stderr.toString(), '', 'ffprobe reports no errors');
  const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(dec.status, 0);
  assert.equal(dec.stderr.toString(), '', 'ffmpeg decodes without errors');
  return JSON.parse(r.stdout.toString()) as Probe;
}

interface Pes {
  pid: number;
  index: number;
  pts: number;
  dts: number;
  rai: boolean;
  payload: Buffer;
  declaredLength: number;
}

/** Packet-level analysis: asserts syntax and continuity, returns PES, PCRs and PSI positions. */
function analyze(ts: Buffer) {
  assert.equal(ts.length % 188, 0);
  const cc = new Map<number, number>();
  const pes: Pes[] = [];
  const open = new Map<number, { pes: Pes; parts: Buffer[] }>();
  const pcrs: { index: number; base: number; pid: number }[] = [];
  const pat: number[] = [];
  const pmt: number[] = [];
  let pmtPid = -1;
  const streamTypes = new Map<number, number>();
  const n = ts.length / 188;
  const flush = (pid: number) => {
    const o = open.get(pid);
    if (!o) return;
    o.pes.payload = Buffer.concat(o.parts);
    pes.push(o.pes);
    open.delete(pid);
  };
  const readTs = (b: Buffer, p: number) =>
    ((b[p]! >> 1) & 7) * 2 ** 30 + (b[p + 1]! << 22) + ((b[p + 2]! >> 1) << 15) + (b[p + 3]! << 7) + (b[p + 4]! >> 1);
  for (let i = 0; i < n; i++) {
    const p = i * 188;
    assert.equal(ts[p], 0x47, `sync byte of packet ${i}`);
    const pusi = (ts[p + 1]! & 0x40) !== 0;
    const pid = ((ts[p + 1]! & 0x1f) << 8) | ts[p + 2]!;
    const afc = (ts[p + 3]! >> 4) & 3;
    const c = ts[p + 3]! & 0x0f;
    assert.ok(afc !== 0, 'adaptation_field_control 00 is reserved');
    let q = p + 4;
    let rai = false;
    if (afc & 2) {
      const len = ts[q]!;
      assert.ok(len <= 183, 'adaptation field length');
      if (afc === 3) assert.ok(len <= 182, 'payload packets keep at least one payload byte');
      if (len > 0) {
        const flags = ts[q + 1]!;
        rai = (flags & 0x40) !== 0;
        if (flags & 0x10) {
          const base = ts[q + 2]! * 2 ** 25 + (ts[q + 3]! << 17) + (ts[q + 4]! << 9) + (ts[q + 5]! << 1) + (ts[q + 6]! >> 7);
          pcrs.push({ index: i, base, pid });
        }
        // stuffing after the fields must be 0xFF
        const used = 1 + (flags & 0x10 ? 6 : 0);
        for (let k = q + 1 + used; k < q + 1 + len; k++) assert.equal(ts[k], 0xff, `stuffing byte in packet ${i}`);
      }
      q += 1 + len;
    }
    const prev = cc.get(pid);
    if (afc & 1) {
      if (prev !== undefined) assert.equal(c, (prev + 1) & 15, `continuity counter of PID ${pid} at packet ${i}`);
      cc.set(pid, c);
    } else if (prev !== undefined) {
      assert.equal(c, prev, 'adaptation-only packets repeat the counter');
    }
    if (!(afc & 1)) continue;
    const payload = ts.subarray(q, p + 188);
    if (pid === 0) {
      assert.ok(pusi);
      pat.push(i);
      pmtPid = ((payload[11]! & 0x1f) << 8) | payload[12]!;
    } else if (pid === pmtPid) {
      pmt.push(i);
      const sec = payload.subarray(1);
      const secLen = ((sec[1]! & 0x0f) << 8) | sec[2]!;
      const infoLen = ((sec[10]! & 0x0f) << 8) | sec[11]!;
      for (let k = 12 + infoLen; k < 3 + secLen - 4; ) {
        streamTypes.set(((sec[k + 1]! & 0x1f) << 8) | sec[k + 2]!, sec[k]!);
        k += 5 + (((sec[k + 3]! & 0x0f) << 8) | sec[k + 4]!);
      }
    } else if (streamTypes.has(pid)) {
      if (pusi) {
        flush(pid);
        assert.deepEqual([...payload.subarray(0, 3)], [0, 0, 1], 'PES start code');
        const flags = payload[7]!;
        const pts = flags & 0x80 ? readTs(payload, 9) : -1;
        const dts = flags & 0x40 ? readTs(payload, 14) : pts;
        const hdr = 9 + payload[8]!;
        open.set(pid, {
          pes: { pid, index: i, pts, dts, rai, payload: Buffer.alloc(0), declaredLength: payload.readUInt16BE(4) },
          parts: [payload.subarray(hdr)],
        });
        // keep the header length for the PES_packet_length check
        (open.get(pid)!.pes as Pes & { hdr?: number }).hdr = hdr;
      } else {
        assert.ok(open.has(pid), 'payload continues a PES');
        open.get(pid)!.parts.push(payload);
      }
    }
  }
  for (const pid of [...open.keys()]) flush(pid);
  for (const e of pes) {
    if (e.declaredLength !== 0) {
      const hdr = (e as Pes & { hdr?: number }).hdr!;
      assert.equal(e.declaredLength, hdr - 6 + e.payload.length, 'PES_packet_length matches the data');
    }
  }
  return { pes, pcrs, pat, pmt, streamTypes, packets: n };
}

const MS = 90;

/** Spacing checks shared by the tests. */
function checkTiming(a: ReturnType<typeof analyze>, videoPid: number | undefined, opts: { psiMs: number; pcrMs: number }) {
  // PCR: non-decreasing, ≤ pcrMs apart, always before the DTS of what follows it
  for (let k = 1; k < a.pcrs.length; k++) {
    const d = a.pcrs[k]!.base - a.pcrs[k - 1]!.base;
    assert.ok(d >= 0, 'PCR never decreases');
    assert.ok(d <= opts.pcrMs * MS, `PCR gap ${d / MS} ms at packet ${a.pcrs[k]!.index}`);
  }
  let lastPcr = -1;
  let pi = 0;
  for (const e of a.pes) {
    while (pi < a.pcrs.length && a.pcrs[pi]!.index <= e.index) lastPcr = a.pcrs[pi++]!.base;
    assert.ok(lastPcr >= 0, 'a PCR precedes every PES');
    assert.ok(e.dts >= lastPcr, 'PCR runs behind DTS');
  }
  // PAT/PMT: before every keyframe, and no two PES starts more than psiMs after the last PSI
  let lastPsiTime = -1;
  let psiSinceLast = false;
  let prevIndex = -1;
  let patIdx = 0;
  for (const e of a.pes) {
    while (patIdx < a.pat.length && a.pat[patIdx]! < e.index && a.pat[patIdx]! > prevIndex) {
      psiSinceLast = true;
      patIdx++;
    }
    if (psiSinceLast) {
      if (lastPsiTime >= 0) assert.ok(e.dts - lastPsiTime <= opts.psiMs * MS, `PSI gap ${(e.dts - lastPsiTime) / MS} ms`);
      lastPsiTime = e.dts;
      psiSinceLast = false;
    }
    if (e.pid === videoPid && e.rai) {
      assert.ok(a.pat.includes(e.index - 2) && a.pmt.includes(e.index - 1), 'PAT+PMT right before a keyframe');
    }
    prevIndex = e.index;
  }
}

const tags25 = makeFlv(25, 2);

test('H.264 with B-frames + AAC: ffprobe sees h264 320x240 and aac, monotonic timestamps, no errors', () => {
  const { ts, muxer } = mux(tags25, { video: { codec: 'h264' }, audio: { codec: 'aac' } });
  const info = probe(ts, 'h264-aac.ts');
  const v = info.streams.find((s) => s.codec_type === 'video')!;
  const au = info.streams.find((s) => s.codec_type === 'audio')!;
  assert.deepEqual([v.codec_name, v.width, v.height], ['h264', 320, 240]);
  assert.deepEqual([au.codec_name, au.sample_rate, au.channels], ['aac', '44100', 2]);
  const vp = info.packets.filter((p) => p.codec_type === 'video');
  const ap = info.packets.filter((p) => p.codec_type === 'audio');
  assert.equal(vp.length, muxer.stats.videoFrames);
  assert.equal(vp.length, 50);
  assert.equal(ap.length, muxer.stats.audioFrames);
  for (let i = 1; i < vp.length; i++) assert.ok(vp[i]!.dts > vp[i - 1]!.dts, 'video DTS increases');
  for (let i = 1; i < ap.length; i++) assert.ok(ap[i]!.pts > ap[i - 1]!.pts, 'audio PTS increases');
  assert.ok(vp.every((p) => p.pts >= p.dts));
  assert.ok(vp.some((p) => p.pts > p.dts), 'B-frames keep their composition offset');
  assert.equal(vp.filter((p) => p.flags.startsWith('K')).length, 2);
  // the stream starts with the keyframe at DTS = offset (700 ms)
  assert.equal(vp[0]!.dts, 700 * MS);
  assert.ok(vp[0]!.flags.startsWith('K'));

  const a = analyze(ts);
  assert.deepEqual([...a.streamTypes.entries()], [[0x100, 0x1b], [0x101, 0x0f]]);
  assert.equal(a.pat[0], 0);
  checkTiming(a, 0x100, { psiMs: 100, pcrMs: 40 });
  const video = a.pes.filter((e) => e.pid === 0x100);
  for (const e of video) assert.deepEqual([...e.payload.subarray(0, 6)], [0, 0, 0, 1, 9, 0xf0], 'AUD first');
  const key = video.filter((e) => e.rai);
  assert.equal(key.length, 2);
  for (const e of key) assert.deepEqual([...e.payload.subarray(6, 11)], [0, 0, 0, 1, 0x67], 'SPS after the AUD on keyframes');
  for (const e of a.pes.filter((x) => x.pid === 0x101)) assert.equal(e.payload.readUInt16BE(0) & 0xfff6, 0xfff0, 'ADTS');

  // the project's own demuxer (what the HLS segmenter reads) agrees, in odd-sized pieces
  const d = new TsDemuxer();
  for (let i = 0; i < ts.length; i += 1000) d.push(ts.subarray(i, i + 1000));
  const st = d.stats;
  assert.deepEqual(
    [st.ccErrors, st.crcErrors, st.formatErrors, st.syncLosses, st.droppedBytes, st.ptsJumps, st.pcrJumps],
    [0, 0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual([st.videoFrames, st.keyframes, st.audioFrames], [50, 2, muxer.stats.audioFrames]);
});

test('32-bit millisecond wrap: timestamps stay continuous across 2^32 ms', () => {
  const shift = 2 ** 32 - 1000; // wraps one second in
  const { ts } = mux(tags25, { video: { codec: 'h264' }, audio: { codec: 'aac' } }, shift);
  const a = analyze(ts);
  const video = a.pes.filter((e) => e.pid === 0x100);
  for (let i = 1; i < video.length; i++) {
    const d = (video[i]!.dts - video[i - 1]!.dts + 2 ** 33) % 2 ** 33;
    assert.equal(d, 40 * MS, `DTS step at frame ${i}`);
  }
  const audio = a.pes.filter((e) => e.pid === 0x101);
  for (let i = 1; i < audio.length; i++) {
    const d = (audio[i]!.pts - audio[i - 1]!.pts + 2 ** 33) % 2 ** 33;
    assert.ok(d > 0 && d <= 24 * MS, `audio PTS step ${d / MS} ms`);
  }
  probe(ts, 'wrap.ts'); // decodes without errors
});

test('low frame rate video: PCR-only packets keep PCR within 40 ms', () => {
  // ffmpeg's FLV has no audio between the first two frames at 5 fps: start at the second keyframe
  const tags = makeFlv(5, 3).filter((t) => t.timestamp >= 1000 || t.data[1] === 0);
  const { ts } = mux(tags, { video: { codec: 'h264' }, audio: { codec: 'aac' } });
  const a = analyze(ts);
  checkTiming(a, 0x100, { psiMs: 100, pcrMs: 40 });
  assert.ok(a.pcrs.length > a.pes.filter((e) => e.pid === 0x100).length * 3, 'extra PCRs between frames');
  const info = probe(ts, 'lowfps.ts');
  assert.equal(info.packets.filter((p) => p.codec_type === 'video').length, 10);
});

test('audio-only AAC and MP3 pass-through: PCR on the audio PID', () => {
  const aac = mux(tags25, { audio: { codec: 'aac' } });
  const a = analyze(aac.ts);
  assert.deepEqual([...a.streamTypes.entries()], [[0x101, 0x0f]]);
  assert.ok(a.pcrs.length > 0 && a.pcrs.every((p) => p.pid === 0x101));
  checkTiming(a, undefined, { psiMs: 100, pcrMs: 40 });
  assert.deepEqual(probe(aac.ts, 'aac.ts').streams.map((s) => s.codec_name), ['aac']);

  const mp3flv = parseFlvFile(
    ffmpegOut(['-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '1', '-c:a', 'libmp3lame', '-f', 'flv']),
  );
  const mp3 = mux(mp3flv.tags, { audio: { codec: 'mp3' } });
  const info = probe(mp3.ts, 'mp3.ts');
  assert.deepEqual(info.streams.map((s) => s.codec_name), ['mp3']);
  assert.ok(info.packets.length >= 35);
});

test('H.265: HVCC access units become Annex B with VPS/SPS/PPS before keyframes', () => {
  const annexb = ffmpegOut([
    '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '1', '-c:v', 'libx265',
    '-x265-params', 'bframes=0:keyint=10:min-keyint=10:scenecut=0:log-level=error', '-f', 'hevc',
  ]);
  // split on start codes, group NAL units into access units
  const nals: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 3 <= annexb.length; i++) {
    if (annexb[i] === 0 && annexb[i + 1] === 0 && annexb[i + 2] === 1) {
      if (start >= 0) nals.push(annexb.subarray(start, annexb[i - 1] === 0 ? i - 1 : i));
      start = i + 3;
      i += 2;
    }
  }
  nals.push(annexb.subarray(start));
  const aus: Buffer[][] = [];
  const params: Buffer[] = [];
  let cur: Buffer[] = [];
  let hasVcl = false;
  for (const nal of nals) {
    const type = (nal[0]! >> 1) & 0x3f;
    const vcl = type < 32;
    if (hasVcl && ((vcl && (nal[2]! & 0x80) !== 0) || (!vcl && type >= 32 && type <= 39))) {
      aus.push(cur);
      cur = [];
      hasVcl = false;
    }
    if (type >= 32 && type <= 34) {
      if (params.length < 3) params.push(nal);
      continue; // out of band, the muxer must put them back
    }
    if (type === 35) continue;
    cur.push(nal);
    if (vcl) hasVcl = true;
  }
  if (cur.length) aus.push(cur);
  assert.equal(aus.length, 25);
  const m = new TsMuxer({ video: { codec: 'h265', parameterSets: params, nalLengthSize: 4 } });
  const parts: Buffer[] = [];
  aus.forEach((au, i) => {
    const key = au.some((n) => {
      const t = (n[0]! >> 1) & 0x3f;
      return t >= 16 && t <= 23;
    });
    const avcc = Buffer.concat(au.flatMap((n) => [Buffer.from([0, 0, (n.length >> 8) & 0xff, n.length & 0xff]), n]));
    parts.push(m.writeVideo(i * 40, 0, key, avcc));
  });
  const ts = Buffer.concat(parts);
  const a = analyze(ts);
  assert.deepEqual([...a.streamTypes.entries()], [[0x100, 0x24]]);
  const keys = a.pes.filter((e) => e.rai);
  assert.equal(keys.length, 3);
  for (const e of keys) {
    assert.deepEqual([...e.payload.subarray(0, 7)], [0, 0, 0, 1, 0x46, 0x01, 0x50], 'HEVC AUD');
    assert.equal((e.payload[11]! >> 1) & 0x3f, 32, 'VPS after the AUD');
  }
  checkTiming(a, 0x100, { psiMs: 100, pcrMs: 40 });
  const info = probe(ts, 'hevc.ts');
  assert.deepEqual([info.streams[0]!.codec_name, info.streams[0]!.width, info.streams[0]!.height], ['hevc', 320, 240]);
  assert.equal(info.packets.length, 25);
});

test('bad frames never throw and produce whole packets or nothing', () => {
  const m = new TsMuxer({ video: { codec: 'h264' }, audio: { codec: 'aac' } });
  assert.equal(m.writeVideo(0, 0, false, Buffer.from([0, 0, 0, 5, 0x41])).length, 0, 'no keyframe yet');
  assert.equal(m.writeAudio(0, Buffer.from([1, 2, 3])).length, 0, 'audio waits for the first keyframe');
  // NAL length running past the end: cut to what is there
  const out = m.writeVideo(0, 0, true, Buffer.from([0, 0, 0, 200, 0x65, 1, 2, 3]));
  assert.equal(out.length % 188, 0);
  assert.ok(out.length >= 3 * 188);
  assert.equal(m.writeAudio(10, Buffer.from([1, 2, 3])).length, 0, 'AAC without config is dropped');
  assert.equal(m.setAudioConfig(Buffer.from([0x12])), false);
  assert.equal(m.setAudioConfig(Buffer.from([0x12, 0x10])), true);
  assert.equal(m.writeAudio(20, Buffer.from([1, 2, 3])).length % 188, 0);
  assert.equal(m.writeVideo(40, 0, false, Buffer.alloc(0)).length, 0);
  let seed = 5;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(i % 300);
    for (let k = 0; k < b.length; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      b[k] = seed >>> 24;
    }
    assert.equal(m.writeVideo(40 + i * 40, i % 7, i % 10 === 0, b).length % 188, 0);
    assert.equal(m.writeAudio(40 + i * 23, b).length % 188, 0);
  }
  assert.ok(m.stats.dropped > 0);
});
