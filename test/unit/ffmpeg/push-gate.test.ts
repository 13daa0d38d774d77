import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsStartGate } from '../../../src/daemons/stream/push.js';

// --- tiny TS packet builders -------------------------------------------------------------------
function packet(pid: number, pusi: boolean, payload: number[], opts: { rai?: boolean; cc?: number } = {}): Buffer {
  const p = Buffer.alloc(188, 0xff);
  p[0] = 0x47;
  p[1] = (pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  let off = 4;
  if (opts.rai) {
    p[3] = 0x30 | ((opts.cc ?? 0) & 0x0f);
    p[4] = 1; // adaptation field length
    p[5] = 0x40; // random_access_indicator
    off = 6;
  } else p[3] = 0x10 | ((opts.cc ?? 0) & 0x0f);
  Buffer.from(payload).copy(p, off);
  return p;
}

function section(tableId: number, body: number[]): number[] {
  const len = body.length + 5 + 4; // header after length + CRC
  return [0x00 /* pointer */, tableId, 0xb0 | ((len >> 8) & 0x0f), len & 0xff, 0x00, 0x01, 0xc1, 0x00, 0x00, ...body, 0, 0, 0, 0];
}

const PAT = packet(0, true, section(0x00, [0x00, 0x01, 0xe0 | 0x10, 0x00])); // program 1 → PMT pid 0x1000
function pmt(videoType = 0x1b): Buffer {
  return packet(0x1000, true, section(0x02, [0xe1, 0x00 /* PCR pid 0x100 */, 0xf0, 0x00, videoType, 0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00]));
}
const PMT = pmt();
const pes = (nals: number[][]) => [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, ...nals.flatMap((n) => [0, 0, 0, 1, ...n])];
const VIDEO_P = packet(0x100, true, pes([[0x09, 0xf0], [0x41, 0x9a]])); // AUD + non-IDR slice
const VIDEO_I = packet(0x100, true, pes([[0x09, 0xf0], [0x67, 0x64], [0x68, 0xee], [0x65, 0x88]])); // AUD SPS PPS IDR
const VIDEO_CONT = packet(0x100, false, [1, 2, 3]);
const AUDIO = packet(0x101, true, [0, 0, 1, 0xc0, 0, 0, 0x80, 0x80, 0]);

const cat = (...b: Buffer[]) => Buffer.concat(b);

test('the gate opens at an IDR access unit and sends PAT + PMT first', () => {
  const g = new TsStartGate();
  assert.deepEqual(g.push(cat(PAT, PMT, VIDEO_P, VIDEO_CONT, AUDIO)), []);
  assert.equal(g.open, false);
  assert.deepEqual(g.info, { pmtPid: 0x1000, videoPid: 0x100, videoType: 0x1b, esPids: [0x100, 0x101] });
  const out = Buffer.concat(g.push(cat(AUDIO, VIDEO_I, VIDEO_CONT, AUDIO, VIDEO_P)));
  assert.equal(g.open, true);
  assert.deepEqual(out, cat(PAT, PMT, VIDEO_I, VIDEO_CONT, AUDIO, VIDEO_P));
});

test('a random_access_indicator opens the gate even when the NAL is not recognisable', () => {
  const g = new TsStartGate();
  g.push(cat(PAT, PMT));
  const key = packet(0x100, true, [0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0, 0xaa], { rai: true });
  assert.deepEqual(Buffer.concat(g.push(cat(VIDEO_P, key))), cat(PAT, PMT, key));
});

test('packets split across chunks at any offset still gate correctly', () => {
  const stream = cat(PAT, PMT, VIDEO_P, AUDIO, VIDEO_I, VIDEO_CONT, AUDIO);
  for (const step of [1, 7, 100, 187, 188, 189, 500]) {
    const g = new TsStartGate();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += step) out.push(...g.push(stream.subarray(i, i + step)).map((b) => Buffer.from(b)));
    assert.deepEqual(Buffer.concat(out), cat(PAT, PMT, VIDEO_I, VIDEO_CONT, AUDIO), `step ${step}`);
  }
});

test('reset closes the gate until the next keyframe; PSI is remembered', () => {
  const g = new TsStartGate();
  g.push(cat(PAT, PMT, VIDEO_I));
  g.reset();
  assert.deepEqual(g.push(cat(VIDEO_P, AUDIO)), []);
  assert.deepEqual(Buffer.concat(g.push(VIDEO_I)), cat(PAT, PMT, VIDEO_I));
});

test('allowOpen=false tracks PSI without opening', () => {
  const g = new TsStartGate();
  assert.deepEqual(g.push(cat(PAT, PMT, VIDEO_I), false), []);
  assert.equal(g.open, false);
  assert.deepEqual(Buffer.concat(g.push(VIDEO_I)), cat(PAT, PMT, VIDEO_I));
});

test('no keyframe before the PMT is known: nothing is forwarded', () => {
  const g = new TsStartGate();
  assert.deepEqual(g.push(cat(VIDEO_I, PAT, VIDEO_I)), []);
});

test('HEVC IRAP (type 19) opens; an audio-only program opens at the first PES', () => {
  const g = new TsStartGate();
  const hevcKey = packet(0x100, true, pes([[0x26, 0x01]])); // IDR_W_RADL = 19
  const hevcTrail = packet(0x100, true, pes([[0x02, 0x01]])); // TRAIL_R = 1
  g.push(cat(PAT, pmt(0x24), hevcTrail));
  assert.equal(g.open, false);
  assert.deepEqual(Buffer.concat(g.push(hevcKey)), cat(PAT, pmt(0x24), hevcKey));

  const a = new TsStartGate();
  const audioOnlyPmt = packet(0x1000, true, section(0x02, [0xe1, 0x01, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00]));
  assert.deepEqual(Buffer.concat(a.push(cat(PAT, audioOnlyPmt, AUDIO))), cat(PAT, audioOnlyPmt, AUDIO));
});

test('garbage between packets is skipped (resync on 0x47)', () => {
  const g = new TsStartGate();
  g.push(cat(PAT, PMT));
  const out = Buffer.concat(g.push(cat(Buffer.from([1, 2, 3]), VIDEO_I, AUDIO)));
  assert.deepEqual(out, cat(PAT, PMT, VIDEO_I, AUDIO));
});
