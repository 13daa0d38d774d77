/**
 * The HLS writer's live state (`<root>/<rendition>/live.json`: window, media and discontinuity
 * sequences) and its recovery after a restart: live.json, else the writer's old index.m3u8, else the
 * newest segment files on disk. Only segments still on disk are carried over.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { INIT_SEGMENT_NAME, isSegmentRelPath, parseSegmentName } from '../../protocol/layout.js';
import { newestSegments } from '../../protocol/walk.js';

/** One segment of the live window, as kept in live.json. */
export interface LiveSegment {
  uri: string;
  startMs: number;
  durationMs: number;
  bytes: number;
  discontinuity: boolean;
  keyframe: boolean;
  /** fmp4: the init segment (EXT-X-MAP URI, relative to the rendition dir) */
  map?: string;
}

/** `<root>/<rendition>/live.json` */
export interface LiveState {
  version: 1;
  rendition: string;
  /** media sequence of segments[0] (or of the next segment when the window is empty) */
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  /** end (ms epoch) of the last segment: the next one starts here or later */
  lastEndMs: number | null;
  segments: LiveSegment[];
  /** segments out of the window, not deleted yet (grace) */
  retired: string[];
  updatedAt: number;
}

function isLiveSegment(x: unknown): x is LiveSegment {
  const s = x as LiveSegment;
  return (
    !!s && typeof s === 'object' && typeof s.uri === 'string' && isSegmentRelPath(s.uri) &&
    Number.isSafeInteger(s.startMs) && Number.isSafeInteger(s.durationMs) && s.durationMs > 0 &&
    typeof s.discontinuity === 'boolean'
  );
}

function parseLiveState(text: string, rendition: string): LiveState | null {
  let j: LiveState;
  try {
    j = JSON.parse(text) as LiveState;
  } catch {
    return null;
  }
  if (!j || typeof j !== 'object' || j.version !== 1 || j.rendition !== rendition) return null;
  if (!Number.isSafeInteger(j.mediaSequence) || j.mediaSequence < 0) return null;
  if (!Number.isSafeInteger(j.discontinuitySequence) || j.discontinuitySequence < 0) return null;
  if (!Array.isArray(j.segments) || !j.segments.every(isLiveSegment)) return null;
  return {
    version: 1,
    rendition,
    mediaSequence: j.mediaSequence,
    discontinuitySequence: j.discontinuitySequence,
    targetDuration: Number.isSafeInteger(j.targetDuration) && j.targetDuration > 0 ? j.targetDuration : 1,
    lastEndMs: Number.isSafeInteger(j.lastEndMs) ? j.lastEndMs : null,
    segments: j.segments.map((s) => {
      const seg: LiveSegment = { uri: s.uri, startMs: s.startMs, durationMs: s.durationMs, bytes: Number(s.bytes) || 0, discontinuity: s.discontinuity, keyframe: s.keyframe !== false };
      if (typeof s.map === 'string' && INIT_SEGMENT_NAME.test(s.map)) seg.map = s.map;
      return seg;
    }),
    retired: Array.isArray(j.retired) ? j.retired.filter((u) => typeof u === 'string' && isLiveSegment({ uri: u, startMs: 0, durationMs: 1, discontinuity: false })) : [],
    updatedAt: Number(j.updatedAt) || 0,
  };
}

/** Minimal reader of our own live playlist: media sequence, discontinuity sequence, segment URIs. */
function parseOwnPlaylist(text: string): { mediaSequence: number; discontinuitySequence: number; uris: string[] } | null {
  if (!text.startsWith('#EXTM3U')) return null;
  const msn = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text);
  if (!msn) return null;
  const dsn = /#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text);
  const uris = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return { mediaSequence: Number(msn[1]), discontinuitySequence: dsn ? Number(dsn[1]) : 0, uris };
}

export async function exists(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** live.json → old index.m3u8 → newest segment files. Only segments still on disk are carried over. */
export async function recoverLiveState(dir: string, rendition: string, window: number): Promise<LiveState> {
const opts = { rendition, window };
  const fresh: LiveState = { version: 1, rendition: opts.rendition, mediaSequence: 0, discontinuitySequence: 0, targetDuration: 1, lastEndMs: null, segments: [], retired: [], updatedAt: 0 };
  const keepExisting = async (st: LiveState): Promise<LiveState> => {
    // keep the longest suffix of the window whose files all exist
    let cut = 0;
    for (let i = 0; i < st.segments.length; i++) if (!(await exists(path.join(dir, st.segments[i]!.uri)))) cut = i + 1;
    for (let i = 0; i < cut; i++) if (st.segments[i]!.discontinuity) st.discontinuitySequence++;
    st.mediaSequence += cut;
    st.segments = st.segments.slice(cut);
    const last = st.segments[st.segments.length - 1];
    if (last) st.lastEndMs = Math.max(st.lastEndMs ?? 0, last.startMs + last.durationMs);
    // the first carried segment's discontinuity flag is implied by the sequence already
    return st;
  };

  const stateText = await fsp.readFile(path.join(dir, 'live.json'), 'utf8').catch(() => null);
  const state = stateText === null ? null : parseLiveState(stateText, opts.rendition);
  if (state) return keepExisting(state);

  const plText = await fsp.readFile(path.join(dir, 'index.m3u8'), 'utf8').catch(() => null);
  const pl = plText === null ? null : parseOwnPlaylist(plText);
  const disk = await newestSegments(dir, Math.max(1, opts.window));
  const toLive = (s: { uri: string; startMs: number; durationMs: number }, prev: { startMs: number; durationMs: number } | undefined): LiveSegment => ({
    uri: s.uri,
    startMs: s.startMs,
    durationMs: s.durationMs,
    bytes: 0,
    // names chain exactly when continuous (next start = start + duration): a gap is a discontinuity
    discontinuity: prev !== undefined && prev.startMs + prev.durationMs !== s.startMs,
    keyframe: true,
  });
  if (pl) {
    const segs: LiveSegment[] = [];
    for (const uri of pl.uris) {
      const name = parseSegmentName(uri.slice(uri.lastIndexOf('/') + 1));
      if (!name || !isSegmentRelPath(uri)) return { ...fresh };
      segs.push(toLive({ uri, ...name }, segs[segs.length - 1]));
    }
    const fromPl: LiveState = { ...fresh, mediaSequence: pl.mediaSequence, discontinuitySequence: pl.discontinuitySequence, segments: segs };
    // segments newer than the playlist's last one (state lost between rename and playlist): skip them
    // from the window but keep the sequence ahead of them
    const lastPl = segs[segs.length - 1];
    const newer = disk.filter((s) => !lastPl || s.startMs > lastPl.startMs);
    if (newer.length > 0) {
      fromPl.lastEndMs = Math.max(...newer.map((s) => s.startMs + s.durationMs));
    }
    return keepExisting(fromPl);
  }
  if (disk.length === 0) return fresh;
  // nothing but segment files: take the newest ones as the window; with no record of the
  // sequence, derive it from time (one step per 500 ms of program time) so it cannot go back
  // below a sequence any earlier run could have reached with segments >= 500 ms
  const segs: LiveSegment[] = [];
  for (const s of disk) segs.push(toLive(s, segs[segs.length - 1]));
  const last = segs[segs.length - 1]!;
  const endMs = last.startMs + last.durationMs;
  const next = Math.floor(endMs / 500);
  return { ...fresh, mediaSequence: Math.max(0, next - segs.length), discontinuitySequence: Math.floor(endMs / 500), segments: segs, lastEndMs: endMs };
}
