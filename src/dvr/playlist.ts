/**
 * Archive playlists straight from a segment table. A 7-day archive is 302,400 segments, so this renders
 * without an object per segment: one pass over the typed arrays, the hour directory prefix and the
 * EXTINF text cached, EXT-X-PROGRAM-DATE-TIME on the first segment and after every break.
 *
 * (src/media/hls/playlist.ts renders live playlists from segment objects; archive playlists are large,
 * so they have this columnar renderer of their own with the same output conventions.)
 */
import { HOUR_MS, hourDirRel } from '../protocol/layout.js';
import { isBreak } from './gaps.js';
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

/** Decimal digits of a non-negative integer < 2^53 written at buf[pos]; returns the new position. */
function writeUint(buf: Buffer, pos: number, v: number): number {
  if (v < 10) {
    buf[pos] = 48 + v;
    return pos + 1;
  }
  // two halves keep the digit loop in small integers
  const hi = Math.floor(v / 1e8);
  let lo = v - hi * 1e8;
  let n = 0;
  if (hi > 0) {
    let h = hi;
    let d = 0;
    while (h > 0) {
      d++;
      h = Math.floor(h / 10);
    }
    h = hi;
    for (let i = d - 1; i >= 0; i--) {
      buf[pos + i] = 48 + (h % 10);
      h = Math.floor(h / 10);
    }
    pos += d;
    n = 8; // lo is zero-padded to 8 digits
  } else {
    let l = lo;
    while (l > 0) {
      n++;
      l = Math.floor(l / 10);
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    buf[pos + i] = 48 + (lo % 10);
    lo = Math.floor(lo / 10);
  }
  return pos + n;
}

function copy(dst: Buffer, pos: number, src: Buffer): number {
  const n = src.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) dst[pos + i] = src[i]!;
  } else src.copy(dst, pos);
  return pos + n;
}

/** Rows [a, b) of a table: archive queries return one span per hour file, rendered without copying. */
export interface SegSpan {
  t: SegTable;
  a: number;
  b: number;
}

/** The playlist as bytes (ASCII), rendered straight into one buffer, from a table or from spans of tables. */
export function renderArchivePlaylistBuffer(input: SegTable | readonly SegSpan[], opts: ArchivePlaylistOptions): Buffer {
  const spans: readonly SegSpan[] = Array.isArray(input)
    ? (input as readonly SegSpan[])
    : [{ t: input as SegTable, a: opts.from ?? 0, b: opts.to ?? (input as SegTable).length }];
  const prefix = opts.uriPrefix ?? '';
  const query = opts.query ?? '';
  let maxDur = 1000;
  let breaks = 0;
  let count = 0;
  let ps = NaN;
  let pd = 0;
  let first: SegSpan | undefined;
  for (const sp of spans) {
    const { t } = sp;
    if (sp.b > sp.a && !first) first = sp;
    count += Math.max(0, sp.b - sp.a);
    for (let i = sp.a; i < sp.b; i++) {
      const d = t.dur[i]!;
      if (d > maxDur) maxDur = d;
      if (!Number.isNaN(ps) && isBreak(ps, pd, t.start[i]!, t.flags[i]!)) breaks++;
      ps = t.start[i]!;
      pd = d;
    }
  }
  const head = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${Math.ceil(maxDur / 1000)}`];
  if (opts.kind === 'live' && first) {
    head.push(`#EXT-X-MEDIA-SEQUENCE:${first.t.seq[first.a]}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${first.t.dseq[first.a]}`);
  } else {
    head.push('#EXT-X-MEDIA-SEQUENCE:0');
  }
  if (opts.kind === 'vod') head.push('#EXT-X-PLAYLIST-TYPE:VOD');
  else if (opts.kind === 'event') head.push('#EXT-X-PLAYLIST-TYPE:EVENT');
  head.push('#EXT-X-INDEPENDENT-SEGMENTS');
  const headText = head.join('\n') + '\n';
  const tail = opts.kind === 'vod' ? '#EXT-X-ENDLIST\n' : '';
  const hourLen = 14; // YYYY/MM/DD/HH/
  const perEntry = 32 /* #EXTINF:x.xxx, */ + prefix.length + hourLen + 16 + 1 + 10 + 3 + query.length + 1;
  const perBreak = 22 + 50;
  const buf = Buffer.allocUnsafe(headText.length + count * perEntry + (breaks + 1) * perBreak + tail.length);
  let pos = buf.write(headText, 0, 'latin1');
  const infCache = new Map<number, Buffer>();
  const sufCache = new Map<number, Buffer>();
  const disc = Buffer.from('#EXT-X-DISCONTINUITY\n', 'latin1');
  let curHour = NaN;
  let hourPrefix = Buffer.alloc(0);
  let lastDur = -1;
  let inf: Buffer = disc;
  let suf: Buffer = disc;
  // the start is written as <digits of floor(start / 1e7)> + 7 zero-padded digits (int math only)
  let curHi = -1;
  let hiDigits = Buffer.alloc(0);
  // an entry like the previous one (same duration, hour and leading digits, no break) is a copy of it
  // with its last 7 digits rewritten
  let prevEntry = -1;
  let prevLen = 0;
  let prevLoAt = 0;
  let prevStart = NaN;
  let prevDur = 0;
  let firstRow = true;
  for (const sp of spans) {
    const t = sp.t;
    for (let i = sp.a; i < sp.b; i++) {
      const start = t.start[i]!;
      const dur = t.dur[i]!;
      const brk = !firstRow && isBreak(prevStart, prevDur, start, t.flags[i]!);
      const isFirst = firstRow;
      firstRow = false;
      prevStart = start;
      prevDur = dur;
      const hour = Math.floor(start / HOUR_MS);
      const hi = Math.floor(start / 1e7);
      let lo = start - hi * 1e7; // 0 … 9,999,999: a small integer
      if (!brk && prevEntry >= 0 && dur === lastDur && hour === curHour && hi === curHi) {
        buf.copyWithin(pos, prevEntry, prevEntry + prevLen);
        for (let k = pos + prevLoAt + 6, end = pos + prevLoAt; k >= end; k--) {
          const q = (lo / 10) | 0;
          buf[k] = 48 + lo - q * 10;
          lo = q;
        }
        prevEntry = pos;
        pos += prevLen;
        continue;
      }
      if (brk) pos = copy(buf, pos, disc);
      if (isFirst || brk) pos += buf.write(`#EXT-X-PROGRAM-DATE-TIME:${new Date(start).toISOString()}\n`, pos, 'latin1');
      const entry = pos;
      if (dur !== lastDur) {
        lastDur = dur;
        let x = infCache.get(dur);
        if (x === undefined) {
          x = Buffer.from(extinf(dur), 'latin1');
          infCache.set(dur, x);
        }
        inf = x;
        let y = sufCache.get(dur);
        if (y === undefined) {
          y = Buffer.from(`-${dur}.ts${query}\n`, 'latin1');
          sufCache.set(dur, y);
        }
        suf = y;
      }
      pos = copy(buf, pos, inf);
      if (hour !== curHour) {
        curHour = hour;
        hourPrefix = Buffer.from(`${prefix}${hourDirRel(hour)}/`, 'latin1');
      }
      pos = copy(buf, pos, hourPrefix);
      if (hi !== curHi) {
        curHi = hi;
        hiDigits = hi > 0 ? Buffer.from(String(hi), 'latin1') : Buffer.alloc(0);
      }
      if (hi > 0) {
        pos = copy(buf, pos, hiDigits);
        prevLoAt = pos - entry;
        for (let k = pos + 6; k >= pos; k--) {
          const q = (lo / 10) | 0;
          buf[k] = 48 + lo - q * 10;
          lo = q;
        }
        pos += 7;
        pos = copy(buf, pos, suf);
        prevEntry = entry;
        prevLen = pos - entry;
      } else {
        pos = writeUint(buf, pos, lo);
        pos = copy(buf, pos, suf);
        prevEntry = -1; // variable width: no copying
      }
    }
  }
  pos += buf.write(tail, pos, 'latin1');
  return buf.subarray(0, pos);
}

export function renderArchivePlaylist(input: SegTable | readonly SegSpan[], opts: ArchivePlaylistOptions): string {
  return renderArchivePlaylistBuffer(input, opts).toString('latin1');
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
