/**
 * Robustness of the CMAF path: damaged MPEG-TS (bit flips, cut packets, shuffles, garbage) into the
 * CmafSegmenter and the preview builders must never throw (the writer runs inside the supervisor) and
 * must keep the sink protocol: init before the first segment, parts only inside a segment, every
 * fragment a whole moof + mdat.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CmafSegmenter } from '../../../src/media/mp4/cmaf-segmenter.js';
import { previewFromCmaf, previewFromTs } from '../../../src/media/mp4/preview.js';
import { audioFixture, h264Fixture, h265Fixture, rng } from './_helpers.js';

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);

function mutate(r: Rand, base: Buffer): Buffer {
  const start = int(r, base.length >> 1);
  let b = Buffer.from(base.subarray(start, start + 20_000 + int(r, 200_000)));
  switch (int(r, 4)) {
    case 0:
      for (let k = 0; k < 1 + int(r, 80) && b.length > 0; k++) b[int(r, b.length)] ^= 1 << int(r, 8);
      break;
    case 1: {
      const pk: Buffer[] = [];
      for (let o = 0; o < b.length; o += 188) pk.push(b.subarray(o, o + 188));
      for (let k = 0; k < 1 + int(r, 30) && pk.length > 2; k++) {
        const i = int(r, pk.length);
        const j = int(r, pk.length);
        const op = int(r, 3);
        if (op === 0) pk.splice(i, 1);
        else if (op === 1) [pk[i], pk[j]] = [pk[j]!, pk[i]!];
        else pk[i] = pk[i]!.subarray(int(r, 188));
      }
      b = Buffer.concat(pk);
      break;
    }
    case 2: {
      const junk = Buffer.alloc(int(r, 2000));
      for (let k = 0; k < junk.length; k++) junk[k] = r() < 0.05 ? 0x47 : int(r, 256);
      b = Buffer.concat([b.subarray(0, b.length >> 1), junk, b.subarray(b.length >> 1)]);
      break;
    }
    default:
      // payload bytes overwritten in runs (keeps sync, breaks NAL units and ADTS headers)
      for (let k = 0; k < 1 + int(r, 10) && b.length > 0; k++) {
        const o = int(r, b.length);
        b.fill(int(r, 256), o, Math.min(b.length, o + int(r, 400)));
      }
  }
  return b;
}

function checkFragment(f: Buffer): void {
  assert.ok(f.length >= 16);
  const moof = f.readUInt32BE(0);
  assert.equal(f.toString('latin1', 4, 8), 'moof');
  assert.equal(f.toString('latin1', moof + 4, moof + 8), 'mdat');
  assert.equal(moof + f.readUInt32BE(moof), f.length);
}

describe('CMAF fuzz', () => {
  it('CmafSegmenter survives damaged H.264/H.265/AAC streams and keeps its protocol', { timeout: 120_000 }, () => {
    const r = rng(17);
    const bases = [h264Fixture(6, 25).data, h265Fixture(4).data, audioFixture(4).data, h264Fixture(6, 125).data];
    let parts = 0;
    let inits2 = 0;
    for (let iter = 0; iter < 240; iter++) {
      const input = mutate(r, bases[iter % bases.length]!);
      let inits = 0;
      let open = false;
      let lastInit: Buffer | null = null;
      let firstFrag: Buffer | null = null;
      const seg = new CmafSegmenter(
        {
          init(i) {
            assert.equal(open, false, 'init while a segment is open');
            inits++;
            inits2++;
            lastInit = i.data;
          },
          openSegment() {
            assert.ok(inits > 0, 'segment before init');
            assert.equal(open, false);
            open = true;
          },
          part(p) {
            assert.ok(open, 'part outside a segment');
            checkFragment(p.data);
            parts++;
            firstFrag ??= p.data;
          },
          closeSegment() {
            assert.ok(open);
            open = false;
          },
        },
        { targetDurationMs: 200 + int(r, 2000), partDurationMs: r() < 0.5 ? 0 : 200 + int(r, 400), maxDurationMs: r() < 0.5 ? undefined : 500 + int(r, 4000) },
      );
      for (let o = 0; o < input.length; ) {
        const n = 1 + int(r, r() < 0.2 ? 50 : 8000);
        seg.push(input.subarray(o, o + n));
        if (r() < 0.002) seg.markDiscontinuity();
        o += n;
      }
      seg.flush();
      assert.equal(open, false, 'flush closes the segment');
      // the preview builders on the same damaged bytes
      previewFromTs(input);
      if (lastInit !== null && firstFrag !== null) previewFromCmaf(lastInit, firstFrag);
    }
    // the damage leaves most of each input usable: the muxer did real work, not just bail out
    assert.ok(parts > 1000, `parts ${parts}`);
    assert.ok(inits2 > 160, `inits ${inits2}: most damaged inputs still start`);
  });

  it('preview builders never throw on random bytes', () => {
    const r = rng(5);
    for (let k = 0; k < 300; k++) {
      const b = Buffer.alloc(int(r, 4000));
      for (let i = 0; i < b.length; i++) b[i] = r() < 0.1 ? 0x47 : int(r, 256);
      assert.equal(previewFromTs(b), null);
      assert.equal(previewFromCmaf(b, b.subarray(int(r, b.length))), null);
    }
  });
});
