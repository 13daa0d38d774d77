/**
 * HLS playlists (RFC 8216) as pure functions returning strings.
 */

export interface PlaylistSegment {
  uri: string;
  durationMs: number;
  /** Wall-clock time of the segment's first sample, ms since the epoch (EXT-X-PROGRAM-DATE-TIME). */
  programDateTime?: number;
  /** EXT-X-DISCONTINUITY before this segment. */
  discontinuity?: boolean;
  /** fMP4: URI of the init segment (EXT-X-MAP, written when it differs from the previous segment's). */
  map?: string | undefined;
  /** LL-HLS: the segment's partial segments (EXT-X-PART before its EXTINF). */
  parts?: readonly PlaylistPart[] | undefined;
}

export interface PlaylistPart {
  uri: string;
  durationMs: number;
  /** Starts with a keyframe (INDEPENDENT=YES). */
  independent: boolean;
}

/** LL-HLS additions of a live media playlist (RFC 8216bis §4.4.3.7–4.4.5). */
export interface LowLatencyOptions {
  partTargetMs: number;
  /** Parts of the segment being written (after the last complete segment). */
  trailingParts: readonly PlaylistPart[];
  /** Tags that come before the first trailing part when that segment starts a discontinuity / new init. */
  trailingDiscontinuity?: boolean;
  trailingMap?: string | undefined;
  /** URI of the next part (EXT-X-PRELOAD-HINT), when known. */
  preloadHint?: string | undefined;
}

export interface MediaPlaylistOptions {
  /** Target duration in seconds (normally the configured segment duration); raised when a segment needs it. */
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence?: number;
  segments: readonly PlaylistSegment[];
  endList?: boolean;
  playlistType?: 'EVENT' | 'VOD';
  /** EXT-X-INDEPENDENT-SEGMENTS (every segment starts with a keyframe). */
  independentSegments?: boolean;
  lowLatency?: LowLatencyOptions | undefined;
}

/** PART-HOLD-BACK in part targets (the spec asks for at least 2; 3 is what it recommends). */
export const PART_HOLD_BACK_PARTS = 3;
/** CAN-SKIP-UNTIL in target durations (the spec's minimum: six). */
export const SKIP_UNTIL_TARGETS = 6;

function secs(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function partLine(p: PlaylistPart): string {
  return `#EXT-X-PART:DURATION=${secs(p.durationMs)},URI="${safeUri(p.uri).replace(/"/g, '%22')}"${p.independent ? ',INDEPENDENT=YES' : ''}`;
}

export interface VariantStream {
  uri: string;
  /** Peak bits per second. */
  bandwidth: number;
  averageBandwidth?: number;
  resolution?: { width: number; height: number } | string;
  codecs?: string;
  frameRate?: number;
}

export const HLS_VERSION = 3;

/** URIs end up on their own line: never let a control character split them. */
function safeUri(uri: string): string {
  // eslint-disable-next-line no-control-regex
  return uri.replace(/[\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
}

function nonNegInt(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** EXTINF value with 3 decimals (seconds). */
export function formatExtinf(durationMs: number): string {
  const ms = Number.isFinite(durationMs) && durationMs > 0 ? Math.round(durationMs) : 0;
  return (ms / 1000).toFixed(3);
}

/**
 * EXT-X-TARGETDURATION for these segments: at least `configured` (rounded up), and at least every EXTINF
 * rounded to the nearest integer (RFC 8216 §4.3.3.1), never below 1.
 */
export function computeTargetDuration(configured: number, durationsMs: Iterable<number>): number {
  let t = Number.isFinite(configured) && configured > 0 ? Math.ceil(configured - 1e-9) : 1;
  for (const d of durationsMs) {
    const r = Math.round(Number(formatExtinf(d)));
    if (r > t) t = r;
  }
  return Math.max(1, t);
}

function isoDate(ms: number): string | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function renderMediaPlaylist(opts: MediaPlaylistOptions): string {
  const segs = opts.segments;
  // EXT-X-MAP on a playlist that is not I-frames only needs version 6 (RFC 8216 §7); LL-HLS (with
  // EXT-X-SKIP in its delta updates) version 9
  const ll = opts.lowLatency;
  const version = ll !== undefined ? 9 : segs.some((s) => s.map !== undefined) ? 6 : HLS_VERSION;
  const lines: string[] = ['#EXTM3U', `#EXT-X-VERSION:${version}`];
  const target = computeTargetDuration(opts.targetDuration, segs.map((s) => s.durationMs));
  lines.push(`#EXT-X-TARGETDURATION:${target}`);
  if (ll !== undefined) {
    lines.push(`#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${secs(PART_HOLD_BACK_PARTS * ll.partTargetMs)},CAN-SKIP-UNTIL=${secs(SKIP_UNTIL_TARGETS * target * 1000)}`);
    lines.push(`#EXT-X-PART-INF:PART-TARGET=${secs(ll.partTargetMs)}`);
  }
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${nonNegInt(opts.mediaSequence)}`);
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${nonNegInt(opts.discontinuitySequence)}`);
  if (opts.playlistType !== undefined) lines.push(`#EXT-X-PLAYLIST-TYPE:${opts.playlistType}`);
  if (opts.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let map: string | undefined;
  for (const s of segs) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.map !== undefined && s.map !== map) {
      map = s.map;
      lines.push(`#EXT-X-MAP:URI="${safeUri(map).replace(/"/g, '%22')}"`);
    }
    if (s.programDateTime !== undefined) {
      const iso = isoDate(s.programDateTime);
      if (iso !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${iso}`);
    }
    if (s.parts !== undefined) for (const p of s.parts) lines.push(partLine(p));
    lines.push(`#EXTINF:${formatExtinf(s.durationMs)},`);
    lines.push(safeUri(s.uri));
  }
  if (ll !== undefined) {
    if (ll.trailingParts.length > 0) {
      if (ll.trailingDiscontinuity) lines.push('#EXT-X-DISCONTINUITY');
      if (ll.trailingMap !== undefined && ll.trailingMap !== map) lines.push(`#EXT-X-MAP:URI="${safeUri(ll.trailingMap).replace(/"/g, '%22')}"`);
      for (const p of ll.trailingParts) lines.push(partLine(p));
    }
    if (ll.preloadHint !== undefined) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${safeUri(ll.preloadHint).replace(/"/g, '%22')}"`);
  }
  if (opts.endList) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

function quoted(s: string): string {
  return `"${s.replace(/["\r\n]/g, '')}"`;
}

export function renderMasterPlaylist(variants: readonly VariantStream[]): string {
  const lines: string[] = ['#EXTM3U', `#EXT-X-VERSION:${HLS_VERSION}`];
  for (const v of variants) {
    const attrs: string[] = [`BANDWIDTH=${nonNegInt(Math.round(v.bandwidth))}`];
    if (v.averageBandwidth !== undefined && v.averageBandwidth > 0) attrs.push(`AVERAGE-BANDWIDTH=${Math.round(v.averageBandwidth)}`);
    if (v.resolution !== undefined) {
      const r = typeof v.resolution === 'string' ? v.resolution : `${Math.round(v.resolution.width)}x${Math.round(v.resolution.height)}`;
      if (/^\d+x\d+$/.test(r)) attrs.push(`RESOLUTION=${r}`);
    }
    if (v.codecs !== undefined && v.codecs !== '') attrs.push(`CODECS=${quoted(v.codecs)}`);
    if (v.frameRate !== undefined && Number.isFinite(v.frameRate) && v.frameRate > 0) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`);
    lines.push(safeUri(v.uri));
  }
  return lines.join('\n') + '\n';
}
