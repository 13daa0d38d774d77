/**
 * The index of an MP4 file, read from its `moov` box only (never the media data): tracks, codecs,
 * duration and the presentation times of the video keyframes. VOD cuts HLS segments on those
 * keyframes without reading the file. Pure: Buffers in, plain objects out.
 *
 * Also the top-level box walk (`scanTopLevel`) that finds `moov` wherever it is (start or end of the
 * file) and tells a truncated file (a box that runs past the end) from a whole one.
 */

export class Mp4Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mp4Error';
  }
}

export interface TopLevelBox {
  type: string;
  offset: number;
  /** header size (8 or 16) */
  header: number;
  size: number;
}

/** Boxes an MP4/QuickTime file may start with: anything else is not one. */
const FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pdin', 'uuid', 'styp']);

/**
 * Walk top-level boxes given a reader of `len` bytes at `pos` (short reads at the end of file).
 * Throws Mp4Error for a file that is not MP4, has no moov, or is truncated.
 */
export async function scanTopLevel(fileSize: number, read: (pos: number, len: number) => Promise<Buffer>): Promise<{ boxes: TopLevelBox[]; moov: TopLevelBox }> {
  const boxes: TopLevelBox[] = [];
  let pos = 0;
  while (pos < fileSize) {
    if (fileSize - pos < 8) throw new Mp4Error(`truncated MP4: ${fileSize - pos} stray bytes at offset ${pos}`);
    const h = await read(pos, 16);
    let size = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    let header = 8;
    if (!/^[\x20-\x7e]{4}$/.test(type) || (!boxes.length && !FIRST_BOXES.has(type))) throw new Mp4Error(boxes.length ? `corrupt MP4: bad box at offset ${pos}` : 'not an MP4 file (no ftyp/moov boxes)');
    if (size === 1) {
      if (h.length < 16) throw new Mp4Error(`truncated MP4: box ${type} header cut at offset ${pos}`);
      size = Number(h.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) size = fileSize - pos; // runs to the end of the file
    if (size < header) throw new Mp4Error(`corrupt MP4: box ${type} at offset ${pos} has size ${size}`);
    if (pos + size > fileSize) throw new Mp4Error(`truncated MP4: box ${type} at offset ${pos} needs ${size} bytes, the file has ${fileSize - pos} left`);
    boxes.push({ type, offset: pos, header, size });
    pos += size;
  }
  const moov = boxes.find((b) => b.type === 'moov');
  if (!moov) throw new Mp4Error(boxes.some((b) => b.type === 'ftyp') ? 'MP4 has no moov box (index missing: an unfinished recording?)' : 'not an MP4 file (no ftyp/moov boxes)');
  if (!boxes.some((b) => b.type === 'mdat')) throw new Mp4Error('MP4 has no mdat box (no media data)');
  return { boxes, moov };
}

export interface Mp4Track {
  id: number;
  kind: 'video' | 'audio' | 'other';
  /** sample entry fourcc: avc1, hvc1, hev1, mp4a, ac-3 … */
  codec: string;
  timescale: number;
  durationSec: number;
  samples: number;
  width?: number;
  height?: number;
}

export interface Mp4Index {
  durationSec: number;
  tracks: Mp4Track[];
  /** presentation times (s) of the first video track's sync samples, ascending; [] without video */
  keyframes: number[];
  /** for each keyframe, how far (s) its presentation time lies after its decode time (B-frame delay) */
  keyframeLead: number[];
}

interface Box {
  type: string;
  start: number; // payload start
  end: number;
}

function children(buf: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  let p = start;
  while (p + 8 <= end) {
    let size = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    let header = 8;
    if (size === 1) {
      if (p + 16 > end) throw new Mp4Error(`corrupt moov: box ${type} header cut`);
      size = Number(buf.readBigUInt64BE(p + 8));
      header = 16;
    } else if (size === 0) size = end - p;
    if (size < header || p + size > end) throw new Mp4Error(`corrupt moov: box ${type} overruns its parent`);
    out.push({ type, start: p + header, end: p + size });
    p += size;
  }
  return out;
}

const child = (buf: Buffer, b: Box | undefined, type: string) => (b ? children(buf, b.start, b.end).find((c) => c.type === type) : undefined);

function need(b: Box, n: number, what: string): void {
  if (b.end - b.start < n) throw new Mp4Error(`corrupt moov: ${what} box too short`);
}

/** (timescale, duration) of an mvhd/mdhd box. */
function timing(buf: Buffer, b: Box, what: string): { timescale: number; duration: number } {
  need(b, 4, what);
  const v = buf[b.start]!;
  if (v === 1) {
    need(b, 32, what);
    return { timescale: buf.readUInt32BE(b.start + 20), duration: Number(buf.readBigUInt64BE(b.start + 24)) };
  }
  need(b, 20, what);
  return { timescale: buf.readUInt32BE(b.start + 12), duration: buf.readUInt32BE(b.start + 16) };
}

/** Parse a whole `moov` box (header included). */
export function parseMoov(moov: Buffer): Mp4Index {
  const top = children(moov, 0, moov.length)[0];
  if (!top || top.type !== 'moov') throw new Mp4Error('corrupt moov: not a moov box');
  const mvhd = child(moov, top, 'mvhd');
  if (!mvhd) throw new Mp4Error('corrupt moov: no mvhd');
  const mv = timing(moov, mvhd, 'mvhd');
  const tracks: Mp4Track[] = [];
  let keyframes: { pts: number[]; lead: number[] } | undefined;
  for (const trak of children(moov, top.start, top.end).filter((c) => c.type === 'trak')) {
    const tkhd = child(moov, trak, 'tkhd');
    const mdia = child(moov, trak, 'mdia');
    const mdhd = child(moov, mdia, 'mdhd');
    const hdlr = child(moov, mdia, 'hdlr');
    const stbl = child(moov, child(moov, mdia, 'minf'), 'stbl');
    if (!tkhd || !mdhd || !hdlr || !stbl) throw new Mp4Error('corrupt moov: a track lacks tkhd/mdhd/hdlr/stbl');
    need(hdlr, 12, 'hdlr');
    const handler = moov.toString('latin1', hdlr.start + 8, hdlr.start + 12);
    const kind = handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other';
    const md = timing(moov, mdhd, 'mdhd');
    if (!md.timescale) throw new Mp4Error('corrupt moov: a track has timescale 0');
    const id = moov[tkhd.start] === 1 ? moov.readUInt32BE(tkhd.start + 20) : moov.readUInt32BE(tkhd.start + 12);
    const stsd = child(moov, stbl, 'stsd');
    let codec = '';
    let width: number | undefined;
    let height: number | undefined;
    if (stsd && stsd.end - stsd.start >= 16) {
      codec = moov.toString('latin1', stsd.start + 12, stsd.start + 16);
      // visual sample entry: 8 (box header) + 6 reserved + 2 dref + 16 predefined → width, height
      if (kind === 'video' && stsd.end - stsd.start >= 8 + 8 + 32 + 4) {
        width = moov.readUInt16BE(stsd.start + 8 + 8 + 24);
        height = moov.readUInt16BE(stsd.start + 8 + 8 + 26);
      }
    }
    const stts = child(moov, stbl, 'stts');
    if (!stts) throw new Mp4Error('corrupt moov: a track has no stts');
    need(stts, 8, 'stts');
    const sttsCount = moov.readUInt32BE(stts.start + 4);
    if (stts.start + 8 + sttsCount * 8 > stts.end) throw new Mp4Error('corrupt moov: stts entries overrun the box');
    let samples = 0;
    for (let i = 0; i < sttsCount; i++) samples += moov.readUInt32BE(stts.start + 8 + i * 8);
    tracks.push({ id, kind, codec, timescale: md.timescale, durationSec: md.duration / md.timescale, samples, width, height });
    if (kind === 'video' && keyframes === undefined) keyframes = keyframeTimes(moov, trak, stbl, stts, sttsCount, samples, md.timescale);
  }
  const durationSec = mv.timescale ? mv.duration / mv.timescale : Math.max(0, ...tracks.map((t) => t.durationSec));
  return { durationSec: durationSec || Math.max(0, ...tracks.map((t) => t.durationSec)), tracks, keyframes: keyframes?.pts ?? [], keyframeLead: keyframes?.lead ?? [] };
}

/** Presentation times of sync samples: dts (stts) + composition offset (ctts) − the edit list's media start. */
function keyframeTimes(buf: Buffer, trak: Box, stbl: Box, stts: Box, sttsCount: number, samples: number, timescale: number): { pts: number[]; lead: number[] } {
  const stss = child(buf, stbl, 'stss');
  let sync: number[]; // 1-based sample numbers
  if (stss) {
    need(stss, 8, 'stss');
    const n = buf.readUInt32BE(stss.start + 4);
    if (stss.start + 8 + n * 4 > stss.end) throw new Mp4Error('corrupt moov: stss entries overrun the box');
    sync = new Array<number>(n);
    for (let i = 0; i < n; i++) sync[i] = buf.readUInt32BE(stss.start + 8 + i * 4);
  } else {
    sync = Array.from({ length: samples }, (_, i) => i + 1); // no stss: every sample is a sync sample
  }
  // composition offsets by run
  const ctts = child(buf, stbl, 'ctts');
  const cttsRuns: [number, number][] = [];
  if (ctts) {
    need(ctts, 8, 'ctts');
    const v = buf[ctts.start]!;
    const n = buf.readUInt32BE(ctts.start + 4);
    if (ctts.start + 8 + n * 8 > ctts.end) throw new Mp4Error('corrupt moov: ctts entries overrun the box');
    for (let i = 0; i < n; i++) {
      const o = ctts.start + 8 + i * 8;
      cttsRuns.push([buf.readUInt32BE(o), v === 1 ? buf.readInt32BE(o + 4) : buf.readUInt32BE(o + 4)]);
    }
  }
  // the edit list's first non-empty edit says where presentation starts in media time
  let mediaStart = 0;
  const elst = child(buf, child(buf, trak, 'edts'), 'elst');
  if (elst && elst.end - elst.start >= 8) {
    const v = buf[elst.start]!;
    const n = buf.readUInt32BE(elst.start + 4);
    const entry = v === 1 ? 20 : 12;
    for (let i = 0; i < n && elst.start + 8 + (i + 1) * entry <= elst.end; i++) {
      const o = elst.start + 8 + i * entry;
      const mt = v === 1 ? Number(buf.readBigInt64BE(o + 8)) : buf.readInt32BE(o + 4);
      if (mt >= 0) {
        mediaStart = mt;
        break;
      }
    }
  }
  const out: number[] = [];
  const lead: number[] = [];
  let k = 0; // index into sync
  let sample = 1;
  let dts = 0;
  let ci = 0;
  let cLeft = cttsRuns[0]?.[0] ?? 0;
  let cSample = 1; // first sample of the current ctts run position tracking
  const cttsAt = (s: number): number => {
    // advance the ctts cursor to sample s (samples are visited in ascending order)
    while (ci < cttsRuns.length && cSample + cLeft <= s) {
      cSample += cLeft;
      ci++;
      cLeft = cttsRuns[ci]?.[0] ?? 0;
    }
    return ci < cttsRuns.length ? cttsRuns[ci]![1] : 0;
  };
  for (let i = 0; i < sttsCount && k < sync.length; i++) {
    const count = buf.readUInt32BE(stts.start + 8 + i * 8);
    const delta = buf.readUInt32BE(stts.start + 12 + i * 8);
    const runEnd = sample + count; // exclusive
    while (k < sync.length && sync[k]! < runEnd) {
      const s = sync[k]!;
      if (s >= sample) {
        const c = cttsAt(s);
        out.push((dts + (s - sample) * delta + c - mediaStart) / timescale);
        lead.push(c / timescale);
      }
      k++;
    }
    dts += count * delta;
    sample = runEnd;
  }
  return { pts: out, lead }; // sync samples ascend in decode order, and so do keyframe presentation times
}

export interface VodSegment {
  start: number;
  duration: number;
  /** the next segment's keyframe decodes this long before it is shown: stop copying packets that much earlier */
  lead: number;
}

/** Cut [0, duration) on keyframes into segments of at least `target` seconds (the last may be shorter). */
export function planSegments(index: Mp4Index, target: number): VodSegment[] {
  const total = index.durationSec;
  if (!(total > 0)) return [];
  const cuts = [0];
  const leads = [0];
  if (index.keyframes.length) {
    index.keyframes.forEach((k, i) => {
      if (k - cuts.at(-1)! >= target && total - k > 0.05) {
        cuts.push(k);
        leads.push(index.keyframeLead[i] ?? 0);
      }
    });
  } else {
    for (let t = target; t < total - 0.05; t += target) {
      cuts.push(t); // audio only: every sample is a sync point
      leads.push(0);
    }
  }
  return cuts.map((s, i) => ({ start: s, duration: (cuts[i + 1] ?? total) - s, lead: leads[i + 1] ?? 0 }));
}
