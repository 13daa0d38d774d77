/**
 * One track out of a multiplexed CMAF init segment / media segment (as written by this muxer), for DASH:
 * dash.js plays one track per representation, while HLS segments carry audio and video together. The
 * segment on disk stays the one copy; the per-track views are cut from it on request (no sample copy
 * besides the output buffer). Everything returns null on boxes that do not add up (never throws).
 */
import { Buffer } from 'node:buffer';

interface Box {
  type: string;
  start: number;
  end: number;
}

function boxes(b: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  let o = start;
  while (o + 8 <= end) {
    const size = b.readUInt32BE(o);
    if (size < 8 || o + size > end) throw new RangeError('bad box size');
    out.push({ type: b.toString('latin1', o + 4, o + 8), start: o, end: o + size });
    o += size;
  }
  return out;
}

const inner = (b: Buffer, box: Box, skip = 8): Box[] => boxes(b, box.start + skip, box.end);
const find = (list: Box[], type: string) => list.find((x) => x.type === type);

function header(size: number, type: string): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32BE(size, 0);
  h.write(type, 4, 4, 'latin1');
  return h;
}

export interface InitTrack {
  id: number;
  kind: 'video' | 'audio';
  timescale: number;
}

/** Tracks of an init segment: id, handler kind, media timescale. */
export function initTracks(init: Buffer): InitTrack[] | null {
  try {
    const moov = find(boxes(init, 0, init.length), 'moov');
    if (moov === undefined) return null;
    const out: InitTrack[] = [];
    for (const trak of inner(init, moov).filter((x) => x.type === 'trak')) {
      const kids = inner(init, trak);
      const tkhd = find(kids, 'tkhd');
      const mdia = find(kids, 'mdia');
      if (tkhd === undefined || mdia === undefined) continue;
      const mk = inner(init, mdia);
      const mdhd = find(mk, 'mdhd');
      const hdlr = find(mk, 'hdlr');
      if (mdhd === undefined || hdlr === undefined) continue;
      const handler = init.toString('latin1', hdlr.start + 16, hdlr.start + 20);
      if (handler !== 'vide' && handler !== 'soun') continue;
      const v1 = init[tkhd.start + 8] === 1;
      const m1 = init[mdhd.start + 8] === 1;
      out.push({
        id: init.readUInt32BE(tkhd.start + (v1 ? 28 : 20)),
        kind: handler === 'vide' ? 'video' : 'audio',
        timescale: init.readUInt32BE(mdhd.start + (m1 ? 28 : 20)),
      });
    }
    return out;
  } catch {
    return null;
  }
}

/** The init segment with only this track (its trak and trex). */
export function initForTrack(init: Buffer, trackId: number): Buffer | null {
  try {
    const top = boxes(init, 0, init.length);
    const ftyp = find(top, 'ftyp');
    const moov = find(top, 'moov');
    if (ftyp === undefined || moov === undefined) return null;
    const parts: Buffer[] = [];
    let found = false;
    for (const b of inner(init, moov)) {
      if (b.type === 'trak') {
        const tkhd = find(inner(init, b), 'tkhd');
        if (tkhd === undefined) continue;
        const id = init.readUInt32BE(tkhd.start + (init[tkhd.start + 8] === 1 ? 28 : 20));
        if (id !== trackId) continue;
        found = true;
        parts.push(init.subarray(b.start, b.end));
      } else if (b.type === 'mvex') {
        const keep = inner(init, b).filter((x) => x.type !== 'trex' || init.readUInt32BE(x.start + 12) === trackId);
        const body = Buffer.concat(keep.map((x) => init.subarray(x.start, x.end)));
        parts.push(header(8 + body.length, 'mvex'), body);
      } else {
        parts.push(init.subarray(b.start, b.end));
      }
    }
    if (!found) return null;
    const body = Buffer.concat(parts);
    return Buffer.concat([init.subarray(ftyp.start, ftyp.end), header(8 + body.length, 'moov'), body]);
  } catch {
    return null;
  }
}

export interface TrackTiming {
  /** tfdt of the first fragment (track timescale). */
  start: number;
  /** Sum of the sample durations of all fragments. */
  duration: number;
  /** Sample bytes. */
  bytes: number;
}

interface TrafInfo {
  traf: Box;
  trun: Box;
  id: number;
  tfdt: number;
  count: number;
  duration: number;
  dataOffset: number;
  dataSize: number;
}

/** trafs of one moof, with what this muxer writes in trun: offset, duration, size, flags, cto per sample. */
function trafsOf(b: Buffer, moof: Box): TrafInfo[] {
  const out: TrafInfo[] = [];
  for (const traf of inner(b, moof).filter((x) => x.type === 'traf')) {
    const k = inner(b, traf);
    const tfhd = find(k, 'tfhd');
    const tfdt = find(k, 'tfdt');
    const trun = find(k, 'trun');
    if (tfhd === undefined || tfdt === undefined || trun === undefined) throw new RangeError('traf without tfhd/tfdt/trun');
    const flags = b.readUInt32BE(trun.start + 8) & 0xffffff;
    if ((flags & 0xf01) !== 0xf01) throw new RangeError('unexpected trun layout');
    const count = b.readUInt32BE(trun.start + 12);
    let duration = 0;
    let size = 0;
    for (let i = 0; i < count; i++) {
      duration += b.readUInt32BE(trun.start + 20 + 16 * i);
      size += b.readUInt32BE(trun.start + 24 + 16 * i);
    }
    out.push({
      traf,
      trun,
      id: b.readUInt32BE(tfhd.start + 12),
      tfdt: b[tfdt.start + 8] === 1 ? Number(b.readBigUInt64BE(tfdt.start + 12)) : b.readUInt32BE(tfdt.start + 12),
      count,
      duration,
      dataOffset: moof.start + b.readInt32BE(trun.start + 16),
      dataSize: size,
    });
  }
  return out;
}

/** Start and duration of each track over all fragments of a segment. */
export function segmentTiming(seg: Buffer): Map<number, TrackTiming> | null {
  try {
    const out = new Map<number, TrackTiming>();
    for (const moof of boxes(seg, 0, seg.length).filter((x) => x.type === 'moof')) {
      for (const t of trafsOf(seg, moof)) {
        const cur = out.get(t.id);
        if (cur === undefined) out.set(t.id, { start: t.tfdt, duration: t.duration, bytes: t.dataSize });
        else {
          cur.duration += t.duration;
          cur.bytes += t.dataSize;
        }
      }
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * The segment with only this track: every moof keeps mfhd + that traf, every mdat that traf's data.
 * `shift` moves the decode times (tfdt) by that many ticks (DVR: archive time instead of source time).
 */
export function segmentForTrack(seg: Buffer, trackId: number, shift = 0): Buffer | null {
  try {
    const out: Buffer[] = [];
    for (const moof of boxes(seg, 0, seg.length).filter((x) => x.type === 'moof')) {
      const mfhd = find(inner(seg, moof), 'mfhd');
      const t = trafsOf(seg, moof).find((x) => x.id === trackId);
      if (mfhd === undefined || t === undefined) continue;
      if (t.dataOffset < 0 || t.dataOffset + t.dataSize > seg.length) return null;
      const traf = Buffer.from(seg.subarray(t.traf.start, t.traf.end));
      if (shift !== 0) {
        const tfdt = find(boxes(traf, 8, traf.length), 'tfdt');
        if (tfdt === undefined || traf[tfdt.start + 8] !== 1) return null;
        traf.writeBigUInt64BE(BigInt(Math.max(0, t.tfdt + shift)), tfdt.start + 12);
      }
      const moofSize = 8 + (mfhd.end - mfhd.start) + traf.length;
      // data offset (from the moof start, default-base-is-moof) of the one traf: right after the mdat header
      traf.writeInt32BE(moofSize + 8, t.trun.start - t.traf.start + 16);
      out.push(header(moofSize, 'moof'), seg.subarray(mfhd.start, mfhd.end), traf, header(8 + t.dataSize, 'mdat'), seg.subarray(t.dataOffset, t.dataOffset + t.dataSize));
    }
    return out.length > 0 ? Buffer.concat(out) : null;
  } catch {
    return null;
  }
}
