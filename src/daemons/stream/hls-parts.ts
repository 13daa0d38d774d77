/**
 * LL-HLS part bookkeeping of one rendition: the parts of the segment being written, those of the
 * last complete segments (still listed by EXT-X-PART), part files waiting for deletion, and the
 * EXT-X-PRELOAD-HINT target. The files themselves are written by the HLS writer's queue.
 */
import { promises as fsp } from 'node:fs';
import type { PlaylistPart } from '../../media/hls/playlist.js';
import { hourDirRel, hourOf } from '../../protocol/layout.js';

/**
 * Complete segments whose parts stay listed: with the segment being written that makes three segments,
 * the most the spec allows (parts older than three target durations from the end must go).
 */
export const LL_SEGMENTS_WITH_PARTS = 2;
/** Segments whose part files stay on disk after they stop being listed (players may hold an older playlist). */
export const LL_PART_GRACE = 2;

/** What the part list needs of a segment. */
export interface PartSegment {
  startMs: number;
  failed: Error | null;
  discontinuity: boolean;
  map?: string;
  /** parts handed to the queue so far (producer side) */
  partsQueued?: number;
}

/** File name of part `index` of the segment starting at `startMs`. */
export function partName(startMs: number, index: number): string {
  return `${startMs}-p${index}.m4s`;
}

/** URI of a part, relative to the rendition directory. */
export function partUri(startMs: number, index: number): string {
  return `${hourDirRel(hourOf(startMs))}/${partName(startMs, index)}`;
}

export class PartList<S extends PartSegment> {
  /** the segment whose parts are being written, with its parts and their files */
  open: { seg: S; parts: PlaylistPart[]; files: string[] } | null = null;
  private readonly done = new Map<string, PlaylistPart[]>();
  private readonly files: string[][] = [];

  /** A part of `seg` is on disk as `file`. */
  added(seg: S, part: PlaylistPart, file: string): void {
    if (this.open?.seg !== seg) this.open = { seg, parts: [], files: [] };
    this.open.parts.push(part);
    this.open.files.push(file);
  }

  /** Parts listed under a complete segment, undefined when none. */
  partsOf(uri: string): PlaylistPart[] | undefined {
    return this.done.get(uri);
  }

  /** The open segment's parts, listed after the last complete segment. */
  get trailing(): PlaylistPart[] {
    return this.open?.parts ?? [];
  }

  /**
   * `seg` closed, as `uri` (null: it was dropped): its parts move to the recent list, the oldest leave
   * it, and part files past the grace are deleted.
   */
  async segmentClosed(seg: S, uri: string | null): Promise<void> {
    const open = this.open;
    if (open === null || open.seg !== seg) return;
    this.open = null;
    if (uri !== null) this.done.set(uri, open.parts);
    this.files.push(open.files);
    while (this.done.size > LL_SEGMENTS_WITH_PARTS) this.done.delete(this.done.keys().next().value!);
    while (this.files.length > LL_SEGMENTS_WITH_PARTS + LL_PART_GRACE) {
      for (const f of this.files.shift()!) await fsp.unlink(f).catch(() => undefined);
    }
  }

  /**
   * The next part's URI: of the open segment, else of the next segment already opened by the producer
   * (`current`: the producer's open segment; `opening`: segments queued for opening, oldest first).
   */
  preloadHint(current: S | null, opening: Iterable<S>): string | undefined {
    let seg: S | undefined;
    let index = 0;
    const open = this.open;
    // the open segment's next part, unless the producer already closed it after its last part
    if (open !== null && (open.seg === current || open.parts.length < (open.seg.partsQueued ?? 0))) {
      seg = open.seg;
      index = open.parts.length;
    } else {
      for (const s of opening) {
        if (s !== open?.seg) {
          seg = s;
          break;
        }
      }
      seg ??= current ?? undefined;
    }
    if (seg === undefined || seg.failed) return undefined;
    return partUri(seg.startMs, index);
  }
}
