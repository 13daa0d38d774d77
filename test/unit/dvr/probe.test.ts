import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPatSection, buildPmtSection, packetizeSection } from '../../../src/media/ts/psi.js';
import { pmtStreamTypes } from '../../../src/dvr/probe.js';

function program(types: number[]): Buffer {
  const pat = packetizeSection(buildPatSection([{ programNumber: 1, pid: 0x1000 }]), 0, 0);
  const pmt = packetizeSection(buildPmtSection(1, 0x100, types.map((t, i) => ({ streamType: t, pid: 0x100 + i }))), 0x1000, 0);
  const video = Buffer.alloc(188, 0xff);
  video[0] = 0x47;
  video[1] = 0x41;
  video[2] = 0x00;
  video[3] = 0x10;
  return Buffer.concat([video, pat, video, pmt, video]);
}

test('pmtStreamTypes finds the program streams (H.264 + ADTS AAC) after the PAT', () => {
  assert.deepEqual(pmtStreamTypes(program([0x1b, 0x0f])), [0x1b, 0x0f]);
  assert.deepEqual(pmtStreamTypes(program([0x24, 0x03])), [0x24, 0x03]);
});

test('pmtStreamTypes is undefined on bytes without a PMT, and survives garbage', () => {
  assert.equal(pmtStreamTypes(Buffer.alloc(1000)), undefined);
  assert.equal(pmtStreamTypes(Buffer.concat([Buffer.from('garbage!'), program([0x1b])]))?.[0], 0x1b);
  assert.equal(pmtStreamTypes(program([0x1b]).subarray(0, 300)), undefined);
});
