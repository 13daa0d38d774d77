/**
 * DASH of a DVR archive (MPEG-TS recordings), as a static MPD:
 *
 *   /<stream>/archive-<from>-<duration>.mpd      static: the recorded segments that start in [from, from+duration)
 *   /<stream>/rewind-<seconds>.mpd               dynamic: a live window of the last <seconds> of the archive
 *   /<stream>/dvr-dash-<origin>/<rendition>-v|a/init-<segment start ms>.mp4 | <t>.m4s
 *
 * Each archived TS segment is remuxed on request into CMAF (src/media/mp4, no ffmpeg), cut to one track
 * and moved onto a timeline of the archive: t = (segment start − origin) in the track's timescale, so the
 * MPD needs nothing but the DVR index (start and duration of every segment). The origin is `from` for an
 * archive range and a fixed epoch (REWIND_ORIGIN_S) for rewind, whose timeline must not move between MPD
 * updates. A few remuxed segments are kept.
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
/** Origin of the rewind timeline: 2020-01-01T00:00:00Z (ms since then × 90 kHz stays an exact double). */
export const REWIND_ORIGIN_S = 1_577_836_800;
/** AAC sample rates: the timescale of an audio `t` is one of them. */
const AUDIO_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

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
    const { hourOf } = await import('../../protocol/layout.js');
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

  /**
   * MPD of the segments that start in [fromMs, fromMs + durMs): static for an archive range (origin =
   * from); with `rewind`, dynamic with a time-shift window of durMs (origin REWIND_ORIGIN_S).
   */
  async mpd(stream: ResolvedStream, fromS: number, durMs: number, rewind = false): Promise<string | null> {
    const fromMs = fromS * 1000;
    const originS = rewind ? REWIND_ORIGIN_S : fromS;
    const originMs = originS * 1000;
    const r = await this.rows(stream, fromMs, fromMs + durMs);
    if (r === null || r.rows.length === 0) return null;
    const firstRow = r.rows[0]!;
    const first = await this.remux(r.file(firstRow));
    if (first === null) return null;
    const codecs = first.init.codecs.split(',');
    const reps: { video: MpdRepresentation[]; audio: MpdRepresentation[] } = { video: [], audio: [] };
    for (const t of first.tracks) {
      const timeline: MpdSegment[] = r.rows.map((row) => ({ t: Math.round(((row.start - originMs) * t.timescale) / 1000), d: Math.round((row.dur * t.timescale) / 1000) }));
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
      type: rewind ? 'dynamic' : 'static',
      mediaPresentationDurationMs: last.start + last.dur - fromMs,
      availabilityStartTime: originMs,
      publishTime: last.start + last.dur,
      minimumUpdatePeriodMs: maxDur,
      timeShiftBufferDepthMs: durMs,
      maxSegmentDurationMs: maxDur,
      minBufferTimeMs: 2 * maxDur,
      suggestedPresentationDelayMs: 3 * maxDur,
      // the init of the first listed segment (codecs do not change inside one MPD's range, as a rule)
      initialization: `dvr-dash-${originS}/$RepresentationID$/init-${firstRow.start}.mp4`,
      media: `dvr-dash-${originS}/$RepresentationID$/$Time$.m4s`,
      video: reps.video,
      audio: reps.audio,
    });
  }

  private async track(stream: ResolvedStream, repId: string): Promise<'video' | 'audio' | null> {
    const m = /^(.+)-([va])$/.exec(repId);
    if (!m || m[1] !== stream.renditions[0]) return null;
    return m[2] === 'v' ? 'video' : 'audio';
  }

  /** `dvr-dash-<origin>/<rep>/init-<start ms>.mp4`: the init segment of the recorded segment starting then. */
  async init(stream: ResolvedStream, startMs: number, repId: string): Promise<Buffer | null> {
    const kind = await this.track(stream, repId);
    if (kind === null) return null;
    const r = await this.rows(stream, startMs, startMs + 1);
    const row = r?.rows[0];
    if (!r || !row) return null;
    const x = await this.remux(r.file(row));
    const t = x?.tracks.find((y) => y.kind === kind);
    return x && t ? initForTrack(x.init.data, t.id) : null;
  }

  /** `dvr-dash-<origin>/<rep>/<t>.m4s`: the recorded segment that starts at t (track timescale) after origin. */
  async segment(stream: ResolvedStream, originS: number, repId: string, t: number): Promise<Buffer | null> {
    const kind = await this.track(stream, repId);
    if (kind === null) return null;
    const originMs = originS * 1000;
    // the timescale is not in the URL: video is 90 kHz (this muxer), audio one of the AAC rates; starts are
    // whole ms, so the row whose start maps onto t in its track's own timescale is the one
    for (const scale of kind === 'video' ? [90000] : AUDIO_RATES) {
      const at = originMs + Math.floor((t * 1000) / scale);
      const near = await this.rows(stream, at - 1, at + 2);
      const row = near?.rows.find((x) => Math.round(((x.start - originMs) * scale) / 1000) === t);
      if (!near || row === undefined) continue;
      const remuxed = await this.remux(near.file(row));
      const tr = remuxed?.tracks.find((y) => y.kind === kind);
      const timing = tr && remuxed?.timing.get(tr.id);
      if (!remuxed || !tr || !timing || tr.timescale !== scale) continue;
      return segmentForTrack(remuxed.seg, tr.id, t - timing.start);
    }
    return null;
  }
}
