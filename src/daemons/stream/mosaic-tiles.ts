/**
 * Which tiles of a mosaic:// input have live output now: the supervisor's side of the mosaic
 * (the arguments are src/ffmpeg/mosaic.ts).
 *
 * A tile is live when its stream's live media playlist (or, while that stream's root is
 * unwritable, the one in its data-dir fallback; the newer of the two) was rewritten within three
 * of its segment durations and names at least one segment. A check is one stat per playlist; the
 * playlist is read only when its mtime moved, for its segment count and the discontinuity
 * sequence of its newest segment (EXT-X-DISCONTINUITY-SEQUENCE + the EXT-X-DISCONTINUITY tags in
 * the window).
 *
 * The plan key is the live tiles with their playlist and that discontinuity number. It changes
 * when a tile comes or goes, and also when a live tile's stream restarted (its timestamps started
 * over): ffmpeg's hls demuxer would carry the jump into xstack's timestamp sync, so the mosaic's
 * ffmpeg is restarted on a fresh plan instead (a discontinuity in the mosaic's HLS).
 */
import { readFile, stat } from 'node:fs/promises';
import type { ResolvedMosaic, ResolvedMosaicTile } from '../../config/model.js';

/** How often the supervisor looks at the tiles. */
export const MOSAIC_CHECK_MS = 2000;

/** A tile's playlist not rewritten for this many of its segment durations: the tile is missing. */
export const STALE_SEGMENTS = 3;

export interface TileStatus {
  name: string;
  live: boolean;
}

interface Seen {
  path: string;
  mtimeMs: number;
  segments: number;
  discontinuity: number;
}

export interface MosaicTilesOptions {
  now?: () => number;
}

/** Segment count and the newest segment's discontinuity sequence number of a media playlist. */
export function playlistFacts(text: string): { segments: number; discontinuity: number } {
  let segments = 0;
  let base = 0;
  let tags = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:')) base = Number(line.slice(30)) || 0;
    else if (line === '#EXT-X-DISCONTINUITY') tags++;
    else if (!line.startsWith('#')) segments++;
  }
  return { segments, discontinuity: base + tags };
}

export class MosaicTiles {
  private readonly seen = new Map<string, Seen>();
  private liveSet: ReadonlySet<string> = new Set();
  private key: string | null = null;

  constructor(
    readonly mosaic: ResolvedMosaic,
    private readonly opts: MosaicTilesOptions = {},
  ) {}

  /** Names of the tiles to read live (the others are slates). */
  get live(): ReadonlySet<string> {
    return this.liveSet;
  }

  /** The tiles in order with their state as of the last check. */
  status(): TileStatus[] {
    return this.mosaic.tiles.map((t) => ({ name: t.name, live: this.liveSet.has(t.name) }));
  }

  /** Look at every tile; true when the plan changed (always on the first check). */
  async check(): Promise<boolean> {
    const now = this.opts.now?.() ?? Date.now();
    const live = new Set<string>();
    const parts: string[] = [];
    const done = new Set<string>();
    for (const t of this.mosaic.tiles) {
      if (done.has(t.name)) continue; // a tile named twice is one stream
      done.add(t.name);
      const s = await this.look(t, now);
      if (!s) continue;
      live.add(t.name);
      parts.push(`${t.name}\u0000${s.path}\u0000${s.discontinuity}`);
    }
    this.liveSet = live;
    const key = parts.join('\u0001');
    const changed = key !== this.key;
    this.key = key;
    return changed;
  }

  private async look(t: ResolvedMosaicTile, now: number): Promise<Seen | null> {
    let best: { path: string; mtimeMs: number } | null = null;
    for (const p of [t.playlist, t.fallbackPlaylist]) {
      if (!p) continue;
      try {
        const st = await stat(p);
        if (!best || st.mtimeMs > best.mtimeMs) best = { path: p, mtimeMs: st.mtimeMs };
      } catch {
        /* no such playlist: nothing written there (yet) */
      }
    }
    if (!best || now - best.mtimeMs > STALE_SEGMENTS * t.segmentDurationMs) return null;
    let s = this.seen.get(t.name);
    if (!s || s.path !== best.path || s.mtimeMs !== best.mtimeMs) {
      let text: string;
      try {
        text = await readFile(best.path, 'utf8');
      } catch {
        return null; // replaced between stat and read: the next check sees it
      }
      s = { ...best, ...playlistFacts(text) };
      this.seen.set(t.name, s);
    }
    return s.segments > 0 ? s : null;
  }
}
