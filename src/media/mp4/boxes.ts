/**
 * ISO BMFF box writing (ISO/IEC 14496-12): a small growable writer with back-patched box sizes.
 * Used for init segments and one-frame files, which are built rarely; media fragments are written into
 * one exactly-sized buffer by fragment.ts instead (the hot path).
 */
import { Buffer } from 'node:buffer';

export class BoxWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly starts: number[] = [];

  constructor(initial = 1024) {
    this.buf = Buffer.alloc(initial);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Opens a box; `version`/`flags` given = a full box. Close it with `end()`. */
  begin(type: string, version?: number, flags = 0): this {
    this.room(12);
    this.starts.push(this.pos);
    this.pos += 4;
    this.buf.write(type, this.pos, 4, 'latin1');
    this.pos += 4;
    if (version !== undefined) this.u32(((version & 0xff) << 24) | (flags & 0xffffff));
    return this;
  }

  end(): this {
    const s = this.starts.pop();
    if (s === undefined) throw new Error('BoxWriter.end without begin');
    this.buf.writeUInt32BE(this.pos - s, s);
    return this;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  u24(v: number): this {
    this.room(3);
    this.buf.writeUIntBE(v & 0xffffff, this.pos, 3);
    this.pos += 3;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  u64(v: number): this {
    this.room(8);
    this.buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(v))), this.pos);
    this.pos += 8;
    return this;
  }

  zeros(n: number): this {
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  ascii(s: string, fixedLen?: number): this {
    const n = fixedLen ?? s.length;
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.buf.write(s.slice(0, n), this.pos, n, 'latin1');
    this.pos += n;
    return this;
  }

  /** Writes a complete box with the given payload. */
  box(type: string, payload: Uint8Array): this {
    return this.begin(type).bytes(payload).end();
  }

  /** A copy of what was written (all boxes must be closed). */
  finish(): Buffer {
    if (this.starts.length > 0) throw new Error('BoxWriter.finish with open boxes');
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
