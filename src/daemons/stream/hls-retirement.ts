/**
 * Deleting what left the live window: retired segments after a grace (players may hold an older
 * playlist), empty hour directories, and after a restart the leftovers of a crash (temp files, part
 * files, segments no state names) in the newest hour directories.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { hourDirRel, parseSegmentName } from '../../protocol/layout.js';
import { pruneEmptyHourDirs, walkHourDirs } from '../../protocol/walk.js';

/** LL-HLS part file names (`<ms>-p<N>.m4s`). */
export const PART_NAME = /^\d{1,16}-p\d{1,4}\.m4s$/;
/** Hour directories a restart sweep looks at: the newest ones only, never a whole tree. */
const SWEEP_HOURS = 2;

/** Says whether a directory (an hour dir or one of its parents) still holds a segment in use. */
export type DirInUse = (dir: string) => boolean;

/** rmdir HH, DD, MM, YYYY under `root` while empty and not in use. */
export function removeEmptyHourDirs(root: string, hourDir: string, inUse: DirInUse): Promise<void> {
  return pruneEmptyHourDirs(root, hourDir, inUse);
}

/**
 * Deletes the oldest `retired` URIs (relative to `root`) until `grace` are left; `retired` is
 * shifted in place (it is part of the writer's persisted state).
 */
export async function deleteRetired(root: string, retired: string[], grace: number, inUse: DirInUse, log: Logger): Promise<void> {
  while (retired.length > grace) {
    const uri = retired.shift()!;
    const file = path.join(root, uri);
    await fsp.unlink(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') log.warn({ err, file }, 'could not delete old segment');
    });
    await removeEmptyHourDirs(root, path.dirname(file), inUse);
  }
}

export interface SweepOptions {
  /** URIs that are not garbage (the window and the retired list) */
  keep: Set<string>;
  /** segments starting before this, named by no state, are garbage (without DVR) */
  firstStartMs: number;
  /** DVR on: only temp and part files go */
  keepSegments: boolean;
  /** hour dir of the segment being written (its temp file is not garbage), if any */
  currentDir: string | undefined;
  inUse: DirInUse;
}

/**
 * After a restart: remove temp files left by a crash in the newest hour dirs; without DVR also the
 * segments there that are older than the window and named by no state (left behind when the state
 * was lost). Bounded to the newest hours on purpose.
 */
export async function sweepStale(root: string, o: SweepOptions): Promise<void> {
  const hours = (await walkHourDirs(root, { descending: true, limit: SWEEP_HOURS }).catch(() => [] as number[])).reverse().map(hourDirRel);
  for (const hour of hours) {
    const hdir = path.join(root, hour);
    let names: string[];
    try {
      names = await fsp.readdir(hdir);
    } catch {
      continue;
    }
    for (const n of names) {
      // (part files of an earlier run: no playlist of this run names them)
      const isTmp = (n.startsWith('.') && n.endsWith('.tmp')) || PART_NAME.test(n);
      // the temp file of this writer's open segment is not garbage
      if (isTmp && hdir === o.currentDir) continue;
      const seg = parseSegmentName(n);
      const stale = isTmp || (!o.keepSegments && seg !== undefined && seg.startMs < o.firstStartMs && !o.keep.has(`${hour}/${n}`));
      if (stale) await fsp.unlink(path.join(hdir, n)).catch(() => undefined);
    }
    if (!o.keepSegments) await removeEmptyHourDirs(root, hdir, o.inUse);
  }
}
