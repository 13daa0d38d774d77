import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { AMF0_ECMA_ARRAY, decodeAmf0, decodeAmf0Value, ecmaArray, encodeAmf0, isEcmaArray } from '../../../src/media/rtmp/amf0.js';

function roundTrip(v: unknown): unknown {
  const enc = encodeAmf0(v);
  const dec = decodeAmf0(enc);
  assert.equal(dec.error, undefined, `decode error for ${JSON.stringify(v)}`);
  assert.equal(dec.values.length, 1);
  // re-encoding what we decoded gives the same bytes (kind of every value preserved)
  assert.deepEqual(encodeAmf0(dec.values[0]), enc);
  return dec.values[0];
}

test('AMF0 round-trips every supported type', () => {
  assert.equal(roundTrip(0), 0);
  assert.equal(roundTrip(-1.5), -1.5);
  assert.equal(roundTrip(2 ** 53), 2 ** 53);
  assert.ok(Number.isNaN(roundTrip(NaN)));
  assert.equal(roundTrip(true), true);
  assert.equal(roundTrip(false), false);
  assert.equal(roundTrip(''), '');
  assert.equal(roundTrip('héllo wörld ✓'), 'héllo wörld ✓');
  assert.equal(roundTrip(null), null);
  assert.equal(roundTrip(undefined), undefined);
  const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  assert.deepEqual(roundTrip(d), d);
  assert.deepEqual(roundTrip([1, 'a', null, [true]]), [1, 'a', null, [true]]);
  const obj = { app: 'live', nested: { a: 1, b: [1, 2], c: null }, flag: false };
  assert.deepEqual(roundTrip(obj), obj);
});

test('strings longer than 65535 bytes are written as long strings and read back', () => {
  const long = 'x'.repeat(70_000);
  const enc = encodeAmf0(long);
  assert.equal(enc[0], 0x0c);
  assert.equal(enc.readUInt32BE(1), 70_000);
  assert.equal(roundTrip(long), long);
});

test('ECMA arrays decode to plain objects and encode back as ECMA arrays', () => {
  const meta = ecmaArray({ duration: 0, width: 320, height: 240, encoder: 'Lavf' });
  const enc = encodeAmf0(meta);
  assert.equal(enc[0], 0x08);
  assert.equal(enc.readUInt32BE(1), 4);
  const back = roundTrip(meta) as Record<string, unknown>;
  assert.ok(isEcmaArray(back));
  assert.deepEqual({ ...back }, { duration: 0, width: 320, height: 240, encoder: 'Lavf' });
  assert.equal(Object.keys(back).includes(String(AMF0_ECMA_ARRAY)), false);
});

test('known byte layout of a connect command', () => {
  const enc = encodeAmf0('connect', 1, { app: 'live' });
  const expected = Buffer.concat([
    Buffer.from([0x02, 0x00, 0x07]),
    Buffer.from('connect'),
    Buffer.from([0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0x03, 0x00, 0x03]),
    Buffer.from('app'),
    Buffer.from([0x02, 0x00, 0x04]),
    Buffer.from('live'),
    Buffer.from([0x00, 0x00, 0x09]),
  ]);
  assert.deepEqual(enc, expected);
  const one = decodeAmf0Value(enc, 0);
  assert.equal(one.value, 'connect');
  assert.equal(one.offset, 10);
});

test('decoding reads references, typed objects, XML and tolerates a missing final object end', () => {
  // object {a: 1} then a reference to object 0
  const obj = encodeAmf0({ a: 1 });
  const ref = Buffer.from([0x07, 0x00, 0x00]);
  const r = decodeAmf0(Buffer.concat([obj, ref]));
  assert.equal(r.error, undefined);
  assert.equal(r.values[1], r.values[0]);
  // typed object "Cls" {x: true}
  const typed = Buffer.concat([Buffer.from([0x10, 0x00, 0x03]), Buffer.from('Cls'), encodeAmf0({ x: true }).subarray(1)]);
  assert.deepEqual({ ...(decodeAmf0(typed).values[0] as object) }, { x: true });
  const xml = Buffer.concat([Buffer.from([0x0f, 0, 0, 0, 3]), Buffer.from('<a>')]);
  assert.deepEqual(decodeAmf0(xml).values, ['<a>']);
  // object without its 00 00 09 end at the end of data (seen from some encoders)
  const noEnd = obj.subarray(0, obj.length - 3);
  assert.deepEqual(decodeAmf0(noEnd), { values: [{ a: 1 }] });
});

test('network keys cannot pollute prototypes', () => {
  const evil = Buffer.concat([
    Buffer.from([0x03, 0x00, 0x09]),
    Buffer.from('__proto__'),
    encodeAmf0({ polluted: true }),
    Buffer.from([0, 0, 9]),
  ]);
  const r = decodeAmf0(evil);
  assert.equal(r.error, undefined);
  const v = r.values[0] as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((v as { polluted?: unknown }).polluted, undefined);
  assert.ok(Object.prototype.hasOwnProperty.call(v, '__proto__'));
});

test('bad input gives an error and the values decoded before it, never an exception', () => {
  const good = encodeAmf0('onStatus', 0);
  const trunc = decodeAmf0(Buffer.concat([good, Buffer.from([0x00, 0x3f])]));
  assert.deepEqual(trunc.values, ['onStatus', 0]);
  assert.match(trunc.error!, /truncated/);
  assert.match(decodeAmf0(Buffer.from([0x42])).error!, /unknown AMF0 marker 0x42/);
  assert.match(decodeAmf0(Buffer.from([0x11, 0x01])).error!, /AMF3/);
  assert.match(decodeAmf0(Buffer.from([0x07, 0x00, 0x05])).error!, /reference/);
  assert.match(decodeAmf0(Buffer.from([0x09])).error!, /object end/);
  // a strict array claiming 4 billion elements is refused before allocating
  assert.match(decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05])).error!, /exceeds/);
  // a long string claiming more bytes than there are
  assert.match(decodeAmf0(Buffer.from([0x0c, 0x7f, 0xff, 0xff, 0xff, 0x41])).error!, /truncated/);
  // nesting bomb: 10 000 nested strict arrays
  const bomb = Buffer.alloc(50_000);
  for (let i = 0; i < 10_000; i++) {
    bomb[i * 5] = 0x0a;
    bomb.writeUInt32BE(1, i * 5 + 1);
  }
  assert.match(decodeAmf0(bomb).error!, /too deep/);
  assert.equal(decodeAmf0Value(Buffer.alloc(0)).error !== undefined, true);
});

test('random bytes never throw', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.alloc(1 + (i % 64));
    for (let k = 0; k < b.length; k++) b[k] = rnd();
    // bias towards valid markers so decoding gets deep
    b[0] = b[0]! % 0x12;
    const r = decodeAmf0(b);
    assert.ok(Array.isArray(r.values));
  }
});
