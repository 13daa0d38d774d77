/**
 * DASH live MPD (ISO/IEC 23009-1, isoff-live profile) as a pure function: one Period, a video
 * AdaptationSet with a Representation per rendition and an audio AdaptationSet, each Representation
 * with a SegmentTemplate ($RepresentationID$, $Time$) and a SegmentTimeline (runs folded with @r).
 */

export interface MpdSegment {
  /** Start in the representation's timescale. */
  t: number;
  d: number;
}

export interface MpdRepresentation {
  id: string;
  bandwidth: number;
  codecs: string;
  timescale: number;
  timeline: readonly MpdSegment[];
  width?: number;
  height?: number;
  frameRate?: number;
  audioSamplingRate?: number;
}

export interface MpdOptions {
  /** static: a recording (DVR), with its whole duration; dynamic (default): live. */
  type?: 'static' | 'dynamic';
  mediaPresentationDurationMs?: number;
  /** Wall-clock ms of media time 0 (ms since the epoch). */
  availabilityStartTime: number;
  publishTime: number;
  minimumUpdatePeriodMs: number;
  timeShiftBufferDepthMs: number;
  maxSegmentDurationMs: number;
  minBufferTimeMs: number;
  suggestedPresentationDelayMs: number;
  /** `$RepresentationID$`-based templates, relative to the MPD. */
  initialization: string;
  media: string;
  video: readonly MpdRepresentation[];
  audio: readonly MpdRepresentation[];
}

/** xs:duration with millisecond precision: PT2.5S. */
export function isoDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms)) / 1000;
  return `PT${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}S`;
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function timeline(segs: readonly MpdSegment[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < segs.length) {
    const s = segs[i]!;
    let r = 0;
    while (i + r + 1 < segs.length && segs[i + r + 1]!.d === s.d && segs[i + r + 1]!.t === s.t + (r + 1) * s.d) r++;
    out.push(`          <S t="${Math.round(s.t)}" d="${Math.round(s.d)}"${r > 0 ? ` r="${r}"` : ''}/>`);
    i += r + 1;
  }
  return out;
}

function representation(r: MpdRepresentation, o: MpdOptions): string[] {
  const a = [`id="${attr(r.id)}"`, `bandwidth="${Math.max(1, Math.round(r.bandwidth))}"`, `codecs="${attr(r.codecs)}"`];
  if (r.width !== undefined && r.height !== undefined) a.push(`width="${r.width}"`, `height="${r.height}"`);
  if (r.frameRate !== undefined) a.push(`frameRate="${Math.round(r.frameRate * 1000) / 1000}"`);
  if (r.audioSamplingRate !== undefined) a.push(`audioSamplingRate="${r.audioSamplingRate}"`);
  return [
    `      <Representation ${a.join(' ')}>`,
    `        <SegmentTemplate timescale="${r.timescale}" initialization="${attr(o.initialization)}" media="${attr(o.media)}">`,
    '        <SegmentTimeline>',
    ...timeline(r.timeline),
    '        </SegmentTimeline>',
    '        </SegmentTemplate>',
    '      </Representation>',
  ];
}

export function renderMpd(o: MpdOptions): string {
  const head =
    o.type === 'static'
      ? `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static"` +
        ` mediaPresentationDuration="${isoDuration(o.mediaPresentationDurationMs ?? 0)}" maxSegmentDuration="${isoDuration(o.maxSegmentDurationMs)}"` +
        ` minBufferTime="${isoDuration(o.minBufferTimeMs)}">`
      : undefined;
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    head ??
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic"` +
      ` availabilityStartTime="${new Date(o.availabilityStartTime).toISOString()}" publishTime="${new Date(o.publishTime).toISOString()}"` +
      ` minimumUpdatePeriod="${isoDuration(o.minimumUpdatePeriodMs)}" timeShiftBufferDepth="${isoDuration(o.timeShiftBufferDepthMs)}"` +
      ` maxSegmentDuration="${isoDuration(o.maxSegmentDurationMs)}" minBufferTime="${isoDuration(o.minBufferTimeMs)}"` +
      ` suggestedPresentationDelay="${isoDuration(o.suggestedPresentationDelayMs)}">`,
    '  <Period id="0" start="PT0S">',
  ];
  let id = 0;
  if (o.video.length > 0) {
    lines.push(`    <AdaptationSet id="${id++}" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">`);
    for (const r of o.video) lines.push(...representation(r, o));
    lines.push('    </AdaptationSet>');
  }
  if (o.audio.length > 0) {
    lines.push(`    <AdaptationSet id="${id++}" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1" lang="und">`);
    for (const r of o.audio) lines.push(...representation(r, o));
    lines.push('    </AdaptationSet>');
  }
  lines.push('  </Period>', '</MPD>');
  return lines.join('\n') + '\n';
}
