/**
 * Test doubles for the stream supervisor's unit tests: an in-memory writer that records calls,
 * synthetic TS packets, and a UDP sender.
 */
import dgram from 'node:dgram';
import type { OpenWriter, OpenWriterOptions, WriterLike } from '../../../../src/daemons/stream/supervisor.js';
import { silentLogger } from '../../../../src/core/logger.js';
import type { ResolvedInput, ResolvedStream } from '../../../../src/config/model.js';
import { schemeOf } from '../../../../src/config/resolve.js';

export type WriterCall = { op: 'write'; bytes: number; tag: number } | { op: 'discontinuity' } | { op: 'close' };

export class FakeWriter implements WriterLike {
  calls: WriterCall[] = [];
  bytes = 0;
  closed = false;
  readonly mediaInfo = null;
  get stats(): { bitrate: number; bytes: number } {
    return { bitrate: 0, bytes: this.bytes };
  }
  constructor(readonly opts: OpenWriterOptions) {}
  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    // our synthetic packets carry the sender's tag in every payload byte: the most frequent byte
    this.calls.push({ op: 'write', bytes: chunk.length, tag: dominantByte(chunk) });
  }
  discontinuity(): void {
    this.calls.push({ op: 'discontinuity' });
  }
  async close(): Promise<void> {
    this.closed = true;
    this.calls.push({ op: 'close' });
  }
  /** sequence of sender tags with discontinuities in between, collapsed: e.g. [1,'D',2,'D',1] */
  timeline(): (number | 'D')[] {
    const out: (number | 'D')[] = [];
    for (const c of this.calls) {
      const v = c.op === 'write' ? c.tag : c.op === 'discontinuity' ? 'D' : null;
      if (v === null) continue;
      if (out[out.length - 1] !== v) out.push(v);
    }
    return out;
  }
}

function dominantByte(b: Buffer): number {
  const counts = new Uint32Array(256);
  for (let i = 0; i < b.length; i++) counts[b[i]!]!++;
  let best = -1;
  let n = 0;
  for (let v = 0; v < 256; v++)
    if (counts[v]! > n) {
      n = counts[v]!;
      best = v;
    }
  return best;
}

export function fakeWriterFactory(): { open: OpenWriter; writers: FakeWriter[] } {
  const writers: FakeWriter[] = [];
  return {
    writers,
    open: async (opts) => {
      const w = new FakeWriter(opts);
      writers.push(w);
      return w;
    },
  };
}

/** `count` TS packets on PID 0x100 with running CC; every payload byte = tag (payload only, no adaptation). */
export function tsPackets(count: number, tag: number, ccStart = 0): Buffer {
  const b = Buffer.alloc(188 * count, tag);
  for (let i = 0; i < count; i++) {
    const o = i * 188;
    b[o] = 0x47;
    b[o + 1] = 0x01;
    b[o + 2] = 0x00;
    b[o + 3] = 0x10 | ((ccStart + i) & 0x0f);
  }
  return b;
}

/** Sends tagged synthetic TS to a UDP port every `everyMs` until stopped. */
export class UdpSender {
  private sock = dgram.createSocket('udp4');
  private timer: NodeJS.Timeout | undefined;
  private cc = 0;
  constructor(
    readonly port: number,
    readonly tag: number,
    readonly host = '127.0.0.1',
  ) {}
  start(everyMs = 20): this {
    this.stop();
    this.timer = setInterval(() => {
      this.sock.send(tsPackets(7, this.tag, this.cc), this.port, this.host);
      this.cc = (this.cc + 7) & 0x0f;
    }, everyMs);
    return this;
  }
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
  close(): void {
    this.stop();
    this.sock.close();
  }
}

export { freeUdpPort } from '../../../helpers/index.js';

export function input(url: string, over: Partial<ResolvedInput> = {}, index = 0): ResolvedInput {
  return {
    url,
    scheme: schemeOf(url),
    priority: index + 1,
    sourceTimeoutMs: 5000,
    returnAfterMs: 10_000,
    loop: true,
    ...over,
  };
}

export function stream(name: string, inputs: ResolvedInput[], over: Partial<ResolvedStream> = {}): ResolvedStream {
  return {
    name,
    disabled: false,
    inputs,
    root: '/nonexistent/flux-test',
    push: [],
    hls: { segmentDurationMs: 1000, window: 6 },
    auth: { playToken: false, secureLink: false },
    renditions: ['v1a1'],
    ...over,
  };
}

export const logger = silentLogger;

export { waitFor } from '../../../helpers/index.js';
