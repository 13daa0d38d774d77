/** PES header reading (media/ts/pes-header.ts): whole headers, headers split across packets, bad bytes, timestamps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  continuePesHeader,
  HEADER_BAD,
  HEADER_PENDING,
  pesPayloadLength,
  readPesTimestamps,
  startPesHeader,
} from '../../../src/media/ts/pes-header.js';
import { TimestampUnwrapper } from '../../../src/media/ts/timestamp.js';
import { TsTrack } from '../../../src/media/ts/track.js';

function ts(prefix: number, v: number): number[] {
  return [(prefix << 4) | (((v / 2 ** 30) & 7) << 1) | 1, (v >> 22) & 0xff, (((v >> 15) & 0x7f) << 1) | 1, (v >> 7) & 0xff, ((v & 0x7f) << 1) | 1];
}

/** A video PES header with PTS and DTS, PES_packet_length `len`. */
function header(pts: number, dts: number, len = 0): Buffer {
  return Buffer.from([0, 0, 1, 0xe0, len >> 8, len & 0xff, 0x80, 0xc0, 10, ...ts(3, pts), ...ts(1, dts)]);
}

const track = () => new TsTrack(256, 0x1b, 'video', 'h264', true);

test('a whole header: its length, timestamps and stream id', () => {
  const t = track();
  const h = Buffer.concat([header(900000, 896400, 100), Buffer.from([9, 9])]);
  assert.equal(startPesHeader(t, h, 0, h.length), 19);
  assert.equal(readPesTimestamps(t, h, 0, new TimestampUnwrapper()), 3);
  assert.equal(t.streamId, 0xe0);
  assert.equal(t.pts, 900000);
  assert.equal(t.dts, 896400);
  assert.equal(pesPayloadLength(h, 0), 100 - 3 - 10);
  assert.equal(pesPayloadLength(header(0, 0, 0), 0), -1, 'PES_packet_length 0: unbounded');
});

test('a stream without optional header: 6 bytes', () => {
  const b = Buffer.from([0, 0, 1, 0xbe, 0, 4, 0xff, 0xff, 0xff, 0xff]);
  assert.equal(startPesHeader(track(), b, 0, b.length), 6);
});

test('bad start codes are HEADER_BAD, a plausible short prefix is pending', () => {
  assert.equal(startPesHeader(track(), Buffer.from([0, 0, 2, 0xe0, 0, 0, 0x80, 0, 0]), 0, 9), HEADER_BAD);
  assert.equal(startPesHeader(track(), Buffer.from([1, 0]), 0, 2), HEADER_BAD);
  const t = track();
  assert.equal(startPesHeader(t, Buffer.from([0, 0]), 0, 2), HEADER_PENDING);
  assert.equal(t.hdrLen, 2);
  assert.equal(continuePesHeader(t, Buffer.from([2, 0xe0, 0, 0, 0x80, 0, 0]), 0, 7), HEADER_BAD);
});

test('a header split at every byte reads the same as whole', () => {
  const h = header(8589934000, 8589933000);
  for (let cut = 1; cut < h.length; cut++) {
    const t = track();
    assert.equal(startPesHeader(t, h, 0, cut), HEADER_PENDING, `cut ${cut}`);
    // the rest one byte per packet
    let p = cut;
    while (t.hdrLen < t.hdrNeed) {
      const used = continuePesHeader(t, h, p, p + 1);
      assert.ok(used >= 0);
      p += used;
    }
    assert.equal(p, h.length);
    assert.equal(t.hdrNeed, h.length);
    readPesTimestamps(t, t.hdr!, 0, new TimestampUnwrapper());
    assert.equal(t.pts, 8589934000);
    assert.equal(t.dts, 8589933000);
  }
});

test('continuing consumes only the header; the rest is elementary stream', () => {
  const h = header(1, 1);
  const t = track();
  assert.equal(startPesHeader(t, h, 0, 4), HEADER_PENDING);
  const rest = Buffer.concat([h.subarray(4), Buffer.from([7, 7, 7])]);
  assert.equal(continuePesHeader(t, rest, 0, rest.length), h.length - 4);
  assert.equal(t.hdrLen, t.hdrNeed);
});

test('PTS_DTS_flags 01 is returned for the caller to count', () => {
  const b = Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0x40, 0]);
  const t = track();
  assert.equal(readPesTimestamps(t, b, 0, new TimestampUnwrapper()), 1);
  assert.ok(Number.isNaN(t.pts) && Number.isNaN(t.dts));
});
