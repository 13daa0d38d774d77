/**
 * Where a stream's archive lives, for the `flux dvr` commands: from the config file (stream → root,
 * renditions), or from `--root DIR` alone (renditions found on disk). No node is needed.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { assertStreamName } from '../core/paths.js';
import type { ResolvedDvr } from '../config/model.js';
import { YEAR_DIR, INDEX_DIR } from '../protocol/layout.js';

export interface LocatedStream {
  name: string;
  root: string;
  renditions: string[];
  dvr?: ResolvedDvr;
  config?: string;
  ffmpeg?: string;
}

/** Rendition dirs under a stream root: those with an index/ or a year dir. */
export async function renditionsOnDisk(root: string): Promise<string[]> {
  let ents;
  try {
    ents = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of ents) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const sub = await readdir(path.join(root, e.name)).catch(() => [] as string[]);
    if (sub.some((n) => n === INDEX_DIR || YEAR_DIR.test(n))) out.push(e.name);
  }
  return out.sort();
}

function closest(name: string, names: string[]): string | undefined {
  const d = (a: string, b: string) => {
    const m = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) m[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        m[i]![j] = Math.min(m[i - 1]![j]! + 1, m[i]![j - 1]! + 1, m[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return m[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bd = Infinity;
  for (const n of names) {
    const x = d(name, n);
    if (x < bd) {
      bd = x;
      best = n;
    }
  }
  return bd <= Math.max(2, name.length / 3) ? best : undefined;
}

export async function locateStream(opts: { stream: string; config: string; root?: string }): Promise<LocatedStream> {
  assertStreamName(opts.stream);
  if (opts.root) {
    const root = path.resolve(opts.root);
    return { name: opts.stream, root, renditions: await renditionsOnDisk(root) };
  }
  const { loadConfigFile } = await import('../config/load.js');
  const loaded = await loadConfigFile(opts.config);
  const s = loaded.resolved.streams[opts.stream];
  if (!s) {
    const hint = closest(opts.stream, Object.keys(loaded.resolved.streams));
    throw new InputError(`stream "${opts.stream}" not found in ${loaded.file}${hint ? ` (did you mean "${hint}"?)` : ''}`, { code: 'E_NOT_FOUND' });
  }
  return {
    name: s.name,
    root: s.dvr?.root ?? s.root,
    renditions: s.renditions,
    dvr: s.dvr,
    config: loaded.file,
    ffmpeg: loaded.resolved.server.ffmpeg,
  };
}
