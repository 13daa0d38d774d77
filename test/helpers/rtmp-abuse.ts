/**
 * Small RTMP clients for the abuse tests and bench/rtmp-abuse.ts: a minimal real publisher
 * (handshake, connect, createStream, publish, wait for NetStream.Publish.Start), a client that
 * pins memory with an oversized chunk, one that stalls the handshake, and malformed AMF connects.
 * Each may bind a local address (127.0.0.2 …) so that loopback tests can play several hosts.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../src/media/rtmp/amf0.js';
import { ChunkReader, ChunkWriter, MessageType } from '../../src/media/rtmp/chunk.js';
import { clientHandshakeStart, HANDSHAKE_SIZE } from '../../src/media/rtmp/handshake.js';

export interface AbuseTarget {
  port: number;
  host?: string;
  /** local address to connect from (default: the system's choice) */
  localAddress?: string;
}

function connect(t: AbuseTarget): net.Socket {
  const s = net.connect({ port: t.port, host: t.host ?? '127.0.0.1', localAddress: t.localAddress });
  s.on('error', () => {});
  return s;
}

/** The server's answers to a client: commands decoded, `closed` when the server hung up. */
export interface RtmpPeer {
  socket: net.Socket;
  commands: Amf0Value[][];
  closed: Promise<void>;
  /** resolves with the first command whose name (or info code) matches */
  waitCommand(match: (values: Amf0Value[]) => boolean, timeoutMs?: number): Promise<Amf0Value[]>;
}

function peer(socket: net.Socket): RtmpPeer {
  const commands: Amf0Value[][] = [];
  const waiters: { match: (v: Amf0Value[]) => boolean; resolve: (v: Amf0Value[]) => void }[] = [];
  const reader = new ChunkReader((m) => {
    if (m.type !== MessageType.CommandAmf0) return;
    const values = decodeAmf0(m.payload).values;
    commands.push(values);
    for (const w of [...waiters]) {
      if (w.match(values)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(values);
      }
    }
  });
  let hs: Buffer | null = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    if (hs !== null) {
      hs = Buffer.concat([hs, d]);
      if (hs.length < 1 + 2 * HANDSHAKE_SIZE) return;
      const rest = hs.subarray(1 + 2 * HANDSHAKE_SIZE);
      hs = null;
      if (rest.length) reader.push(Buffer.from(rest));
      return;
    }
    reader.push(d);
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    socket,
    commands,
    closed,
    waitCommand: (match, timeoutMs = 10_000) => {
      const hit = commands.find(match);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching command from the server in ${timeoutMs} ms (got ${JSON.stringify(commands.map((c) => c[0]))})`)), timeoutMs);
        t.unref();
        waiters.push({ match, resolve: (v) => (clearTimeout(t), resolve(v)) });
        void closed.then(() => {
          clearTimeout(t);
          reject(new Error(`the server closed the connection (got ${JSON.stringify(commands.map((c) => c[0]))})`));
        });
      });
    },
  };
}

const infoCode = (v: Amf0Value[]): string | undefined => {
  const info = v[3];
  return typeof info === 'object' && info !== null && !Array.isArray(info) && !(info instanceof Date) ? (info.code as string | undefined) : undefined;
};

/** C0+C1 and a C2 (content is not checked by servers that echo-verify leniently). */
function handshakeBytes(): Buffer {
  return Buffer.concat([clientHandshakeStart(), Buffer.alloc(HANDSHAKE_SIZE, 7)]);
}

/**
 * A real (minimal) publisher: resolves with the milliseconds from TCP connect to
 * NetStream.Publish.Start; rejects when refused, reset or slower than timeoutMs. The socket stays
 * open (returned) until the caller destroys it.
 */
export async function rtmpPublish(t: AbuseTarget & { app: string; name: string; timeoutMs?: number }): Promise<{ ms: number; socket: net.Socket }> {
  const start = performance.now();
  const s = connect(t);
  const p = peer(s);
  const w = new ChunkWriter();
  const cmd = (streamId: number, ...v: unknown[]) => w.write({ csid: 3, type: MessageType.CommandAmf0, streamId, timestamp: 0, payload: encodeAmf0(...v) });
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('close', () => reject(new Error('connection refused or reset')));
    });
    s.write(handshakeBytes());
    s.write(cmd(0, 'connect', 1, { app: t.app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1/${t.app}` }));
    await p.waitCommand((v) => v[0] === '_result' && v[1] === 1, t.timeoutMs);
    s.write(cmd(0, 'createStream', 2, null));
    const created = await p.waitCommand((v) => v[0] === '_result' && v[1] === 2, t.timeoutMs);
    s.write(cmd(created[3] as number, 'publish', 3, null, t.name, 'live'));
    const status = await p.waitCommand((v) => v[0] === 'onStatus' && /^NetStream\.Publish\./.test(infoCode(v) ?? ''), t.timeoutMs);
    if (infoCode(status) !== 'NetStream.Publish.Start') throw new Error(`publish refused: ${infoCode(status)}`);
    return { ms: performance.now() - start, socket: s };
  } catch (e) {
    s.destroy();
    throw e;
  }
}

/**
 * The memory-pinning client of issue 18: handshake, Set Chunk Size 0x7fffffff, a message header
 * declaring 16,777,215 bytes, `bodyBytes` of its body, then silence. Resolves once everything is
 * written (or the server closed the connection first).
 */
export async function oversizedChunkClient(t: AbuseTarget, bodyBytes: number): Promise<RtmpPeer> {
  const s = connect(t);
  const p = peer(s);
  await new Promise<void>((resolve) => {
    s.once('connect', () => resolve());
    s.once('close', () => resolve());
  });
  if (s.destroyed) return p;
  const setChunk = Buffer.alloc(4);
  setChunk.writeUInt32BE(0x7fffffff);
  const w = new ChunkWriter();
  // fmt 0 header on csid 4: timestamp 0, length 0xffffff, type video, stream 1
  const header = Buffer.from([0x04, 0, 0, 0, 0xff, 0xff, 0xff, MessageType.Video, 1, 0, 0, 0]);
  s.write(Buffer.concat([handshakeBytes(), w.write({ csid: 2, type: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: setChunk }), header]));
  const body = Buffer.alloc(64 * 1024, 0x27);
  for (let sent = 0; sent < bodyBytes && !s.destroyed; sent += body.length) {
    if (!s.write(body.subarray(0, Math.min(body.length, bodyBytes - sent)))) {
      await new Promise<void>((resolve) => {
        s.once('drain', () => resolve());
        s.once('close', () => resolve());
      });
    }
  }
  return p;
}

/** Connects and sends one byte of C0, then nothing (a stalled handshake). */
export function stalledHandshakeClient(t: AbuseTarget): net.Socket {
  const s = connect(t);
  s.once('connect', () => s.write(Buffer.from([3])));
  return s;
}

/** connect commands whose AMF cannot be decoded: deep nesting, a string longer than the data */
export function malformedConnect(kind: 'deep' | 'huge-string', levels = 100_000): Buffer {
  const head = encodeAmf0('connect', 1);
  let body: Buffer;
  if (kind === 'deep') {
    // { a: { a: { … `levels` levels (each level: marker 0x03, key length 1, key "a") … } } }
    const level = Buffer.from([0x03, 0x00, 0x01, 0x61]);
    body = Buffer.alloc(level.length * levels);
    for (let i = 0; i < levels; i++) level.copy(body, i * level.length);
  } else {
    // { app: <long string claiming 0xffffffff bytes> "live" }
    body = Buffer.concat([Buffer.from([0x03, 0x00, 0x03]), Buffer.from('app'), Buffer.from([0x0c, 0xff, 0xff, 0xff, 0xff]), Buffer.from('live')]);
  }
  return Buffer.concat([head, body]);
}

/** Sends a malformed connect after a good handshake; resolves with what the server answered. */
export async function malformedConnectClient(t: AbuseTarget, kind: 'deep' | 'huge-string', levels?: number): Promise<RtmpPeer> {
  const s = connect(t);
  const p = peer(s);
  await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  const w = new ChunkWriter();
  w.chunkSize = 60_000;
  const setChunk = Buffer.alloc(4);
  setChunk.writeUInt32BE(60_000);
  const payload = malformedConnect(kind, levels);
  s.write(
    Buffer.concat([
      handshakeBytes(),
      w.write({ csid: 2, type: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: setChunk }),
      w.write({ csid: 3, type: MessageType.CommandAmf0, streamId: 0, timestamp: 0, payload }),
    ]),
  );
  return p;
}

/** Resident set size of a process in bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
