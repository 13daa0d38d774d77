/**
 * A small in-memory cache of files that are replaced by rename (playlists) or never change once
 * named (segments). Entries are revalidated with one fs.stat at most every `revalidateMs`; a body
 * is read through one fd (fstat + read of exactly that inode), so a cached body is always one
 * complete version of the file, never a mix or a truncated read. Concurrent misses for the same
 * path share one load. Missing files are remembered for the same interval (404 floods cost
 * nothing). Memory is bounded by total bytes (approximate LRU refreshed on revalidation).
 */
import { promises as fsp, type Stats } from 'node:fs';

export interface CachedFile {
  path: string;
  /** the whole file, or null when it is larger than maxFileBytes (stream it from disk instead) */
  body: Buffer | null;
  size: number;
  mtimeMs: number;
  ino: number;
  etag: string;
  lastModified: string;
  checkedAt: number;
  /** per-entry memo for callers (e.g. prebuilt response headers); dropped with the entry */
  memo?: Map<string, unknown>;
}

interface Missing {
  missing: true;
  checkedAt: number;
}

type Entry = CachedFile | Missing;

export interface FileCacheOptions {
  /** how long an entry is trusted without an fs.stat */
  revalidateMs: number;
  /** total bytes of cached bodies */
  maxBytes: number;
  /** files larger than this are not held in memory (body null) */
  maxFileBytes: number;
  maxEntries?: number;
  now?: () => number;
  /** told of every path loaded (a miss or a revalidation): e.g. to watch its directory */
  onLoad?: (path: string) => void;
}

const GONE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);

export function etagOf(st: { ino: number; size: number; mtimeMs: number }): string {
  return `"${st.ino.toString(36)}-${st.size.toString(36)}-${Math.floor(st.mtimeMs * 1000).toString(36)}"`;
}

export class FileCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<CachedFile | null>>();
  /** paths invalidated while a load of them was in flight: that load may hold the old version */
  private readonly invalidatedInFlight = new Set<string>();
  private bytes = 0;
  private readonly now: () => number;
  private readonly maxEntries: number;
  /** counters for tests and status */
  readonly counters = { hits: 0, loads: 0, reads: 0, evictions: 0 };

  constructor(private readonly opts: FileCacheOptions) {
    this.now = opts.now ?? Date.now;
    this.maxEntries = opts.maxEntries ?? 4096;
  }

  get cachedBytes(): number {
    return this.bytes;
  }

  /**
   * Without I/O: a fresh entry (CachedFile), `null` when the file is freshly known to be missing,
   * `undefined` when the caller must `await load(path)`.
   */
  peek(path: string): CachedFile | null | undefined {
    const e = this.entries.get(path);
    if (e === undefined || this.now() - e.checkedAt >= this.opts.revalidateMs) return undefined;
    this.counters.hits++;
    return 'missing' in e ? null : e;
  }

  /** Revalidate or read the file. Resolves null when it does not exist (or is not a regular file). */
  load(path: string): Promise<CachedFile | null> {
    let p = this.inflight.get(path);
    if (p) return p;
    p = this.doLoad(path).then(
      (e) => {
        if (this.invalidatedInFlight.delete(path) && e) e.checkedAt = -Infinity;
        return e;
      },
      (err: unknown) => {
        this.invalidatedInFlight.delete(path);
        throw err;
      },
    ).finally(() => this.inflight.delete(path));
    this.inflight.set(path, p);
    return p;
  }

  /** Peek, else load. */
  get(path: string): CachedFile | null | Promise<CachedFile | null> {
    const e = this.peek(path);
    return e === undefined ? this.load(path) : e;
  }

  delete(path: string): void {
    const e = this.entries.get(path);
    if (e && !('missing' in e) && e.body) this.bytes -= e.body.length;
    this.entries.delete(path);
  }

  /**
   * The file changed (a watcher saw it): forget it now. A load already in flight may have read the
   * previous version; what it stores is then marked for revalidation on the next request.
   */
  invalidate(path: string): void {
    this.delete(path);
    if (this.inflight.has(path)) this.invalidatedInFlight.add(path);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private async doLoad(path: string): Promise<CachedFile | null> {
    this.counters.loads++;
    this.opts.onLoad?.(path);
    const prev = this.entries.get(path);
    let st: Stats;
    try {
      st = await fsp.stat(path);
    } catch (err) {
      if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return this.setMissing(path);
      throw err;
    }
    if (!st.isFile()) return this.setMissing(path);
    if (prev && !('missing' in prev) && prev.ino === st.ino && prev.size === st.size && prev.mtimeMs === st.mtimeMs) {
      prev.checkedAt = this.now();
      // invalidated meanwhile: it went out of the map (and its bytes out of the count)
      if (this.entries.get(path) !== prev) return this.set(path, prev);
      // refresh LRU position
      this.entries.delete(path);
      this.entries.set(path, prev);
      return prev;
    }
    if (st.size > this.opts.maxFileBytes) {
      return this.set(path, { path, body: null, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, etag: etagOf(st), lastModified: st.mtime.toUTCString(), checkedAt: this.now() });
    }
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(path, 'r');
    } catch (err) {
      if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return this.setMissing(path);
      throw err;
    }
    try {
      const fst = await fh.stat();
      const body = await readExactly(fh, fst.size);
      this.counters.reads++;
      return this.set(path, { path, body, size: fst.size, mtimeMs: fst.mtimeMs, ino: fst.ino, etag: etagOf(fst), lastModified: fst.mtime.toUTCString(), checkedAt: this.now() });
    } finally {
      await fh.close();
    }
  }

  private setMissing(path: string): null {
    this.delete(path);
    this.entries.set(path, { missing: true, checkedAt: this.now() });
    this.trim();
    return null;
  }

  private set(path: string, e: CachedFile): CachedFile {
    this.delete(path);
    this.entries.set(path, e);
    if (e.body) this.bytes += e.body.length;
    this.trim();
    return e;
  }

  private trim(): void {
    if (this.bytes <= this.opts.maxBytes && this.entries.size <= this.maxEntries) return;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.opts.maxBytes && this.entries.size <= this.maxEntries) break;
      if (!('missing' in v) && v.body) this.bytes -= v.body.length;
      this.entries.delete(k);
      this.counters.evictions++;
    }
  }
}

/** Read exactly `size` bytes from the start of an open file (short reads are looped). */
export async function readExactly(fh: fsp.FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await fh.read(buf, off, size - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === size ? buf : buf.subarray(0, off);
}
