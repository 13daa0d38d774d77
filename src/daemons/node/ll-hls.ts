/**
 * LL-HLS on the serving side (RFC 8216bis §6.2.5): blocking playlist reload (_HLS_msn / _HLS_part),
 * blocking part requests for the preload hint, delta updates (_HLS_skip), rendition reports.
 *
 * The supervisor's writer puts parts and the playlist on disk (tmp + rename, playlist after part); the
 * agent serves them from its in-memory file cache. A held request waits on a per-playlist group that
 * revalidates the playlist every WAKE_MS while anyone waits (one stat per group, whatever the number of
 * waiters), so it is answered within WAKE_MS of the playlist naming what it asked for. Requests held at
 * once are bounded (MAX_HELD, then 503 + Retry-After); each is released when satisfied, after three
 * target durations (503), or when its stream leaves the config (404).
 */
/** What a blocking request needs to know about a live LL-HLS media playlist. */
export interface LlPlaylistState {
  /** Media sequence number of the first segment. */
  mediaSequence: number;
  /** Complete segments listed. */
  segments: number;
  /** Parts listed after the last complete segment (of the segment being written). */
  trailingParts: number;
  /** Parts listed for the last complete segment (for LAST-PART when no trailing part exists). */
  lastSegmentParts: number;
  targetDurationS: number;
  partTargetS: number;
  /** The playlist is LL-HLS (EXT-X-PART-INF). */
  lowLatency: boolean;
  endList: boolean;
}

/** Scans a media playlist (our own format: one tag or URI per line). */
export function llPlaylistState(text: string): LlPlaylistState {
  const st: LlPlaylistState = { mediaSequence: 0, segments: 0, trailingParts: 0, lastSegmentParts: 0, targetDurationS: 1, partTargetS: 0, lowLatency: false, endList: false };
  let parts = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const c = text.charCodeAt(pos);
    if (c === 35 /* # */) {
      if (text.startsWith('#EXT-X-PART:', pos)) parts++;
      else if (text.startsWith('#EXTINF:', pos)) {
        /* the URI line closes the segment */
      } else if (text.startsWith('#EXT-X-MEDIA-SEQUENCE:', pos)) st.mediaSequence = Number(text.slice(pos + 22, end)) || 0;
      else if (text.startsWith('#EXT-X-TARGETDURATION:', pos)) st.targetDurationS = Number(text.slice(pos + 22, end)) || 1;
      else if (text.startsWith('#EXT-X-PART-INF:', pos)) {
        st.lowLatency = true;
        const m = /PART-TARGET=([\d.]+)/.exec(text.slice(pos, end));
        if (m) st.partTargetS = Number(m[1]);
      } else if (text.startsWith('#EXT-X-ENDLIST', pos)) st.endList = true;
      else if (text.startsWith('#EXT-X-SKIP:', pos)) {
        const m = /SKIPPED-SEGMENTS=(\d+)/.exec(text.slice(pos, end));
        if (m) st.segments += Number(m[1]);
      }
    } else if (end > pos && c !== 13) {
      st.segments++;
      st.lastSegmentParts = parts;
      parts = 0;
    }
    pos = end + 1;
  }
  st.trailingParts = parts;
  return st;
}

/** Media sequence number of the segment being written (the next complete one). */
export function nextMsn(s: LlPlaylistState): number {
  return s.mediaSequence + s.segments;
}

/** LAST-MSN / LAST-PART of EXT-X-RENDITION-REPORT. */
export function lastPartOf(s: LlPlaylistState): { msn: number; part: number } {
  if (s.trailingParts > 0) return { msn: nextMsn(s), part: s.trailingParts - 1 };
  return { msn: nextMsn(s) - 1, part: Math.max(0, s.lastSegmentParts - 1) };
}

export type BlockingQuery =
  | { ok: true; msn?: number; part?: number; skip: boolean }
  | { ok: false; reason: string };

/** `_HLS_msn`, `_HLS_part`, `_HLS_skip` of a media playlist request. */
export function parseBlockingQuery(q: URLSearchParams): BlockingQuery {
  const msnText = q.get('_HLS_msn');
  const partText = q.get('_HLS_part');
  const skipText = q.get('_HLS_skip');
  const skip = skipText === 'YES' || skipText === 'v2';
  if (skipText !== null && !skip) return { ok: false, reason: '_HLS_skip must be YES or v2' };
  if (partText !== null && msnText === null) return { ok: false, reason: '_HLS_part without _HLS_msn' };
  if (msnText === null) return { ok: true, skip };
  if (!/^\d{1,15}$/.test(msnText)) return { ok: false, reason: '_HLS_msn must be a non-negative integer' };
  const out: BlockingQuery = { ok: true, msn: Number(msnText), skip };
  if (partText !== null) {
    if (!/^\d{1,6}$/.test(partText)) return { ok: false, reason: '_HLS_part must be a non-negative integer' };
    out.part = Number(partText);
  }
  return out;
}

export type Readiness = 'ready' | 'wait' | 'out-of-window';

/** Whether the playlist holds segment `msn` (or its part `part`). */
export function readiness(s: LlPlaylistState, msn: number, part: number | undefined): Readiness {
  const next = nextMsn(s);
  // RFC 8216bis §6.2.5.2: more than two segments ahead of the last one is a 400
  if (msn > next + 1) return 'out-of-window';
  if (msn < next) return 'ready';
  if (msn === next && part !== undefined && part < s.trailingParts) return 'ready';
  // a part index past the parts a segment can have: the next segment answers it (spec: treat as msn+1 part 0)
  return s.endList ? 'ready' : 'wait';
}

/**
 * Delta update (`_HLS_skip=YES`): segments that start more than CAN-SKIP-UNTIL before the end of the
 * playlist are replaced by one EXT-X-SKIP. Their tags go with them; the first kept segment keeps its own
 * tags (it carries EXT-X-PROGRAM-DATE-TIME and, when the init changed, EXT-X-MAP is repeated).
 */
export function deltaPlaylist(text: string): string {
  const m = /CAN-SKIP-UNTIL=([\d.]+)/.exec(text);
  if (!m) return text;
  const skipUntilMs = Number(m[1]) * 1000;
  const lines = text.split('\n');
  // segments: [startLine, uriLine, durationMs]
  const segs: { start: number; uri: number; ms: number }[] = [];
  let header = -1;
  let segStart = -1;
  let dur = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const isSegTag = l.startsWith('#EXT-X-PROGRAM-DATE-TIME') || l === '#EXT-X-DISCONTINUITY' || l.startsWith('#EXT-X-MAP') || l.startsWith('#EXT-X-PART:') || l.startsWith('#EXTINF');
    if (isSegTag && segStart < 0) segStart = i;
    if (header < 0 && isSegTag) header = i;
    if (l.startsWith('#EXTINF:')) dur = Number(l.slice(8, l.indexOf(','))) * 1000;
    if (l !== '' && !l.startsWith('#')) {
      segs.push({ start: segStart, uri: i, ms: dur });
      segStart = -1;
    }
  }
  if (segs.length === 0 || header < 0) return text;
  let total = 0;
  for (const s of segs) total += s.ms;
  let skip = 0;
  let acc = 0;
  // skip while the segment ends before (end of playlist - CAN-SKIP-UNTIL)
  while (skip < segs.length - 1 && acc + segs[skip]!.ms <= total - skipUntilMs) acc += segs[skip++]!.ms;
  if (skip === 0) return text.replace(/^#EXT-X-VERSION:\d+$/m, '#EXT-X-VERSION:9');
  const keptFrom = segs[skip]!.start;
  // EXT-X-MAP in force for the first kept segment
  let map: string | undefined;
  for (let i = 0; i < keptFrom; i++) if (lines[i]!.startsWith('#EXT-X-MAP')) map = lines[i];
  const keptHasMap = lines.slice(keptFrom, segs[skip]!.uri).some((l) => l.startsWith('#EXT-X-MAP'));
  const out = [...lines.slice(0, header), `#EXT-X-SKIP:SKIPPED-SEGMENTS=${skip}`];
  if (map !== undefined && !keptHasMap) out.push(map);
  out.push(...lines.slice(keptFrom));
  return out.join('\n').replace(/^#EXT-X-VERSION:\d+$/m, '#EXT-X-VERSION:9');
}

/** Appends EXT-X-RENDITION-REPORT lines (URIs relative to the playlist). */
export function withRenditionReports(text: string, reports: readonly { uri: string; msn: number; part: number }[]): string {
  if (reports.length === 0) return text;
  const add = reports.map((r) => `#EXT-X-RENDITION-REPORT:URI="${r.uri}",LAST-MSN=${r.msn},LAST-PART=${r.part}`).join('\n');
  return text.endsWith('\n') ? `${text}${add}\n` : `${text}\n${add}\n`;
}

/** Most requests held open at once by one agent (each costs a socket and a closure). */
export const MAX_HELD = 5000;
/** How often a group with waiters revalidates its playlist. */
export const WAKE_MS = 40;

interface Waiter {
  /** true: done (stop waiting) */
  check(): boolean;
  expire(): void;
  deadline: number;
}

/**
 * Requests waiting on one playlist. `poll` revalidates the playlist (a cache load); after each poll
 * every waiter checks itself. The timer runs only while someone waits.
 */
export class WaitGroups {
  private held = 0;
  private readonly groups = new Map<string, { waiters: Set<Waiter>; timer: NodeJS.Timeout | null; polling: boolean }>();

  constructor(private readonly maxHeld = MAX_HELD) {}

  get heldCount(): number {
    return this.held;
  }

  /**
   * Waits until `check()` is true (resolves true) or `timeoutMs` passes or `alive()` turns false
   * (resolves false). Resolves null at once when too many requests are held.
   */
  wait(key: string, poll: () => Promise<void>, check: () => boolean, alive: () => boolean, timeoutMs: number, onClose?: (cb: () => void) => void): Promise<boolean | null> {
    if (this.held >= this.maxHeld) return Promise.resolve(null);
    return new Promise((resolve) => {
      let g = this.groups.get(key);
      if (!g) {
        g = { waiters: new Set(), timer: null, polling: false };
        this.groups.set(key, g);
      }
      const group = g;
      this.held++;
      let done = false;
      const finish = (v: boolean): void => {
        if (done) return;
        done = true;
        this.held--;
        group.waiters.delete(w);
        if (group.waiters.size === 0) {
          if (group.timer) clearInterval(group.timer);
          group.timer = null;
          if (this.groups.get(key) === group) this.groups.delete(key);
        }
        resolve(v);
      };
      const w: Waiter = {
        deadline: Date.now() + timeoutMs,
        check: () => {
          if (!alive()) {
            finish(false);
            return true;
          }
          if (check()) {
            finish(true);
            return true;
          }
          return false;
        },
        expire: () => finish(false),
      };
      group.waiters.add(w);
      onClose?.(() => finish(false));
      if (group.timer === null) {
        group.timer = setInterval(() => {
          if (group.polling) return;
          group.polling = true;
          poll()
            .catch(() => undefined)
            .finally(() => {
              group.polling = false;
              const now = Date.now();
              for (const x of [...group.waiters]) if (!x.check() && now >= x.deadline) x.expire();
            });
        }, WAKE_MS);
      }
    });
  }
}
