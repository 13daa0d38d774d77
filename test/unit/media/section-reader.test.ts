/** PSI section assembly (media/ts/section-reader.ts): pointer fields, sections across packets, stuffing, bad lengths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { SectionReader } from '../../../src/media/ts/section-reader.js';

function section(tableId: number, body: number[]): number[] {
  const len = body.length; // section_length: what follows the 3-byte header
  return [tableId, 0xb0 | ((len >> 8) & 0x0f), len & 0xff, ...body];
}

function reader() {
  const got: number[][] = [];
  let errors = 0;
  const r = new SectionReader((b, o, n) => void got.push([...b.subarray(o, o + n)]), () => void errors++);
  return { r, got, errors: () => errors };
}

test('two sections in one packet, then stuffing', () => {
  const { r, got } = reader();
  const a = section(0, [1, 2, 3]);
  const b = section(2, [4, 5]);
  const pkt = Buffer.from([0, ...a, ...b, 0xff, 0xff]);
  r.push(pkt, 0, pkt.length, 1);
  assert.deepEqual(got, [a, b]);
});

test('a section across three packets, the next one starting after a pointer field', () => {
  const { r, got } = reader();
  const long = section(2, Array.from({ length: 400 }, (_, i) => i & 0xff));
  const next = section(2, [9]);
  const p1 = Buffer.from([0, ...long.slice(0, 183)]);
  const p2 = Buffer.from(long.slice(183, 367));
  const rest = long.slice(367);
  const p3 = Buffer.from([rest.length, ...rest, ...next]);
  r.push(p1, 0, p1.length, 1);
  r.push(p2, 0, p2.length, 0);
  assert.deepEqual(got, []);
  r.push(p3, 0, p3.length, 1);
  assert.deepEqual(got, [long, next]);
});

test('a continuation without a start is ignored; reset drops a partial section; a length over 1024 is an error', () => {
  const { r, got, errors } = reader();
  r.push(Buffer.from([1, 2, 3]), 0, 3, 0);
  const long = section(2, Array.from({ length: 300 }, () => 7));
  r.push(Buffer.from([0, ...long.slice(0, 100)]), 0, 101, 1);
  r.reset();
  r.push(Buffer.from(long.slice(100)), 0, long.length - 100, 0);
  assert.deepEqual(got, []);
  r.push(Buffer.from([0, 0x02, 0xb7, 0xff]), 0, 4, 1); // section_length 0x7ff
  assert.equal(errors(), 1);
});
