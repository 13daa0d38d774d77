import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PKT_NULL, PKT_PSI, TsDemuxer, type TsDemuxListener, type TsTrack } from '../../../src/media/ts/demuxer.js';
import { buildPatSection, buildPmtSection, packetizeSection, parsePmt } from '../../../src/media/ts/psi.js';
import { PTS_WRAP, TimestampUnwrapper } from '../../../src/media/ts/timestamp.js';
import type { MediaInfo } from '../../../src/media/ts/types.js';
import {
  ccOf,
  ffmpegFixture,
  ffprobeJson,
  h264Fixture,
  isPusi,
  packetsOf,
  pesBytes,
  pesToPackets,
  pidOf,
  rng,
  segmentAll,
  tsPacket,
} from './_helpers.js';

interface PesEvent {
  pid: number;
  pts: number;
  dts: number;
  keyframe: boolean;
  jump: boolean;
}

function demuxAll(input: Buffer, nextSize?: () => number, extra: Partial<TsDemuxListener> = {}) {
  const events: PesEvent[] = [];
  let programs = 0;
  const d = new TsDemuxer({
    pesReady(t: TsTrack) {
      events.push({ pid: t.pid, pts: t.pts, dts: t.dts, keyframe: t.keyframe, jump: t.jump });
    },
    program() {
      programs++;
    },
    ...extra,
  });
  if (nextSize === undefined) d.push(input);
  else {
    for (let o = 0; o < input.length; ) {
      const n = Math.max(1, nextSize());
      d.push(input.subarray(o, o + n));
      o += n;
    }
  }
  d.flush();
  return { d, events, programs: () => programs };
}

function psiPackets(): Buffer[] {
  const pat = packetizeSection(buildPatSection([{ programNumber: 1, pid: 0x1000 }]), 0, 0);
  const pmt = packetizeSection(buildPmtSection(1, 0x100, [{ streamType: 0x1b, pid: 0x100 }]), 0x1000, 0);
  return [pat, pmt];
}

// SPS: Baseline (constraint_set0/1), level 3.0, 320x240, no VUI.
const IDR_AU = Uint8Array.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x05, 0x07, 0xe4, 0, 0, 1, 0x68, 0xce, 0x38, 0x80, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33]);
const P_AU = Uint8Array.from([0, 0, 0, 1, 0x09, 0x30, 0, 0, 0, 1, 0x41, 0x9a, 0x02, 0x03]);

describe('TsDemuxer on a real ffmpeg H.264/AAC stream', () => {
  it('finds PAT/PMT, PIDs, codecs, resolution and counts frames like ffprobe', () => {
    const fx = h264Fixture();
    const { d, events } = demuxAll(fx.data);
    const mi: MediaInfo = d.mediaInfo;
    const probe = ffprobeJson(fx.path, ['-show_streams', '-show_programs', '-count_packets']);
    assert.equal(mi.programNumber, probe.programs[0].program_id);
    assert.equal(mi.pmtPid, probe.programs[0].pmt_pid);
    assert.equal(mi.pcrPid, probe.programs[0].pcr_pid);
    assert.deepEqual(
      mi.tracks.map((t) => [t.pid, t.streamType, t.kind, t.codec]),
      [
        [Number(probe.streams[0].id), 0x1b, 'video', 'h264'],
        [Number(probe.streams[1].id), 0x0f, 'audio', 'aac'],
      ],
    );
    assert.match(mi.codecs ?? '', /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    assert.equal(mi.tracks[0]!.level, probe.streams[0].level);
    assert.equal(mi.width, 320);
    assert.equal(mi.height, 180);
    assert.equal(mi.fps, 25);
    assert.equal(mi.sampleRate, 48000);
    assert.equal(mi.channels, 1);
    const st = d.stats;
    assert.equal(st.bytes, fx.data.length);
    assert.equal(st.packets * 188, fx.data.length);
    assert.equal(st.ccErrors + st.syncLosses + st.droppedBytes + st.crcErrors + st.formatErrors + st.ptsJumps + st.pcrJumps, 0);
    assert.equal(st.videoFrames, Number(probe.streams[0].nb_read_packets));
    assert.equal(st.keyframes, 6);
    assert.equal(st.pmtUpdates, 1);
    // Video PTS/DTS match ffprobe's packet list (ffprobe prints the raw 90 kHz values here: no wrap).
    const pk = ffprobeJson(fx.path, ['-show_entries', 'packet=pts,dts,flags', '-select_streams', 'v:0']).packets;
    const video = events.filter((e) => e.pid === 256);
    assert.deepEqual(
      video.map((e) => [e.pts, Number.isNaN(e.dts) ? e.pts : e.dts, e.keyframe]),
      pk.map((p: any) => [p.pts, p.dts, p.flags.startsWith('K')]),
    );
  });

  it('gives the same result for any chunking (1 byte, 187, 189, random 1..4000)', () => {
    const input = h264Fixture().data;
    const ref = demuxAll(input);
    const r = rng(7);
    for (const next of [() => 1, () => 187, () => 189, () => 1 + Math.floor(r() * 4000)]) {
      const got = demuxAll(input, next);
      assert.deepEqual(got.events, ref.events);
      assert.deepEqual(got.d.stats, ref.d.stats);
      assert.deepEqual(got.d.mediaInfo, ref.d.mediaInfo);
    }
  });

  it('unwraps PTS/DTS/PCR across the 33-bit wrap into monotonic numbers', () => {
    // prettier-ignore
    const fx = ffmpegFixture('wrap.ts', [
      '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '6',
      '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac',
      '-output_ts_offset', '95440', '-f', 'mpegts',
    ]);
    const { d, events } = demuxAll(fx.data);
    const video = events.filter((e) => e.pid === 256); // no B-frames: PTS only
    assert.equal(video.length, 150);
    assert.ok(video[0]!.pts < PTS_WRAP && video[video.length - 1]!.pts > PTS_WRAP, 'the stream crosses the wrap');
    for (let k = 1; k < video.length; k++) assert.equal(video[k]!.pts - video[k - 1]!.pts, 3600);
    const audio = events.filter((e) => e.pid === 257);
    for (let k = 1; k < audio.length; k++) assert.ok(audio[k]!.pts > audio[k - 1]!.pts);
    assert.equal(d.stats.ptsJumps, 0);
    assert.equal(d.stats.pcrJumps, 0);
    assert.ok(d.stats.lastPcr > PTS_WRAP);
    // The segmenter keeps exact durations across the wrap.
    const { segments } = segmentAll(fx.data, { targetDurationMs: 2000 });
    assert.deepEqual(
      segments.map((s) => s.close!.durationMs),
      [2000, 2000, 2000],
    );
    assert.deepEqual(
      segments.map((s) => s.open.startPts - segments[0]!.open.startPts),
      [0, 180000, 360000],
    );
  });

  it('TimestampUnwrapper picks the nearest representative both ways', () => {
    const u = new TimestampUnwrapper();
    assert.equal(u.unwrap(PTS_WRAP - 10), PTS_WRAP - 10);
    assert.equal(u.unwrap(5), PTS_WRAP + 5);
    assert.equal(u.unwrap(PTS_WRAP - 20), PTS_WRAP - 20);
    assert.equal(u.unwrap(100), PTS_WRAP + 100);
    u.reset();
    assert.equal(u.unwrap(100), 100);
  });
});

describe('TsDemuxer continuity counters', () => {
  it('counts one error per dropped packet, ignores one duplicate and adaptation-only packets', () => {
    const pkts = packetsOf(h264Fixture().data);
    const out: Buffer[] = [];
    let dropped = 0;
    let dups = 0;
    let videoSeen = 0;
    for (const p of pkts) {
      if (pidOf(p) === 256) {
        videoSeen++;
        if (videoSeen % 97 === 50) {
          dropped++;
          continue; // lose this packet
        }
        out.push(p);
        if (videoSeen % 131 === 7) {
          out.push(p); // a duplicate (allowed once)
          dups++;
        }
        if (videoSeen % 113 === 3) {
          // adaptation-field-only packets: with the same CC (as the standard says) and with a bumped one
          out.push(tsPacket({ pid: 256, cc: ccOf(p), afOnly: true }));
          out.push(tsPacket({ pid: 256, cc: ccOf(p) + 5, afOnly: true }));
        }
      } else {
        out.push(p);
      }
    }
    assert.ok(dropped >= 3 && dups >= 3);
    const { d } = demuxAll(Buffer.concat(out));
    assert.equal(d.stats.ccErrors, dropped);
    assert.equal(d.stats.lostPackets, dropped, 'one packet lost per gap');
    assert.equal(d.stats.duplicatePackets, dups);
  });

  it('estimates lost packets from the size of each CC gap (mod 16); a second repeat reads as 15', () => {
    const pkts = packetsOf(h264Fixture().data);
    const out: Buffer[] = [];
    let videoSeen = 0;
    for (const p of pkts) {
      if (pidOf(p) !== 256) {
        out.push(p);
        continue;
      }
      videoSeen++;
      if (videoSeen >= 100 && videoSeen < 103) continue; // 3 in a row
      if (videoSeen >= 200 && videoSeen < 207) continue; // 7 in a row
      if (videoSeen >= 300 && videoSeen < 320) continue; // 20 in a row: 20 mod 16 = 4
      out.push(p);
      if (videoSeen === 400) out.push(p, p); // a duplicate (allowed) and a second repeat (an error)
    }
    const { d } = demuxAll(Buffer.concat(out));
    assert.equal(d.stats.ccErrors, 4);
    assert.equal(d.stats.lostPackets, 3 + 7 + 4 + 15);
    assert.equal(d.stats.duplicatePackets, 1);
  });

  it('honours the discontinuity indicator and null packets', () => {
    const [pat, pmt] = psiPackets();
    const a = pesToPackets(0x100, pesBytes(0xe0, IDR_AU, 1000, 1000), 0).packets;
    const b = pesToPackets(0x100, pesBytes(0xe0, P_AU, 4600, 4600), 9).packets; // CC jumps 1 -> 9
    const c = [tsPacket({ pid: 0x100, cc: 3, pusi: true, discontinuity: true, payload: pesBytes(0xe0, P_AU, 8200, 8200) })];
    const nul = tsPacket({ pid: 0x1fff, cc: 0, payload: new Uint8Array(184) });
    const flags: number[] = [];
    const { d, events } = demuxAll(Buffer.concat([pat!, pmt!, ...a, nul, ...b, ...c, nul]), undefined, {
      packet(_b, _o, _pid, f) {
        flags.push(f);
      },
    });
    assert.equal(d.stats.ccErrors, 1);
    assert.equal(d.stats.nullPackets, 2);
    assert.equal(flags.filter((f) => f & PKT_NULL).length, 2);
    assert.equal(flags.filter((f) => f & PKT_PSI).length, 2);
    assert.deepEqual(
      events.map((e) => [e.pts, e.keyframe]),
      [
        [1000, true],
        [4600, false],
        [8200, false],
      ],
    );
  });
});

describe('TsDemuxer PSI', () => {
  it('follows a PMT version change (tracks removed) and reports it', () => {
    const fx = h264Fixture();
    const pkts = packetsOf(fx.data);
    const half = Math.floor(pkts.length / 2);
    const v1 = buildPmtSection(1, 256, [{ streamType: 0x1b, pid: 256 }], 1);
    const out = pkts.map((p, k) => (k > half && pidOf(p) === 0x1000 ? packetizeSection(v1, 0x1000, ccOf(p)) : p));
    const infos: number[] = [];
    const { d } = demuxAll(Buffer.concat(out), undefined, {
      program(mi: MediaInfo) {
        infos.push(mi.tracks.length);
      },
    });
    assert.deepEqual(infos, [2, 1]);
    assert.equal(d.stats.pmtUpdates, 2);
    assert.equal(d.mediaInfo.pmtVersion, 1);
    assert.deepEqual(
      d.mediaInfo.tracks.map((t) => t.pid),
      [256],
    );
    assert.equal(d.mediaInfo.codecs?.includes('mp4a'), false);
    const pmt = parsePmt(d.pmtSection!, 0, d.pmtSection!.length)!;
    assert.equal(pmt.version, 1);
    // The segmenter injects the new PMT into segments cut after the change.
    const { segments } = segmentAll(Buffer.concat(out), { targetDurationMs: 2000 });
    const last = segments[segments.length - 1]!.data;
    const injected = last.subarray(188, 376);
    assert.equal(pidOf(injected), 0x1000);
    const sec = parsePmt(injected, 5, injected.readUInt16BE(6) - 0xb000 + 3)!;
    assert.equal(sec.version, 1);
    assert.equal(sec.streams.length, 1);
  });

  it('rejects PSI with a bad CRC and parses a PMT spanning several packets', () => {
    const pat = buildPatSection([{ programNumber: 7, pid: 0x20 }]);
    const bad = Buffer.from(pat);
    bad[9] ^= 0x01;
    const lang = Uint8Array.from([0x0a, 4, 0x65, 0x6e, 0x67, 0]);
    const streams = [{ streamType: 0x1b, pid: 0x100 }];
    for (let k = 0; k < 60; k++) streams.push({ streamType: 0x06, pid: 0x200 + k, descriptors: k === 0 ? Uint8Array.from([0x6a, 1, 0, ...lang]) : lang } as never);
    const pmt = buildPmtSection(7, 0x100, streams, 3);
    assert.ok(pmt.length > 184 * 2);
    const input = Buffer.concat([packetizeSection(bad, 0, 0), packetizeSection(pat, 0, 1), packetizeSection(pmt, 0x20, 0)]);
    const r = rng(3);
    const { d } = demuxAll(input, () => 1 + Math.floor(r() * 300));
    assert.equal(d.stats.crcErrors, 1);
    assert.equal(d.mediaInfo.programNumber, 7);
    assert.equal(d.mediaInfo.pmtVersion, 3);
    assert.equal(d.mediaInfo.tracks.length, 61);
    assert.equal(d.mediaInfo.tracks[1]!.codec, 'ac3');
    assert.equal(d.mediaInfo.tracks[1]!.codecString, 'ac-3');
    assert.equal(d.mediaInfo.tracks[2]!.language, 'eng');
    assert.equal(d.mediaInfo.tracks[2]!.kind, 'data');
  });

  it('recognises MP2, AC-3 and E-AC-3 tracks (ATSC stream types and DVB descriptors)', () => {
    for (const systemB of [false, true]) {
      // prettier-ignore
      const fx = ffmpegFixture(`audio3-${systemB}.ts`, [
        '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
        '-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '1',
        '-map', '0:a', '-map', '1:a', '-map', '2:a', '-c:a:0', 'ac3', '-ac:a:0', '6', '-c:a:1', 'eac3', '-ac:a:1', '2', '-c:a:2', 'mp2', '-ac:a:2', '2',
        ...(systemB ? ['-mpegts_flags', 'system_b'] : []), '-f', 'mpegts',
      ]);
      const { d } = demuxAll(fx.data);
      const t = d.mediaInfo.tracks;
      assert.deepEqual(
        t.map((x) => [x.streamType, x.kind, x.codec, x.codecString, x.sampleRate, x.channels]),
        [
          [systemB ? 0x06 : 0x81, 'audio', 'ac3', 'ac-3', 48000, 6],
          [systemB ? 0x06 : 0x87, 'audio', 'eac3', 'ec-3', 48000, 2],
          [0x03, 'audio', 'mp2', 'mp4a.40.33', 44100, 2],
        ],
        `system_b=${systemB}`,
      );
      assert.equal(d.mediaInfo.codecs, 'ac-3,ec-3,mp4a.40.33');
    }
  });
});

describe('TsDemuxer framing and PES', () => {
  it('resyncs after a garbage prefix and after garbage in the middle', () => {
    const input = h264Fixture().data;
    const r = rng(11);
    const garbage = Buffer.alloc(1000);
    for (let k = 0; k < garbage.length; k++) garbage[k] = k % 50 === 0 ? 0x47 : Math.floor(r() * 256);
    // 0x47 every 50 bytes: never three of them 188 bytes apart, so no false lock.
    const mid = 188 * 300;
    const mixed = Buffer.concat([garbage, input.subarray(0, mid), garbage.subarray(1, 78), input.subarray(mid)]);
    const ref = demuxAll(input);
    const got = demuxAll(mixed, () => 1 + Math.floor(r() * 4000));
    assert.equal(got.d.stats.droppedBytes, 1077);
    assert.equal(got.d.stats.syncLosses, 1);
    assert.equal(got.d.stats.packets, ref.d.stats.packets);
    assert.equal(got.d.stats.ccErrors, 0);
    assert.deepEqual(got.events, ref.events);
    // The segmenter output is byte-identical to the clean input's.
    const a = segmentAll(input).segments;
    const b = segmentAll(mixed).segments;
    assert.equal(b.length, a.length);
    for (let k = 0; k < a.length; k++) assert.ok(a[k]!.data.equals(b[k]!.data), `segment ${k}`);
  });

  it('parses a PES header split across packets and a NAL header split across packets', () => {
    const [pat, pmt] = psiPackets();
    const pes1 = pesBytes(0xe0, IDR_AU, 900000, 896400);
    const p1 = pesToPackets(0x100, pes1, 0, { firstPayload: 4 }); // header continues in the next packet
    // Second PES: the IDR NAL header is the first byte of the second packet.
    const au2 = Buffer.concat([Buffer.from([0, 0, 0, 1, 0x09, 0xf0]), Buffer.alloc(150, 0x11), Buffer.from([0, 0, 1]), Buffer.from([0x65, 0x88, 0x80])]);
    const pes2 = pesBytes(0xe0, au2, 903600, 900000);
    const cut = pes2.length - 3;
    const p2 = pesToPackets(0x100, pes2, p1.cc, { firstPayload: cut });
    const p3 = pesToPackets(0x100, pesBytes(0xe0, P_AU, 907200, 903600), p2.cc);
    const { events, d } = demuxAll(Buffer.concat([pat!, pmt!, ...p1.packets, ...p2.packets, ...p3.packets]));
    assert.deepEqual(
      events.map((e) => [e.pts, e.dts, e.keyframe]),
      [
        [900000, 896400, true],
        [903600, 900000, true],
        [907200, 903600, false],
      ],
    );
    assert.equal(d.stats.formatErrors, 0);
    assert.equal(d.mediaInfo.tracks[0]!.codecString, 'avc1.42c01e');
    assert.equal(d.mediaInfo.width, 320);
    assert.equal(d.mediaInfo.height, 240);
  });

  it('reassembles whole PES payloads when asked', () => {
    const input = h264Fixture().data;
    const sizes = new Map<number, number[]>();
    let keyframes = 0;
    const d = new TsDemuxer({
      pes(t, payload) {
        if (!sizes.has(t.pid)) sizes.set(t.pid, []);
        sizes.get(t.pid)!.push(payload.length);
        if (t.pid === 256) {
          assert.equal(payload.readUInt32BE(0), 1, 'video PES starts with a start code');
          if (t.keyframe) keyframes++;
        } else {
          assert.equal(payload[0], 0xff, 'audio PES starts with ADTS');
        }
      },
    });
    d.push(input);
    d.flush();
    assert.equal(sizes.get(256)!.length, 150);
    assert.equal(keyframes, 6);
    // The sum of the PES payloads is every TS payload byte of the PID minus the PES headers.
    let payload = 0;
    let headers = 0;
    for (const p of packetsOf(input)) {
      if (pidOf(p) !== 257) continue;
      let o = 4;
      if (p[3]! & 0x20) o += 1 + p[4]!;
      payload += 188 - o;
      if (isPusi(p)) headers += 9 + p[o + 8]!;
    }
    assert.equal(
      sizes.get(257)!.reduce((a, b) => a + b, 0),
      payload - headers,
    );
  });
});
