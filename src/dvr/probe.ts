/**
 * A tiny look into the first bytes of a segment: does its PMT carry ADTS AAC audio (stream_type 0x0F)?
 * A fragmented MP4 written by ffmpeg needs `-bsf:a aac_adtstoasc` for it (the automatic insertion comes
 * too late with empty_moov), and that filter refuses any other codec, so it is added only when needed.
 */
import { open } from 'node:fs/promises';
import { parsePat, parsePmt, sectionLength } from '../media/ts/psi.js';

const PKT = 188;

function payloadStart(buf: Buffer, off: number): number {
  const afc = (buf[off + 3]! >> 4) & 3;
  let p = off + 4;
  if (afc === 2) return -1;
  if (afc === 3) p += 1 + buf[p]!;
  if (p >= off + PKT) return -1;
  return p + 1 + buf[p]!; // pointer field (payload unit start)
}

/** Stream types of the first PMT in `buf` (single-packet sections), or undefined when none is found. */
export function pmtStreamTypes(buf: Buffer): number[] | undefined {
  let pmtPid = -1;
  for (let off = 0; off + PKT <= buf.length; off += PKT) {
    if (buf[off] !== 0x47) {
      // resync
      const next = buf.indexOf(0x47, off + 1);
      if (next < 0) return undefined;
      off = next - PKT;
      continue;
    }
    const pusi = (buf[off + 1]! & 0x40) !== 0;
    if (!pusi) continue;
    const pid = ((buf[off + 1]! & 0x1f) << 8) | buf[off + 2]!;
    if (pid !== 0 && pid !== pmtPid) continue;
    const s = payloadStart(buf, off);
    if (s < 0 || s >= off + PKT) continue;
    const len = sectionLength(buf, s, off + PKT);
    if (len < 0 || s + len > off + PKT) continue;
    if (pid === 0) {
      const pat = parsePat(buf, s, len);
      const prog = pat?.programs.find((p) => p.programNumber !== 0);
      if (prog) pmtPid = prog.pid;
    } else {
      const pmt = parsePmt(buf, s, len);
      if (pmt) return pmt.streams.map((x) => x.streamType);
    }
  }
  return undefined;
}

/** Does the segment file's program carry ADTS AAC? (reads its first 64 KiB) */
export async function segmentHasAdtsAac(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return false;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return pmtStreamTypes(buf.subarray(0, bytesRead))?.includes(0x0f) ?? false;
  } finally {
    await fh.close();
  }
}
