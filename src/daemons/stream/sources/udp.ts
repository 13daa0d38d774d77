/**
 * udp:// (and rtp://) MPEG-TS receiver: unicast or multicast (optionally source-specific
 * `udp://source@group:port`), joined on the configured interface (name or address).
 * RTP-wrapped TS (first byte 0x80, 0x47 after the RTP header) is unwrapped.
 */
import { isMulticast } from '../../../core/net.js';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { NativeSource, SourceHandlers } from './source.js';

export interface UdpTarget {
  host: string;
  port: number;
  source?: string;
  multicast: boolean;
}

export function parseUdpUrl(url: string): UdpTarget {
  // udp://[source@]host:port[?query]  — ffmpeg-style `udp://@239.0.0.1:1234` (empty source) too
  const m = /^(?:udp|rtp):\/\/(?:([^@/]*)@)?(\[[^\]]+\]|[^:/?#]+)?:(\d+)/i.exec(url);
  if (!m) throw new Error(`cannot parse UDP address in ${url}`);
  let host = m[2] ?? '0.0.0.0';
  if (host.startsWith('[')) host = host.slice(1, -1);
  const port = Number(m[3]);
  if (!(port > 0 && port < 65536)) throw new Error(`bad UDP port in ${url}`);
  const source = m[1] ? m[1] : undefined;
  return { host, port, source, multicast: isMulticast(host) };
}

export { isMulticast };

/** Interface option → the local IPv4 address to join on (a name like eth0 or an address). */
export function interfaceAddress(iface: string | undefined): string | undefined {
  if (!iface) return undefined;
  if (isIP(iface)) return iface;
  const list = networkInterfaces()[iface];
  const v4 = list?.find((a) => a.family === 'IPv4');
  if (!v4) throw new Error(`network interface ${iface} has no IPv4 address`);
  return v4.address;
}

/** Strip an RTP header when the datagram is RTP-wrapped TS; returns the TS part. */
export function unwrapRtp(d: Buffer): Buffer {
  if (d.length < 12 || d[0] === 0x47 || (d[0]! & 0xc0) !== 0x80) return d;
  const cc = d[0]! & 0x0f;
  let off = 12 + cc * 4;
  if (d[0]! & 0x10) {
    if (d.length < off + 4) return d;
    off += 4 + d.readUInt16BE(off + 2) * 4;
  }
  if (off < d.length && d[off] === 0x47) return d.subarray(off);
  return d;
}

const RECV_BUFFER = 8 * 1024 * 1024;
/** a batch is delivered early at this size (a 40 Mbit/s input in 200 ms) */
const MAX_BATCH_BYTES = 1024 * 1024;

export class UdpSource implements NativeSource {
  readonly kind = 'udp';
  lastError: string | null = null;
  reconnects = 0;
  private sock: dgram.Socket | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private delivered = false;

  /** datagrams received and not delivered yet (batching) */
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private batchTimer: NodeJS.Timeout | undefined;

  /**
   * `batchMs()`: how long datagrams may wait to be delivered together, asked per datagram (0: each
   * at once). Each delivery runs the whole chain (monitor, demux, segmenter, writer) once: at
   * 4 Mbit/s that is ~380 runs a second one by one, 5 in 200 ms batches. The kernel buffer is not
   * involved: every datagram is still received as it arrives.
   */
  constructor(
    private readonly url: string,
    private readonly iface: string | undefined,
    private readonly h: SourceHandlers,
    private readonly batchMs: () => number = () => 0,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  private open(): void {
    let t: UdpTarget;
    let ifaceAddr: string | undefined;
    try {
      t = parseUdpUrl(this.url);
      ifaceAddr = interfaceAddress(this.iface);
    } catch (e) {
      this.fail((e as Error).message, false);
      return;
    }
    const type = isIP(t.host) === 6 ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type, reuseAddr: true });
    this.sock = sock;
    this.delivered = false;
    sock.on('message', (msg) => {
      if (!this.delivered) {
        this.delivered = true;
        this.flush(); // what the previous socket received belongs before the new epoch
        this.h.onEpoch();
      }
      const ts = unwrapRtp(msg);
      const wait = this.batchMs();
      if (wait <= 0) {
        if (this.batchBytes > 0) this.flush();
        this.h.onData(ts);
        return;
      }
      this.batch.push(ts);
      this.batchBytes += ts.length;
      if (this.batchBytes >= MAX_BATCH_BYTES) this.flush();
      else this.batchTimer ??= setTimeout(() => this.flush(), wait);
    });
    sock.on('error', (err) => {
      sock.close();
      if (this.sock === sock) this.sock = undefined;
      this.fail(`udp ${t.host}:${t.port}: ${err.message}`, true);
    });
    // multicast: bind the group address (Linux then filters by destination); unicast: the given address
    sock.bind({ port: t.port, address: t.host, exclusive: false }, () => {
      try {
        sock.setRecvBufferSize(RECV_BUFFER);
      } catch {
        /* capped by net.core.rmem_max: fine */
      }
      if (t.multicast) {
        try {
          if (t.source) sock.addSourceSpecificMembership(t.source, t.host, ifaceAddr);
          else sock.addMembership(t.host, ifaceAddr);
        } catch (e) {
          sock.close();
          if (this.sock === sock) this.sock = undefined;
          this.fail(`udp: cannot join ${t.host}${ifaceAddr ? ` on ${ifaceAddr}` : ''}: ${(e as Error).message}`, true);
          return;
        }
      }
      this.lastError = null;
    });
  }

  private flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.batchBytes === 0) return;
    const chunk = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    if (!this.stopped) this.h.onData(chunk);
  }

  private fail(msg: string, retry: boolean): void {
    this.lastError = msg;
    this.h.onError(msg);
    if (!retry || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      this.reconnects++;
      this.open();
    }, 2000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.batch = [];
    this.batchBytes = 0;
    const s = this.sock;
    this.sock = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
