/**
 * FLV file container (header + tags), read from a complete Buffer. Used by tests and tools that
 * replay FLV recordings; live RTMP carries the tag bodies without this framing.
 */
import { Buffer } from 'node:buffer';

export const FlvTagType = { Audio: 8, Video: 9, Script: 18 } as const;

export interface FlvTag {
  /** 8 audio, 9 video, 18 script data */
  type: number;
  /** milliseconds (32-bit: 24 bits + extension byte) */
  timestamp: number;
  /** tag body (view into the file buffer) */
  data: Buffer;
}

export interface FlvFile {
  hasAudio: boolean;
  hasVideo: boolean;
  tags: FlvTag[];
  /** set when the file ended inside a tag or the header was bad */
  error?: string;
}

export function parseFlvFile(buf: Buffer): FlvFile {
  if (buf.length < 9 || buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) {
    return { hasAudio: false, hasVideo: false, tags: [], error: 'not an FLV file' };
  }
  const flags = buf[4]!;
  const headerSize = buf.readUInt32BE(5);
  const file: FlvFile = { hasAudio: (flags & 4) !== 0, hasVideo: (flags & 1) !== 0, tags: [] };
  let p = headerSize + 4; // skip PreviousTagSize0
  while (p + 11 <= buf.length) {
    const type = buf[p]! & 0x1f;
    const size = (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
    const timestamp = ((buf[p + 7]! << 24) | (buf[p + 4]! << 16) | (buf[p + 5]! << 8) | buf[p + 6]!) >>> 0;
    const start = p + 11;
    if (start + size > buf.length) {
      file.error = `truncated tag at byte ${p}`;
      break;
    }
    file.tags.push({ type, timestamp, data: buf.subarray(start, start + size) });
    p = start + size + 4;
  }
  return file;
}
