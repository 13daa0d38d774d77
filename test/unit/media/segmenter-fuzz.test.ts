/**
 * Robustness: thousands of random, truncated, bit-flipped and shuffled inputs into the Segmenter (and the
 * codec parsers) must never throw, never hang, and keep the sink protocol (open → data → close).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAdtsHeader } from '../../../src/media/codec/aac.js';
import { splitAnnexB } from '../../../src/media/codec/annexb.js';
import { parseAc3Header, parseMpegAudioHeader } from '../../../src/media/codec/audio.js';
import { parseH264Sps } from '../../../src/media/codec/h264.js';
import { parseH265Sps, parseH265Vps } from '../../../src/media/codec/h265.js';
import { Segmenter } from '../../../src/media/hls/segmenter.js';
import { crc32Mpeg2 } from '../../../src/media/ts/crc32.js';
import { TsDemuxer } from '../../../src/media/ts/demuxer.js';
import { buildPatSection, packetizeSection } from '../../../src/media/ts/psi.js';
import { captureSink, h264Fixture, rng } from './_helpers.js';

type Rand = () => number;

function int(r: Rand, n: number): number {
  return Math.floor(r() * n);
}

function randomBytes(r: Rand, n: number, syncDensity = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let k = 0; k < n; k++) b[k] = syncDensity > 0 && r() < syncDensity ? 0x47 : int(r, 256);
  return b;
}

/** A section with a random body but a valid CRC, so that PAT/PMT parsers see it. */
function randomSection(r: Rand, tableId: number): Buffer {
  const len = 12 + int(r, 180);
  const s = randomBytes(r, len);
  s[0] = tableId;
  s[1] = 0xb0 | (((len - 3) >> 8) & 0x0f);
  s[2] = (len - 3) & 0xff;
  s[5] |= 1; // current_next_indicator
  s.writeUInt32BE(crc32Mpeg2(s, 0, len - 4), len - 4);
  return s;
}

/** Packets with a valid sync byte and random everything else (PIDs from a small set). */
function randomPackets(r: Rand, count: number): Buffer {
  const pids = [0, 0x1000, 0x100, 0x101, 0x1fff, int(r, 8192)];
  const out: Buffer[] = [packetizeSection(buildPatSection([{ programNumber: 1, pid: 0x1000 }]), 0, 0)];
  for (let k = 0; k < count; k++) {
    if (r() < 0.05) {
      out.push(packetizeSection(randomSection(r, r() < 0.5 ? 2 : 0), r() < 0.8 ? 0x1000 : 0, int(r, 16)));
      continue;
    }
    const p = randomBytes(r, 188);
    p[0] = 0x47;
    const pid = pids[int(r, pids.length)]!;
    p[1] = (p[1]! & 0xe0) | (pid >> 8);
    p[2] = pid & 0xff;
    if (r() < 0.5) p[1]! &= 0x7f; // mostly no TEI
    if (r() < 0.3) {
      // a plausible PES start
      let o = 4;
      if (p[3]! & 0x20) o += 1 + (p[4]! % 184);
      if (o + 3 < 188) {
        p[o] = 0;
        p[o + 1] = 0;
        p[o + 2] = 1;
      }
    }
    out.push(p);
  }
  return Buffer.concat(out);
}

function mutate(r: Rand, base: Buffer): Buffer {
  const start = int(r, base.length);
  const len = int(r, 24000);
  let b = Buffer.from(base.subarray(start, start + len));
  switch (int(r, 5)) {
    case 0: // truncated only
      break;
    case 1: {
      // bit flips
      const flips = 1 + int(r, 60);
      for (let k = 0; k < flips && b.length > 0; k++) b[int(r, b.length)] ^= 1 << int(r, 8);
      break;
    }
    case 2: {
      // overwrite runs
      for (let k = 0; k < 1 + int(r, 8) && b.length > 0; k++) {
        const o = int(r, b.length);
        b.fill(int(r, 256), o, Math.min(b.length, o + int(r, 300)));
      }
      break;
    }
    case 3: {
      // drop / duplicate / swap whole packets and cut bytes out
      const pk: Buffer[] = [];
      for (let o = 0; o < b.length; o += 188) pk.push(b.subarray(o, o + 188));
      for (let k = 0; k < 1 + int(r, 20) && pk.length > 2; k++) {
        const i = int(r, pk.length);
        const j = int(r, pk.length);
        const op = int(r, 4);
        if (op === 0) pk.splice(i, 1);
        else if (op === 1) pk.splice(i, 0, pk[j]!);
        else if (op === 2) [pk[i], pk[j]] = [pk[j]!, pk[i]!];
        else pk[i] = pk[i]!.subarray(int(r, 188));
      }
      b = Buffer.concat(pk);
      break;
    }
    default:
      // garbage in between
      b = Buffer.concat([b.subarray(0, b.length >> 1), randomBytes(r, int(r, 600), 0.05), b.subarray(b.length >> 1)]);
  }
  return b;
}

function runOne(r: Rand, input: Buffer): void {
  const { sink, segments } = captureSink();
  const seg = new Segmenter(sink, { targetDurationMs: 1 + int(r, 3000), maxDurationMs: r() < 0.5 ? undefined : 1 + int(r, 9000) });
  for (let o = 0; o < input.length; ) {
    const n = 1 + int(r, r() < 0.2 ? 10 : 5000);
    seg.push(input.subarray(o, o + n));
    o += n;
    if (r() < 0.01) seg.markDiscontinuity();
  }
  seg.flush();
  for (const s of segments) {
    assert.ok(s.close !== undefined, 'every segment is closed after flush');
    assert.equal(s.close.bytes, s.data.length);
    assert.ok(Number.isFinite(s.close.durationMs) && s.close.durationMs >= 0);
    assert.ok(Number.isFinite(s.open.startPts));
  }
  const st = seg.stats;
  assert.equal(st.packets * 188 + st.droppedBytes, st.bytes, 'every byte is either a packet or dropped');
}

describe('fuzz', () => {
  it('Segmenter survives thousands of damaged inputs', { timeout: 60_000 }, () => {
    const base = h264Fixture().data;
    const r = rng(20240601);
    let n = 0;
    for (; n < 1500; n++) runOne(r, mutate(r, base));
    for (let k = 0; k < 800; k++, n++) runOne(r, randomPackets(r, 1 + int(r, 150)));
    for (let k = 0; k < 700; k++, n++) runOne(r, randomBytes(r, int(r, 5000), r() < 0.5 ? 0.02 : 0));
    assert.equal(n, 3000);
  });

  it('TsDemuxer with PES reassembly survives random packets', { timeout: 60_000 }, () => {
    const r = rng(99);
    for (let k = 0; k < 500; k++) {
      const d = new TsDemuxer({ pes: (_t, payload) => assert.ok(payload.length <= 4096) }, { maxPesBytes: 4096 });
      const input = randomPackets(r, 1 + int(r, 100));
      for (let o = 0; o < input.length; o += 1 + int(r, 700)) d.push(input.subarray(o, o + 1 + int(r, 700)));
      d.flush();
      d.reset();
      d.push(input);
      d.flush();
      assert.equal(d.stats.packets * 188 + d.stats.droppedBytes, d.stats.bytes);
    }
  });

  it('codec parsers never throw on random bytes', () => {
    const r = rng(5);
    for (let k = 0; k < 3000; k++) {
      const b = randomBytes(r, int(r, 64));
      if (b.length > 0) b[0] = [0x67, 0x42, 0x40, 0x01][int(r, 4)]!; // H.264 SPS, H.265 SPS/VPS headers
      parseH264Sps(b);
      parseH265Sps(b);
      parseH265Vps(b);
      parseAdtsHeader(b, int(r, 4));
      parseMpegAudioHeader(b, int(r, 4));
      parseAc3Header(b, int(r, 4));
      splitAnnexB(b, r() < 0.5 ? 'h264' : 'h265');
    }
  });
});
