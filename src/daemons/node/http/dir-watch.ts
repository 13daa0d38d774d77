/**
 * Playlists are replaced by rename; a cache that trusts one for 150 ms between stats can serve a
 * playlist up to 150 ms older than the newest on disk. This watches the directories of the
 * playlists a cache has loaded (inotify through fs.watch) and drops a playlist from the cache as
 * soon as its name changes, so the next request reads the new one: what remains is the time the
 * process takes to see the event (one event-loop turn), not the revalidation interval, which stays
 * as the fallback (a directory that cannot be watched: inotify limits, a directory not there yet).
 * Watches are bounded; the oldest is dropped first.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface Invalidatable {
  invalidate(path: string): void;
}

export class DirWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private failedAt = new Map<string, number>();

  constructor(
    private readonly cache: Invalidatable,
    /** file names whose change drops them from the cache */
    private readonly names: RegExp,
    private readonly maxDirs = 2048,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Watch the directory of this file (once; a failed watch is tried again after 5 s). */
  ensure(file: string): void {
    const dir = path.dirname(file);
    if (this.watchers.has(dir)) return;
    const failed = this.failedAt.get(dir);
    if (failed !== undefined && Date.now() - failed < 5000) return;
    let w: FSWatcher;
    try {
      // persistent: false: a watch never keeps a process alive
      w = watch(dir, { persistent: false }, (_event, name) => {
        if (name && this.names.test(name)) this.cache.invalidate(path.join(dir, name));
      });
    } catch {
      this.failedAt.set(dir, Date.now());
      if (this.failedAt.size > this.maxDirs) this.failedAt = new Map();
      return;
    }
    // the directory went away (stream removed, retention): forget it; a later load watches again
    w.on('error', () => this.drop(dir));
    this.watchers.set(dir, w);
    if (this.watchers.size > this.maxDirs) this.drop(this.watchers.keys().next().value!);
  }

  private drop(dir: string): void {
    const w = this.watchers.get(dir);
    if (!w) return;
    this.watchers.delete(dir);
    w.close();
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
