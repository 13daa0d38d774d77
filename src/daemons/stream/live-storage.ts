/**
 * Where a stream's live output goes when its storage stops taking writes.
 *
 * With DVR on, live segments and playlists live in the archive root (they share the segments).
 * When that root turns unwritable mid-run (remounted read-only, permissions taken away), every
 * segment would be dropped and the live playlist would freeze on its last segment. Instead:
 *   - the stream's status carries the error at once (the supervisor reports state `error`),
 *   - live output moves to the fallback root (`<data_dir>/<stream>`, the node's data dir) with its
 *     media sequence carried over (live.json seeded from the root being left), so players go on,
 *   - the archive records nothing meanwhile (the gap shows in `flux dvr ls` as missing time),
 *   - the primary root is probed every few seconds (create + remove a small file); once it takes
 *     writes again, live output moves back and the error clears.
 * ENOSPC is not a reason to move: retention keeps free space for that (src/dvr/recorder.ts).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { safeJoin } from '../../core/paths.js';

/** errno codes that mean "this directory does not take writes" (not "it is full"). */
const UNWRITABLE = /\b(EROFS|EACCES|EPERM)\b/;

export function isUnwritableError(text: string): boolean {
  return UNWRITABLE.test(text);
}

export interface LiveStorageOptions {
  /** the stream's root (the DVR root when it records) */
  primary: string;
  /** where live output goes while the primary is unwritable; null or equal to primary: nowhere to go */
  fallback: string | null;
  renditions: string[];
  logger: Logger;
  /** reopen the writers on another root (the supervisor swaps them) */
  move(root: string): Promise<void>;
  /** record a supervisor event (the history of storage problems) */
  event(reason: string, message: string): void;
  /** how often an unwritable primary is probed (default 2 s) */
  probeEveryMs?: number;
  now?: () => number;
}

export class LiveStorage {
  /** the root live output goes to now */
  root: string;
  /** the current storage problem, null when none */
  error: string | null = null;
  private busy = false;
  private lastProbeAt = 0;
  private readonly now: () => number;

  constructor(private readonly o: LiveStorageOptions) {
    this.root = o.primary;
    this.now = o.now ?? Date.now;
  }

  get inFallback(): boolean {
    return this.root !== this.o.primary;
  }

  /** A writer failed with this error text: an unwritable primary moves live output to the fallback. */
  onWriteError(text: string): void {
    if (this.busy || !isUnwritableError(text)) return;
    const code = UNWRITABLE.exec(text)![1]!;
    if (this.inFallback) {
      // the fallback failed too: nothing left to move to; say so
      this.error = `storage ${this.o.primary} is not writable and neither is the fallback ${this.root} (${code}): live output stopped`;
      this.o.logger.error({ err: text }, this.error);
      return;
    }
    const fb = this.o.fallback && path.resolve(this.o.fallback) !== path.resolve(this.o.primary) ? this.o.fallback : null;
    this.error = fb
      ? `storage ${this.o.primary} is not writable (${code}): live output continues from ${fb}, archive paused`
      : `storage ${this.o.primary} is not writable (${code}): live output stopped`;
    this.lastProbeAt = this.now();
    this.o.logger.error({ err: text, fallback: fb }, this.error);
    this.o.event('storage_unwritable', this.error);
    if (fb) void this.switchTo(fb);
  }

  /** Called on the supervisor's clock: probe an unwritable primary now and then. */
  tick(): void {
    if (!this.error || this.busy) return;
    const now = this.now();
    if (now - this.lastProbeAt < (this.o.probeEveryMs ?? 2000)) return;
    this.lastProbeAt = now;
    this.busy = true;
    void probeWritable(this.o.primary)
      .then(async (problem) => {
        if (problem) return;
        this.busy = false;
        if (this.inFallback) await this.switchTo(this.o.primary);
        this.error = null;
        this.o.logger.info({ root: this.o.primary }, 'storage writable again: live output and recording resume there');
        this.o.event('storage_recovered', `storage ${this.o.primary} is writable again`);
      })
      .finally(() => {
        this.busy = false;
      });
  }

  private async switchTo(root: string): Promise<void> {
    this.busy = true;
    try {
      const from = this.root;
      for (const r of this.o.renditions) await seedLiveState(from, root, r).catch((err: unknown) => this.o.logger.warn({ err, rendition: r }, 'live state not carried over'));
      await this.o.move(root);
      this.root = root;
      this.o.logger.warn({ from, to: root }, 'live output moved');
    } catch (err) {
      this.o.logger.error({ err, root }, 'could not move live output');
    } finally {
      this.busy = false;
    }
  }
}

/** null when `dir` takes a new file (created and removed again), else the error text. */
export async function probeWritable(dir: string): Promise<string | null> {
  const file = path.join(dir, `.flux-write-probe-${process.pid}`);
  try {
    await fsp.mkdir(dir, { recursive: true });
    const fh = await fsp.open(file, 'w');
    await fh.close();
    await fsp.unlink(file);
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `${e.code ?? ''}: ${e.message}`;
  }
}

/**
 * Carry a rendition's live state (media and discontinuity sequence, end time) from one root to
 * another, when it is newer than the state already there. The writer opened on `to` recovers
 * from it: segments not on `to` leave the window and advance the sequence, so players see the
 * sequence go on instead of starting over (or going back to an old window).
 */
export async function seedLiveState(from: string, to: string, rendition: string): Promise<void> {
  const src = await fsp.readFile(safeJoin(from, rendition, 'live.json'), 'utf8').catch(() => null);
  if (src === null) return;
  const dstFile = safeJoin(to, rendition, 'live.json');
  const dst = await fsp.readFile(dstFile, 'utf8').catch(() => null);
  const updated = (text: string | null): number => {
    try {
      return text ? Number((JSON.parse(text) as { updatedAt?: unknown }).updatedAt) || 0 : 0;
    } catch {
      return 0;
    }
  };
  if (updated(dst) >= updated(src)) return;
  await fsp.mkdir(path.dirname(dstFile), { recursive: true });
  await writeFileAtomic(dstFile, src, { fsync: false });
}
