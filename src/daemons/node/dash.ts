/**
 * DASH for fMP4 streams, from the same CMAF files as HLS (one copy on disk):
 *
 *   /<stream>/index.mpd                          live MPD: every rendition's video + the first one's audio
 *   /<stream>/dash/<rendition>-v|a/init.mp4      that track of the rendition's init segment
 *   /<stream>/dash/<rendition>-v|a/<t>.m4s       that track of the segment starting at media time t
 *
 * dash.js plays one track per representation, so the agent cuts the track out of the multiplexed
 * segment on request (src/media/mp4/split.ts). The timeline is the live window of each rendition's
 * playlist after its last discontinuity; `t` values are the tracks' own decode times (tfdt), and
 * availabilityStartTime is the program date time of the first listed segment minus its media time, so a
 * segment becomes available when the writer names it; publishTime is when the newest one ended.
 */
import path from 'node:path';
import type { ResolvedStream } from '../../config/model.js';
import { safeJoin } from '../../core/paths.js';
import { renderMpd, type MpdRepresentation, type MpdSegment } from '../../media/dash/mpd.js';
import { initForTrack, initTracks, segmentForTrack, segmentTiming, type InitTrack, type TrackTiming } from '../../media/mp4/split.js';
import type { FileCache } from './http/file-cache.js';

interface WindowSegment {
  uri: string;
  pdt: number;
  map: string;
}

interface RenditionView {
  rendition: string;
  init: Buffer;
  tracks: InitTrack[];
  segments: { uri: string; pdt: number; timing: Map<number, TrackTiming> }[];
  variant: { bandwidth?: number; codecs?: string[]; width?: number; height?: number; frameRate?: number };
  targetMs: number;
}

const SEGMENT_URI = /^\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{1,16}-\d{1,9}\.m4s$/;
const INIT_URI = /^init-[0-9a-f]{12}\.mp4$/;

/** Segments after the last discontinuity (and under one init), with their program date time. */
export function windowOf(text: string): { segments: WindowSegment[]; targetMs: number } {
  let segs: WindowSegment[] = [];
  let pdt = Number.NaN;
  let map: string | undefined;
  let targetMs = 1000;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) targetMs = Number(line.slice(22)) * 1000 || 1000;
    else if (line === '#EXT-X-DISCONTINUITY') segs = [];
    else if (line.startsWith('#EXT-X-MAP:')) {
      const m = /URI="([^"]+)"/.exec(line)?.[1];
      if (m !== map) segs = [];
      map = m;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line !== '' && !line.startsWith('#')) {
      if (map !== undefined && INIT_URI.test(map) && SEGMENT_URI.test(line) && pdt === pdt) segs.push({ uri: line, pdt, map });
      pdt = Number.NaN;
    }
  }
  return { segments: segs, targetMs };
}

/** BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE of the variant `tracks-<r>/index.m3u8` in a master playlist. */
export function variantOf(master: string, rendition: string): RenditionView['variant'] {
  const lines = master.split('\n');
  const i = lines.findIndex((l) => l.trim() === `tracks-${rendition}/index.m3u8`);
  const inf = i > 0 ? lines[i - 1]! : '';
  const out: RenditionView['variant'] = {};
  const bw = /[:,]BANDWIDTH=(\d+)/.exec(inf);
  if (bw) out.bandwidth = Number(bw[1]);
  const c = /CODECS="([^"]+)"/.exec(inf);
  if (c) out.codecs = c[1]!.split(',');
  const r = /RESOLUTION=(\d+)x(\d+)/.exec(inf);
  if (r) {
    out.width = Number(r[1]);
    out.height = Number(r[2]);
  }
  const f = /FRAME-RATE=([\d.]+)/.exec(inf);
  if (f) out.frameRate = Number(f[1]);
  return out;
}

export class DashServer {
  private readonly timings = new Map<string, Map<number, TrackTiming>>();
  private readonly cuts = new Map<string, Buffer>();

  constructor(
    private readonly playlists: FileCache,
    private readonly segments: FileCache,
  ) {}

  private async read(cache: FileCache, file: string): Promise<Buffer | null> {
    const e = cache.peek(file) ?? (await cache.load(file));
    if (e === null) return null;
    if (e.body !== null) return e.body;
    const { readFile } = await import('node:fs/promises');
    return readFile(file).catch(() => null);
  }

  private async view(stream: ResolvedStream, rendition: string, master: string): Promise<RenditionView | null> {
    const dir = safeJoin(stream.root, rendition);
    const pl = await this.read(this.playlists, path.join(dir, 'index.m3u8'));
    if (pl === null) return null;
    const w = windowOf(pl.toString('utf8'));
    if (w.segments.length === 0) return null;
    const init = await this.read(this.segments, safeJoin(dir, w.segments[0]!.map));
    const tracks = init === null ? null : initTracks(init);
    if (init === null || tracks === null) return null;
    const segments: RenditionView['segments'] = [];
    for (const s of w.segments) {
      const file = safeJoin(dir, ...s.uri.split('/'));
      let timing = this.timings.get(file);
      if (timing === undefined) {
        const data = await this.read(this.segments, file);
        const t = data === null ? null : segmentTiming(data);
        if (t === null) continue;
        timing = t;
        this.timings.set(file, t);
        if (this.timings.size > 1024) this.timings.delete(this.timings.keys().next().value!);
      }
      segments.push({ uri: s.uri, pdt: s.pdt, timing });
    }
    if (segments.length === 0) return null;
    return { rendition, init, tracks, segments, variant: variantOf(master, rendition), targetMs: w.targetMs };
  }

  /** The live MPD, or null when no rendition has a CMAF segment yet. */
  async mpd(stream: ResolvedStream): Promise<string | null> {
    const masterBuf = await this.read(this.playlists, safeJoin(stream.root, 'index.m3u8'));
    const master = masterBuf?.toString('utf8') ?? '';
    const views: RenditionView[] = [];
    for (const r of stream.renditions) {
      const v = await this.view(stream, r, master);
      if (v !== null) views.push(v);
    }
    const first = views[0];
    if (first === undefined) return null;
    const anchorTrack = first.tracks.find((t) => t.kind === 'video') ?? first.tracks[0]!;
    const anchor = first.segments[0]!;
    const anchorStart = anchor.timing.get(anchorTrack.id);
    if (anchorStart === undefined) return null;
    const ast = anchor.pdt - (anchorStart.start / anchorTrack.timescale) * 1000;
    const rep = (v: RenditionView, t: InitTrack, id: string): MpdRepresentation | null => {
      const timeline: MpdSegment[] = [];
      let bytes = 0;
      for (const s of v.segments) {
        const x = s.timing.get(t.id);
        if (x === undefined) continue;
        timeline.push({ t: x.start, d: x.duration });
        bytes += x.bytes;
      }
      if (timeline.length === 0) return null;
      const secs = timeline.reduce((n, s) => n + s.d, 0) / t.timescale;
      const codecs = v.variant.codecs?.find((c) => (t.kind === 'audio' ? c.startsWith('mp4a') : !c.startsWith('mp4a')));
      const r: MpdRepresentation = { id, bandwidth: secs > 0 ? (bytes * 8) / secs : 1, codecs: codecs ?? (t.kind === 'audio' ? 'mp4a.40.2' : 'avc1.42e01e'), timescale: t.timescale, timeline };
      if (t.kind === 'video') {
        if (v.variant.width !== undefined && v.variant.height !== undefined) {
          r.width = v.variant.width;
          r.height = v.variant.height;
        }
        if (v.variant.frameRate !== undefined) r.frameRate = v.variant.frameRate;
      } else {
        r.audioSamplingRate = t.timescale;
      }
      return r;
    };
    const video: MpdRepresentation[] = [];
    for (const v of views) {
      const t = v.tracks.find((x) => x.kind === 'video');
      const r = t && rep(v, t, `${v.rendition}-v`);
      if (r) video.push(r);
    }
    const audio: MpdRepresentation[] = [];
    const at = first.tracks.find((x) => x.kind === 'audio');
    const ar = at && rep(first, at, `${first.rendition}-a`);
    if (ar) audio.push(ar);
    const windowMs = first.segments.reduce((n, s) => n + (s.timing.get(anchorTrack.id)?.duration ?? 0), 0) / anchorTrack.timescale * 1000;
    // publishTime: the program date time at which the newest listed segment ends (when it was named)
    const last = first.segments[first.segments.length - 1]!;
    const publish = last.pdt + ((last.timing.get(anchorTrack.id)?.duration ?? 0) / anchorTrack.timescale) * 1000;
    return renderMpd({
      availabilityStartTime: Math.round(ast),
      publishTime: Math.round(publish),
      minimumUpdatePeriodMs: first.targetMs,
      timeShiftBufferDepthMs: Math.max(first.targetMs, windowMs),
      maxSegmentDurationMs: first.targetMs,
      minBufferTimeMs: 2 * first.targetMs,
      suggestedPresentationDelayMs: 3 * first.targetMs,
      initialization: 'dash/$RepresentationID$/init.mp4',
      media: 'dash/$RepresentationID$/$Time$.m4s',
      video,
      audio,
    });
  }

  private async track(stream: ResolvedStream, repId: string): Promise<{ v: RenditionView; t: InitTrack } | null> {
    const m = /^(.+)-([va])$/.exec(repId);
    if (!m || !stream.renditions.includes(m[1]!)) return null;
    const v = await this.view(stream, m[1]!, '');
    const t = v?.tracks.find((x) => x.kind === (m[2] === 'v' ? 'video' : 'audio'));
    return v && t ? { v, t } : null;
  }

  /** `dash/<rendition>-v|a/init.mp4` */
  async init(stream: ResolvedStream, repId: string): Promise<Buffer | null> {
    const x = await this.track(stream, repId);
    return x === null ? null : initForTrack(x.v.init, x.t.id);
  }

  /** `dash/<rendition>-v|a/<t>.m4s`: the track of the window segment whose track starts at t. */
  async segment(stream: ResolvedStream, repId: string, t: number): Promise<Buffer | null> {
    const x = await this.track(stream, repId);
    if (x === null) return null;
    const s = x.v.segments.find((seg) => seg.timing.get(x.t.id)?.start === t);
    if (s === undefined) return null;
    const file = safeJoin(stream.root, x.v.rendition, ...s.uri.split('/'));
    const key = `${file}\u0000${x.t.id}`;
    let out = this.cuts.get(key);
    if (out === undefined) {
      const data = await this.read(this.segments, file);
      const cut = data === null ? null : segmentForTrack(data, x.t.id);
      if (cut === null) return null;
      out = cut;
      this.cuts.set(key, out);
      if (this.cuts.size > 64) this.cuts.delete(this.cuts.keys().next().value!);
    }
    return out;
  }
}
