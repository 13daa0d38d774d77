/**
 * The one way Flux replaces a file: a temp file in the same directory, optional fsync, rename over
 * the target. Readers see the old or the new content, never a mix; a failure leaves no temp file.
 * Imports nothing heavy: the node agent, the supervisors and the CLI all use it.
 */
import { chmod, open, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** file mode; default: the existing file's mode, or 0644 for a new file */
  mode?: number;
  /** fsync the data (and the directory) before/after the rename; default true. Playlists rewritten
   * every segment skip it: a crash loses at most the newest playlist, rebuilt from disk on restart. */
  fsync?: boolean;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const fsync = opts.fsync ?? true;
  let mode = opts.mode;
  if (mode === undefined) mode = await stat(file).then((s) => s.mode & 0o7777, () => 0o644);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      if (fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.mode !== undefined) await chmod(tmp, opts.mode); // open()'s mode is filtered by the umask
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  if (fsync) await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* some filesystems refuse fsync on a directory: the rename is still atomic */
  }
}
