/**
 * DASH of a DVR archive (MPEG-TS recordings), as a static MPD:
 *
 *   /<stream>/archive-<from>-<duration>.mpd      the recorded segments that start in [from, from+duration)
 *   /<stream>/rewind-<seconds>.mpd               the same for the last <seconds> (a snapshot, type static)
 *   /<stream>/dvr-dash-<from>/<rendition>-v|a/init.mp4 | <t>.m4s
 *
 * Each archived TS segment is remuxed on request into CMAF (src/media/mp4, no ffmpeg), cut to one track
 * and moved onto the archive's timeline: t = (segment start − from) in the track's timescale, so the MPD
 * needs nothing but the DVR index (start and duration of every segment). A few remuxed segments are kept.
 */
import { readFile } from 'node:fs/promises';
import type { ResolvedStream } from '../../config/model.js';
import { renderMpd, type MpdRepresentation, type MpdSegment } from '../../media/dash/mpd.js';
import { CmafSegmenter, type CmafInit } from '../../media/mp4/cmaf-segmenter.js';
import { initForTrack, initTracks, segmentForTrack, segmentTiming, type InitTrack, type TrackTiming } from '../../media/mp4/split.js';

interface Remuxed {
  init: CmafInit;
  seg: Buffer;
  tracks: InitTrack[];
  timing: Map<number, TrackTiming>;
}

interface Row {
  start: number;
  dur: number;
}

/** Longest archive span one MPD lists (a day): bigger asks are a 400 upstream. */
export const MAX_ARCHIVE_MPD_MS = 24 * 3600 * 1000;

/** The whole TS segment as one CMAF segment (first init); null when it has no usable keyframe. */
export function remuxTsSegment(ts: Buffer): Remuxed | null {
  let init: CmafInit | null = null;
  const parts: Buffer[] = [];
  const s = new CmafSegmenter(
    {
      init: (i) => {
        init ??= i;
      },
      openSegment: () => undefined,
      part: (p) => {
        if (init !== null) parts.push(p.data);
      },
      closeSegment: () => undefined,
    },
    // one segment for the whole file: its keyframes must not cut it
    { targetDurationMs: 1e9, maxDurationMs: 1e9, audioWaitMs: 500 },
  );
  s.push(ts);
  s.flush();
  const i = init as CmafInit | null;
  if (i === null || parts.length === 0) return null;
  const seg = Buffer.concat(parts);
  const tracks = initTracks(i.data);
  const timing = segmentTiming(seg);
  if (tracks === null || timing === null) return null;
  return { init: i, seg, tracks, timing };
}

export class DashArchive {
  private readonly remuxed = new Map<string, Promise<Remuxed | null>>();

  private async rows(stream: ResolvedStream, fromMs: number, toMs: number): Promise<{ rendition: string; rows: Row[]; file: (r: Row) => string } | null> {
    const rendition = stream.renditions[0];
    if (rendition === undefined || !stream.dvr) return null;
    const { archiveFor } = await import('../../dvr/archive.js');
    const { hourOf } = await import('../../dvr/layout.js');
    const archive = archiveFor(stream.root);
    const rows: Row[] = [];
    for (let h = hourOf(fromMs); h <= hourOf(toMs - 1); h++) {
      const { table } = await archive.hour(rendition, h);
      for (let i = 0; i < table.length; i++) {
        const start = table.start[i]!;
        if (start >= fromMs && start < toMs) rows.push({ start, dur: table.dur[i]! });
      }
    }
    rows.sort((a, b) => a.start - b.start);
    return { rendition, rows, file: (r) => archive.segmentPath(rendition, r.start, r.dur) };
  }

  private remux(file: string): Promise<Remuxed | null> {
    let p = this.remuxed.get(file);
    if (p === undefined) {
      p = readFile(file).then(
        (ts) => remuxTsSegment(ts),
        () => null,
      );
      this.remuxed.set(file, p);
      if (this.remuxed.size > 32) this.remuxed.delete(this.remuxed.keys().next().value!);
    }
    return p;
  }

  /** Static MPD of [fromMs, fromMs + durMs); `base` is the path prefix of its segments (`dvr-dash-<from>`). */
  async mpd(stream: ResolvedStream, fromS: number, durMs: number): Promise<string | null> {
    const fromMs = fromS * 1000;
    const r = await this.rows(stream, fromMs, fromMs + durMs);
    if (r === null || r.rows.length === 0) return null;
    const first = await this.remux(r.file(r.rows[0]!));
    if (first === null) return null;
    const codecs = first.init.codecs.split(',');
    const reps: { video: MpdRepresentation[]; audio: MpdRepresentation[] } = { video: [], audio: [] };
    for (const t of first.tracks) {
      const timeline: MpdSegment[] = r.rows.map((row) => ({ t: Math.round(((row.start - fromMs) * t.timescale) / 1000), d: Math.round((row.dur * t.timescale) / 1000) }));
      const mt = first.init.tracks.find((x) => x.id === t.id);
      const tt = first.timing.get(t.id);
      const secs = tt ? tt.duration / t.timescale : 0;
      const rep: MpdRepresentation = {
        id: `${r.rendition}-${t.kind === 'video' ? 'v' : 'a'}`,
        bandwidth: tt && secs > 0 ? (tt.bytes * 8) / secs : 1,
        codecs: codecs.find((c) => (t.kind === 'audio' ? c.startsWith('mp4a') : !c.startsWith('mp4a'))) ?? '',
        timescale: t.timescale,
        timeline,
      };
      if (mt?.kind === 'video') {
        rep.width = mt.width;
        rep.height = mt.height;
        reps.video.push(rep);
      } else if (mt?.kind === 'audio') {
        rep.audioSamplingRate = mt.sampleRate;
        reps.audio.push(rep);
      }
    }
    const last = r.rows[r.rows.length - 1]!;
    const maxDur = r.rows.reduce((m, x) => Math.max(m, x.dur), 0);
    return renderMpd({
      type: 'static',
      mediaPresentationDurationMs: last.start + last.dur - fromMs,
      availabilityStartTime: fromMs,
      publishTime: last.start + last.dur,
      minimumUpdatePeriodMs: 0,
      timeShiftBufferDepthMs: 0,
      maxSegmentDurationMs: maxDur,
      minBufferTimeMs: 2 * maxDur,
      suggestedPresentationDelayMs: 0,
      initialization: `dvr-dash-${fromS}/$RepresentationID$/init.mp4`,
      media: `dvr-dash-${fromS}/$RepresentationID$/$Time$.m4s`,
      video: reps.video,
      audio: reps.audio,
    });
  }

  private async track(stream: ResolvedStream, repId: string): Promise<'video' | 'audio' | null> {
    const m = /^(.+)-([va])$/.exec(repId);
    if (!m || m[1] !== stream.renditions[0]) return null;
    return m[2] === 'v' ? 'video' : 'audio';
  }

  /** `dvr-dash-<from>/<rep>/init.mp4`: of the first recorded segment at or after from (within an hour). */
  async init(stream: ResolvedStream, fromS: number, repId: string): Promise<Buffer | null> {
    const kind = await this.track(stream, repId);
    if (kind === null) return null;
    const r = await this.rows(stream, fromS * 1000, fromS * 1000 + 3_600_000);
    const row = r?.rows[0];
    if (!r || !row) return null;
    const x = await this.remux(r.file(row));
    const t = x?.tracks.find((y) => y.kind === kind);
    return x && t ? initForTrack(x.init.data, t.id) : null;
  }

  /** `dvr-dash-<from>/<rep>/<t>.m4s`: the segment that starts at t (track timescale) after from. */
  async segment(stream: ResolvedStream, fromS: number, repId: string, t: number): Promise<Buffer | null> {
    const kind = await this.track(stream, repId);
    if (kind === null) return null;
    const fromMs = fromS * 1000;
    // the track's timescale (video 90 kHz, audio its sample rate) comes from the first recorded segment,
    // as in the MPD; segment starts are whole ms, so one row maps onto t
    const head = await this.rows(stream, fromMs, fromMs + 3_600_000);
    const firstRow = head?.rows[0];
    if (!head || !firstRow) return null;
    const first = await this.remux(head.file(firstRow));
    const scale = first?.tracks.find((y) => y.kind === kind)?.timescale;
    if (scale === undefined) return null;
    const at = fromMs + Math.floor((t * 1000) / scale);
    const near = await this.rows(stream, at - 1, at + 2);
    const row = near?.rows.find((x) => Math.round(((x.start - fromMs) * scale) / 1000) === t);
    if (!near || row === undefined) return null;
    const remuxed = await this.remux(near.file(row));
    const tr = remuxed?.tracks.find((y) => y.kind === kind);
    const timing = tr && remuxed?.timing.get(tr.id);
    if (!remuxed || !tr || !timing) return null;
    return segmentForTrack(remuxed.seg, tr.id, t - timing.start);
  }
}
