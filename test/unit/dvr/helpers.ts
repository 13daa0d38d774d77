/** Synthetic archives for DVR unit tests: small fake segment files in the real layout. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { segmentPath } from '../../../src/dvr/index-file.js';
import { SegTable } from '../../../src/dvr/table.js';
import { tempDir } from '../../helpers/index.js';

/** A temp archive root, removed after the test (test/helpers tempDir). */
export function tempRoot(t: { after: (fn: () => Promise<void>) => void }, prefix = 'flux-dvr-'): Promise<string> {
  return tempDir(t, prefix);
}

/** 2026-11-24T22:00:00Z */
export const T0 = Date.UTC(2026, 10, 24, 22, 0, 0);

export interface FakeSeg {
  startMs: number;
  durationMs: number;
  bytes: number;
}

/** `count` contiguous segments from `start`, each `dur` ms, `bytes` long (content = a byte pattern naming the segment). */
export function run(start: number, count: number, dur = 2000, bytes = 100): FakeSeg[] {
  return Array.from({ length: count }, (_, i) => ({ startMs: start + i * dur, durationMs: dur, bytes }));
}

export function content(s: FakeSeg): Buffer {
  const b = Buffer.alloc(s.bytes, s.startMs % 251);
  b.write(`${s.startMs}`, 0, 'latin1');
  return b;
}

export async function writeSegments(root: string, rendition: string, segs: FakeSeg[]): Promise<void> {
  for (const s of segs) {
    const p = segmentPath(root, rendition, s.startMs, s.durationMs);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, content(s));
  }
}

export function tableOf(segs: FakeSeg[], opts: { discontinuityAt?: number[] } = {}): SegTable {
  const t = new SegTable(segs.length);
  segs.forEach((s, i) => t.push({ ...s, mediaSequence: i, discontinuity: opts.discontinuityAt?.includes(i) ?? false }));
  return t;
}
