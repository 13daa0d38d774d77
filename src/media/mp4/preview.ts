/**
 * One-frame MP4 (`preview.mp4`): the first keyframe of a segment, remuxed without decoding into an init
 * segment (video track only) + one fragment holding that one sample. From an MPEG-TS segment (demuxed
 * here) or from a CMAF segment and its init segment (the first video sample of the first fragment).
 */
import { Buffer } from 'node:buffer';
import { splitAnnexB } from '../codec/annexb.js';
import { TsDemuxer } from '../ts/demuxer.js';
import { buildFragment } from './fragment.js';
import { buildInitSegment, videoTrackFromParams } from './init.js';

/** A keyframe shown for one frame at 25 fps when the stream does not say otherwise. */
const FRAME_90K = 3600;

/** The first keyframe of a TS segment as a one-frame MP4, or null (no H.264/H.265 keyframe with parameter sets). */
export function previewFromTs(ts: Buffer): Buffer | null {
  let out: Buffer | null = null;
  const demux = new TsDemuxer(
    {
      pes(track, payload) {
        if (out !== null || track.kind !== 'video' || !track.keyframe) return;
        const codec = track.codec;
        if (codec !== 'h264' && codec !== 'h265') return;
        const h265 = codec === 'h265';
        const copy = Buffer.from(payload);
        const vps: Uint8Array[] = [];
        const sps: Uint8Array[] = [];
        const pps: Uint8Array[] = [];
        const chunks: Uint8Array[] = [];
        for (const nal of splitAnnexB(copy, codec)) {
          const t = nal.type;
          if (h265 ? t === 35 || t === 38 : t === 9 || t === 12) continue;
          const b = copy.subarray(nal.start, nal.end);
          if (h265 && t === 32) vps.push(b);
          else if (h265 ? t === 33 : t === 7) sps.push(b);
          else if (h265 ? t === 34 : t === 8) pps.push(b);
          chunks.push(b);
        }
        const v = videoTrackFromParams(1, codec, vps, sps, pps);
        if (v === null) return;
        const fd = track.frameDuration > 0 ? track.frameDuration : FRAME_90K;
        // the one sample is shown from time 0 (no composition offset: nothing comes before it)
        out = Buffer.concat([buildInitSegment([v]), buildFragment(1, [{ id: 1, lengthPrefixed: true, samples: [{ dts: 0, cto: 0, duration: fd, key: true, chunks }] }])]);
      },
    },
    { reassemble: true },
  );
  // Stop early: a keyframe starts the segment, so a few hundred kB are enough in practice.
  for (let o = 0; o < ts.length && out === null; o += 188 * 512) demux.push(ts.subarray(o, Math.min(ts.length, o + 188 * 512)));
  if (out === null) demux.flush();
  return out;
}

interface Box {
  type: string;
  start: number;
  end: number;
}

function children(b: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  let o = start;
  while (o + 8 <= end) {
    const size = b.readUInt32BE(o);
    if (size < 8 || o + size > end) break;
    out.push({ type: b.toString('latin1', o + 4, o + 8), start: o, end: o + size });
    o += size;
  }
  return out;
}

const child = (b: Buffer, box: Box | undefined, type: string, skip = 8): Box | undefined => (box === undefined ? undefined : children(b, box.start + skip, box.end).find((x) => x.type === type));

/**
 * The first sample of the video track of a CMAF segment (its first fragment) as a one-frame MP4 with
 * the given init segment; null when there is no video track or the boxes do not add up.
 */
export function previewFromCmaf(init: Buffer, segment: Buffer): Buffer | null {
  try {
    const moov = children(init, 0, init.length).find((x) => x.type === 'moov');
    if (moov === undefined) return null;
    let videoId = -1;
    for (const trak of children(init, moov.start + 8, moov.end).filter((x) => x.type === 'trak')) {
      const hdlr = child(init, child(init, trak, 'mdia'), 'hdlr');
      const tkhd = child(init, trak, 'tkhd');
      if (hdlr === undefined || tkhd === undefined) continue;
      if (init.toString('latin1', hdlr.start + 16, hdlr.start + 20) !== 'vide') continue;
      videoId = init.readUInt32BE(tkhd.start + (init[tkhd.start + 8] === 1 ? 28 : 20));
      break;
    }
    if (videoId < 0) return null;
    const top = children(segment, 0, segment.length);
    const moof = top.find((x) => x.type === 'moof');
    if (moof === undefined) return null;
    for (const traf of children(segment, moof.start + 8, moof.end).filter((x) => x.type === 'traf')) {
      const tfhd = child(segment, traf, 'tfhd');
      const trun = child(segment, traf, 'trun');
      if (tfhd === undefined || trun === undefined || segment.readUInt32BE(tfhd.start + 12) !== videoId) continue;
      const flags = segment.readUInt32BE(trun.start + 8) & 0xffffff;
      // what this muxer writes: data offset, duration, size, flags, composition offset per sample
      if ((flags & 0xf01) !== 0xf01 || segment.readUInt32BE(trun.start + 12) < 1) return null;
      const dataOffset = moof.start + segment.readInt32BE(trun.start + 16);
      const duration = segment.readUInt32BE(trun.start + 20);
      const size = segment.readUInt32BE(trun.start + 24);
      if (dataOffset < 0 || dataOffset + size > segment.length) return null;
      const data = segment.subarray(dataOffset, dataOffset + size);
      return Buffer.concat([init, buildFragment(1, [{ id: videoId, lengthPrefixed: false, samples: [{ dts: 0, cto: 0, duration, key: true, chunks: [data] }] }])]);
    }
    return null;
  } catch {
    return null; // truncated boxes: no preview rather than a crash
  }
}
