/**
 * RTMP handshake, simple form (version 3).
 *
 *   client → C0 (1 byte: version 3) + C1 (1536: time, zero/version, 1528 random)
 *   server → S0 (3) + S1 (time, 4 zero bytes, random) + S2 (echo of C1)
 *   client → C2 (echo of S1, ignored)
 *
 * Clients that start the "digest" (Flash Player 9+) variant, i.e. FFmpeg and OBS/librtmp, put a
 * non-zero version in C1[4..8]. Because our S1 carries a zero version, they fall back to the
 * simple scheme (FFmpeg validates the server digest only when playing with a server version ≥ 3;
 * librtmp disables FP9 mode when S1[4] is 0), and S2 = C1 echoed satisfies both.
 */
import { Buffer } from 'node:buffer';

export const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;

/** xorshift32: S1 needs noise, not secrets (src/media does no I/O and imports no crypto). */
function fillNoise(buf: Buffer, start: number, end: number, seed: number): void {
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = start; i < end; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
}

/**
 * Builds S0+S1+S2 (3073 bytes) answering the client's C1.
 * @param c1 the 1536 bytes following C0
 * @param uptimeMs server time field for S1 (any 32-bit value)
 */
export function serverHandshake(c1: Buffer, uptimeMs: number, seed = Date.now()): Buffer {
  const out = Buffer.allocUnsafe(1 + HANDSHAKE_SIZE * 2);
  out[0] = RTMP_VERSION;
  out.writeUInt32BE(uptimeMs >>> 0, 1);
  out.writeUInt32BE(0, 5); // zero "version": tells digest-capable clients to use the simple scheme
  fillNoise(out, 9, 1 + HANDSHAKE_SIZE, seed);
  c1.copy(out, 1 + HANDSHAKE_SIZE, 0, HANDSHAKE_SIZE);
  return out;
}

/** Client side (for tests and a future push client): C0+C1. */
export function clientHandshakeStart(uptimeMs = 0, seed = 12345, version = 0): Buffer {
  const out = Buffer.allocUnsafe(1 + HANDSHAKE_SIZE);
  out[0] = RTMP_VERSION;
  out.writeUInt32BE(uptimeMs >>> 0, 1);
  out.writeUInt32BE(version >>> 0, 5);
  fillNoise(out, 9, out.length, seed);
  return out;
}

/**
 * Client side: given S0+S1+S2 (3073 bytes), returns C2 (echo of S1) or an error string when the
 * server version is not 3 or S2 does not echo our C1 (only checked when `c1` is given).
 */
export function clientHandshakeFinish(s0s1s2: Buffer, c1?: Buffer): Buffer | string {
  if (s0s1s2.length < 1 + 2 * HANDSHAKE_SIZE) return 'short server handshake';
  if (s0s1s2[0] !== RTMP_VERSION) return `server RTMP version ${s0s1s2[0]}`;
  const s1 = s0s1s2.subarray(1, 1 + HANDSHAKE_SIZE);
  const s2 = s0s1s2.subarray(1 + HANDSHAKE_SIZE, 1 + 2 * HANDSHAKE_SIZE);
  if (c1 !== undefined && !s2.subarray(8).equals(c1.subarray(8, HANDSHAKE_SIZE))) return 'S2 does not echo C1';
  return Buffer.from(s1);
}
