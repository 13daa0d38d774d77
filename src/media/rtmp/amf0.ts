/**
 * AMF0 encoder/decoder (Action Message Format, version 0), as used by RTMP command (type 20)
 * and data (type 18) messages.
 *
 * JS mapping:
 *   number ↔ Number, boolean ↔ Boolean, string ↔ String / Long String (chosen by byte length),
 *   plain object ↔ Object, null ↔ Null, undefined ↔ Undefined, Array ↔ Strict Array,
 *   Date ↔ Date (the time-zone field is written as 0 and ignored on read).
 *   ECMA arrays decode to plain objects marked with the non-enumerable symbol AMF0_ECMA_ARRAY, so
 *   they encode back as ECMA arrays; mark your own with `ecmaArray({...})`.
 *   Typed objects decode to plain objects (the class name is kept under AMF0_CLASS_NAME), XML
 *   documents decode to strings, Unsupported decodes to undefined.
 *
 * Decoding never throws: `decodeAmf0` returns the values read so far and an error string.
 * Hostile input is bounded: nesting depth, element counts and string lengths are checked against
 * the remaining bytes before anything is allocated.
 */
import { Buffer } from 'node:buffer';

export const AMF0_ECMA_ARRAY: unique symbol = Symbol('amf0.ecmaArray');
export const AMF0_CLASS_NAME: unique symbol = Symbol('amf0.className');

export const Amf0Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  RecordSet: 0x0e,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Amf0Value[]
  | { [key: string]: Amf0Value };

export type Amf0Object = { [key: string]: Amf0Value };

/** Marks a plain object so that it is encoded as an AMF0 ECMA array (e.g. onMetaData). */
export function ecmaArray<T extends object>(obj: T): T {
  Object.defineProperty(obj, AMF0_ECMA_ARRAY, { value: true, enumerable: false });
  return obj;
}

export function isEcmaArray(obj: unknown): boolean {
  return typeof obj === 'object' && obj !== null && (obj as Record<symbol, unknown>)[AMF0_ECMA_ARRAY] === true;
}

/** Sets a property without ever invoking the `__proto__` setter (keys come from the network). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Decoding

const MAX_DEPTH = 32;

class AmfError extends Error {}

class Reader {
  pos: number;
  /** objects seen so far, for AMF0 references (type 0x07) */
  readonly refs: object[] = [];
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new AmfError(`truncated AMF0 data at byte ${this.pos} (need ${n})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  str(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  value(depth: number): Amf0Value {
    if (depth > MAX_DEPTH) throw new AmfError('AMF0 nesting too deep');
    const marker = this.u8();
    switch (marker) {
      case Amf0Marker.Number:
        return this.f64();
      case Amf0Marker.Boolean:
        return this.u8() !== 0;
      case Amf0Marker.String:
        return this.str(this.u16());
      case Amf0Marker.LongString:
      case Amf0Marker.XmlDocument:
        return this.str(this.u32());
      case Amf0Marker.Object: {
        const obj: Amf0Object = {};
        this.refs.push(obj);
        this.properties(obj, depth);
        return obj;
      }
      case Amf0Marker.TypedObject: {
        const className = this.str(this.u16());
        const obj: Amf0Object = {};
        Object.defineProperty(obj, AMF0_CLASS_NAME, { value: className, enumerable: false });
        this.refs.push(obj);
        this.properties(obj, depth);
        return obj;
      }
      case Amf0Marker.EcmaArray: {
        this.u32(); // associative count: advisory only, many encoders write 0
        const obj = ecmaArray({} as Amf0Object);
        this.refs.push(obj);
        this.properties(obj, depth);
        return obj;
      }
      case Amf0Marker.StrictArray: {
        const count = this.u32();
        // every element takes at least one byte: refuse counts the data cannot hold
        if (count > this.end - this.pos) throw new AmfError(`AMF0 strict array count ${count} exceeds data`);
        const arr: Amf0Value[] = new Array(count);
        this.refs.push(arr);
        for (let i = 0; i < count; i++) arr[i] = this.value(depth + 1);
        return arr;
      }
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported:
        return undefined;
      case Amf0Marker.Date: {
        const ms = this.f64();
        this.need(2);
        this.pos += 2; // time zone, reserved: ignored
        return new Date(ms);
      }
      case Amf0Marker.Reference: {
        const idx = this.u16();
        const target = this.refs[idx];
        if (target === undefined) throw new AmfError(`AMF0 reference ${idx} out of range`);
        return target as Amf0Value;
      }
      case Amf0Marker.ObjectEnd:
        throw new AmfError('unexpected AMF0 object end marker');
      case Amf0Marker.AvmPlus:
        throw new AmfError('AMF3 values are not supported');
      default:
        throw new AmfError(`unknown AMF0 marker 0x${marker.toString(16)} at byte ${this.pos - 1}`);
    }
  }

  /** key/value pairs up to the 00 00 09 end marker (tolerates a missing end at end of data) */
  properties(obj: Amf0Object, depth: number): void {
    for (;;) {
      if (this.pos === this.end) return; // some encoders omit the final end marker
      const klen = this.u16();
      if (klen === 0) {
        // expected: object end marker
        if (this.pos < this.end && this.buf[this.pos] === Amf0Marker.ObjectEnd) this.pos++;
        return;
      }
      const key = this.str(klen);
      setOwn(obj, key, this.value(depth + 1));
    }
  }
}

export interface Amf0DecodeResult {
  values: Amf0Value[];
  /** set when decoding stopped early; `values` holds what was decoded before the problem */
  error?: string;
}

/** Decodes all AMF0 values in buf[start, end). Never throws. */
export function decodeAmf0(buf: Buffer, start = 0, end = buf.length): Amf0DecodeResult {
  const r = new Reader(buf, start, Math.min(end, buf.length));
  const values: Amf0Value[] = [];
  try {
    while (r.pos < r.end) values.push(r.value(0));
    return { values };
  } catch (err) {
    return { values, error: err instanceof AmfError ? err.message : `AMF0 decode failed: ${String(err)}` };
  }
}

/** Decodes exactly one value at `offset`. Returns undefined value and an error on failure. */
export function decodeAmf0Value(
  buf: Buffer,
  offset = 0,
): { value: Amf0Value; offset: number; error?: undefined } | { value: undefined; offset: number; error: string } {
  const r = new Reader(buf, offset, buf.length);
  try {
    const value = r.value(0);
    return { value, offset: r.pos };
  } catch (err) {
    return { value: undefined, offset, error: err instanceof AmfError ? err.message : String(err) };
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function sizeOf(v: unknown, depth: number): number {
  if (depth > MAX_DEPTH) throw new RangeError('AMF0 value nesting too deep to encode');
  switch (typeof v) {
    case 'number':
      return 9;
    case 'boolean':
      return 2;
    case 'string': {
      const n = Buffer.byteLength(v, 'utf8');
      return n > 0xffff ? 5 + n : 3 + n;
    }
    case 'undefined':
      return 1;
    case 'object': {
      if (v === null) return 1;
      if (v instanceof Date) return 11;
      if (Array.isArray(v)) {
        let n = 5;
        for (const e of v) n += sizeOf(e, depth + 1);
        return n;
      }
      let n = isEcmaArray(v) ? 5 + 3 : 1 + 3;
      for (const [k, e] of Object.entries(v as object)) {
        const kl = Buffer.byteLength(k, 'utf8');
        if (kl > 0xffff) throw new RangeError('AMF0 object key longer than 65535 bytes');
        n += 2 + kl + sizeOf(e, depth + 1);
      }
      return n;
    }
    default:
      // functions, symbols, bigints: encoded as undefined
      return 1;
  }
}

function write(buf: Buffer, pos: number, v: unknown): number {
  switch (typeof v) {
    case 'number':
      buf[pos] = Amf0Marker.Number;
      buf.writeDoubleBE(v, pos + 1);
      return pos + 9;
    case 'boolean':
      buf[pos] = Amf0Marker.Boolean;
      buf[pos + 1] = v ? 1 : 0;
      return pos + 2;
    case 'string': {
      const n = Buffer.byteLength(v, 'utf8');
      if (n > 0xffff) {
        buf[pos] = Amf0Marker.LongString;
        buf.writeUInt32BE(n, pos + 1);
        buf.write(v, pos + 5, n, 'utf8');
        return pos + 5 + n;
      }
      buf[pos] = Amf0Marker.String;
      buf.writeUInt16BE(n, pos + 1);
      buf.write(v, pos + 3, n, 'utf8');
      return pos + 3 + n;
    }
    case 'object': {
      if (v === null) {
        buf[pos] = Amf0Marker.Null;
        return pos + 1;
      }
      if (v instanceof Date) {
        buf[pos] = Amf0Marker.Date;
        buf.writeDoubleBE(v.getTime(), pos + 1);
        buf.writeInt16BE(0, pos + 9);
        return pos + 11;
      }
      if (Array.isArray(v)) {
        buf[pos] = Amf0Marker.StrictArray;
        buf.writeUInt32BE(v.length, pos + 1);
        pos += 5;
        for (const e of v) pos = write(buf, pos, e);
        return pos;
      }
      const entries = Object.entries(v as object);
      if (isEcmaArray(v)) {
        buf[pos] = Amf0Marker.EcmaArray;
        buf.writeUInt32BE(entries.length, pos + 1);
        pos += 5;
      } else {
        buf[pos] = Amf0Marker.Object;
        pos += 1;
      }
      for (const [k, e] of entries) {
        const kl = buf.write(k, pos + 2, 'utf8');
        buf.writeUInt16BE(kl, pos);
        pos = write(buf, pos + 2 + kl, e);
      }
      buf[pos] = 0;
      buf[pos + 1] = 0;
      buf[pos + 2] = Amf0Marker.ObjectEnd;
      return pos + 3;
    }
    default:
      buf[pos] = Amf0Marker.Undefined;
      return pos + 1;
  }
}

/** Encodes values back to back into one exactly-sized Buffer. Throws RangeError only on absurd input (nesting > 32). */
export function encodeAmf0(...values: unknown[]): Buffer {
  let size = 0;
  for (const v of values) size += sizeOf(v, 0);
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const v of values) pos = write(buf, pos, v);
  return buf;
}
