/**
 * HLS AES-128 (hls.encrypt: true), applied where segments are served, not where they are written:
 * the writer, the DVR and every other reader keep plain TS on disk. Keys rotate every
 * `key_rotation` segments' worth of time: a segment starting at epoch ms T uses key number
 * k = floor(T / (key_rotation × segment_duration)), key = HMAC-SHA256(node secret, stream, rendition, k)
 * truncated to 16 bytes. Each segment's IV is derived from its name and written in its
 * #EXT-X-KEY tag, so no sequence number is needed to decrypt. Key URLs (`key-<k>.key` next to the
 * media playlist) sit under the stream's path and so behind the same authorization as the playlist.
 * The node secret lives in `<run_dir>/hls-keys.secret` (0600) so keys survive agent restarts.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import type { ResolvedStream } from '../config/model.js';

export const DEFAULT_KEY_ROTATION = 10;
const SEGMENT_NAME = /(\d{1,16})-\d{1,9}\.ts$/;
export const KEY_NAME = /^key-(\d{1,16})\.key$/;

export async function loadOrCreateSecret(runDir: string): Promise<Buffer> {
  const file = path.join(runDir, 'hls-keys.secret');
  try {
    const b = await readFile(file);
    if (b.length === 32) return b;
  } catch {
    /* first start: create it */
  }
  const secret = randomBytes(32);
  await writeFileAtomic(file, secret, { mode: 0o600 });
  return secret;
}

export class HlsEncryption {
  constructor(private readonly secret: Buffer) {}

  enabled(stream: ResolvedStream): boolean {
    return stream.hls.encrypt === true;
  }

  private periodMs(stream: ResolvedStream): number {
    return (stream.hls.keyRotation ?? DEFAULT_KEY_ROTATION) * stream.hls.segmentDurationMs;
  }

  keyNumberOf(stream: ResolvedStream, segmentStartMs: number): number {
    return Math.floor(segmentStartMs / this.periodMs(stream));
  }

  key(stream: ResolvedStream, rendition: string, k: number): Buffer {
    return createHmac('sha256', this.secret).update(`${stream.name}\0${rendition}\0${k}`).digest().subarray(0, 16);
  }

  ivOf(segmentName: string): Buffer {
    return createHash('sha256').update(segmentName).digest().subarray(0, 16);
  }

  /** A #EXT-X-KEY tag before every segment of a live media playlist. */
  playlist(stream: ResolvedStream, body: Buffer): Buffer {
    const lines = body.toString('utf8').split('\n');
    const out: string[] = [];
    for (const line of lines) {
      const m = !line.startsWith('#') ? SEGMENT_NAME.exec(line.trim()) : null;
      if (m) {
        const k = this.keyNumberOf(stream, Number(m[1]));
        out.push(`#EXT-X-KEY:METHOD=AES-128,URI="key-${k}.key",IV=0x${this.ivOf(line.trim()).toString('hex')}`);
      }
      out.push(line);
    }
    return Buffer.from(out.join('\n'));
  }

  /** `name` is the segment's path under the rendition (as the playlist names it). */
  segment(stream: ResolvedStream, rendition: string, name: string, body: Buffer): Buffer {
    const m = SEGMENT_NAME.exec(name);
    const k = this.keyNumberOf(stream, Number(m?.[1] ?? 0));
    const c = createCipheriv('aes-128-cbc', this.key(stream, rendition, k), this.ivOf(name));
    return Buffer.concat([c.update(body), c.final()]);
  }
}
