/**
 * Archive playlists straight from a segment table. A 7-day archive is 302,400 segments, so this renders
 * without an object per segment: one pass over the typed arrays, the hour directory prefix and the
 * EXTINF text cached, EXT-X-PROGRAM-DATE-TIME on the first segment and after every break.
 *
 * (src/media/hls/playlist.ts renders live playlists from segment objects; archive playlists are large,
 * so they have this columnar renderer of their own with the same output conventions.)
 */
import { HOUR_MS, hourDirRel } from './layout.js';
import { breakBefore } from './gaps.js';
import type { SegTable } from './table.js';

export type ArchivePlaylistKind = 'vod' | 'event' | 'live';

export interface ArchivePlaylistOptions {
  /**
   * vod: EXT-X-PLAYLIST-TYPE:VOD + EXT-X-ENDLIST; event: EXT-X-PLAYLIST-TYPE:EVENT, grows, no ENDLIST;
   * live: sliding window, media/discontinuity sequences from the records.
   */
  kind: ArchivePlaylistKind;
  /** prepended to `YYYY/MM/DD/HH/<start>-<dur>.ts` (e.g. `tracks-v1a1/`, or '' for a per-rendition playlist) */
  uriPrefix?: string;
  /** appended to every segment URI ('' or `?token=…`) */
  query?: string;
  /** rows [from, to) of the table (default: all) */
  from?: number;
  to?: number;
}

function extinf(ms: number): string {
  return `#EXTINF:${(ms / 1000).toFixed(3)},\n`;
}

export function renderArchivePlaylist(t: SegTable, opts: ArchivePlaylistOptions): string {
  const a = opts.from ?? 0;
  const b = opts.to ?? t.length;
  const prefix = opts.uriPrefix ?? '';
  const query = opts.query ?? '';
  let maxDur = 1000;
  for (let i = a; i < b; i++) if (t.dur[i]! > maxDur) maxDur = t.dur[i]!;
  const head = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${Math.ceil(maxDur / 1000)}`];
  if (opts.kind === 'live' && b > a) {
    head.push(`#EXT-X-MEDIA-SEQUENCE:${t.seq[a]}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${t.dseq[a]}`);
  } else {
    head.push('#EXT-X-MEDIA-SEQUENCE:0');
  }
  if (opts.kind === 'vod') head.push('#EXT-X-PLAYLIST-TYPE:VOD');
  else if (opts.kind === 'event') head.push('#EXT-X-PLAYLIST-TYPE:EVENT');
  head.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let out = head.join('\n') + '\n';
  const infCache = new Map<number, string>();
  let curHour = NaN;
  let hourPrefix = '';
  for (let i = a; i < b; i++) {
    const start = t.start[i]!;
    const dur = t.dur[i]!;
    const brk = i > a && breakBefore(t, i);
    if (brk) out += '#EXT-X-DISCONTINUITY\n';
    if (i === a || brk) out += `#EXT-X-PROGRAM-DATE-TIME:${new Date(start).toISOString()}\n`;
    let inf = infCache.get(dur);
    if (inf === undefined) {
      inf = extinf(dur);
      infCache.set(dur, inf);
    }
    const hour = Math.floor(start / HOUR_MS);
    if (hour !== curHour) {
      curHour = hour;
      hourPrefix = `${prefix}${hourDirRel(hour)}/`;
    }
    out += `${inf}${hourPrefix}${start}-${dur}.ts${query}\n`;
  }
  if (opts.kind === 'vod') out += '#EXT-X-ENDLIST\n';
  return out;
}

export interface ArchiveVariant {
  uri: string;
  /** peak bit/s */
  bandwidth: number;
  averageBandwidth?: number;
}

/** A master playlist pointing at per-rendition archive playlists. */
export function renderArchiveMaster(variants: ArchiveVariant[]): string {
  let out = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n';
  for (const v of variants) {
    const avg = v.averageBandwidth ? `,AVERAGE-BANDWIDTH=${Math.max(1, Math.round(v.averageBandwidth))}` : '';
    out += `#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, Math.round(v.bandwidth))}${avg}\n${v.uri}\n`;
  }
  return out;
}

/** Peak and average bit/s of rows [a, b). */
export function bandwidthOf(t: SegTable, a = 0, b = t.length): { peak: number; average: number } {
  let peak = 0;
  let bytes = 0;
  let ms = 0;
  for (let i = a; i < b; i++) {
    const d = t.dur[i]!;
    if (d > 0) peak = Math.max(peak, (t.bytes[i]! * 8000) / d);
    bytes += t.bytes[i]!;
    ms += d;
  }
  return { peak: Math.round(peak), average: ms > 0 ? Math.round((bytes * 8000) / ms) : 0 };
}
