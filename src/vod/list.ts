/**
 * `flux vod ls`: the MP4 files of each vod: location, read from disk (no node needed), with what
 * the server would make of each: duration, tracks, segment count, or why it cannot be served.
 */
import { readdir, stat } from 'node:fs/promises';
import { streamNameProblem } from '../core/paths.js';
import path from 'node:path';
import { VodFileError, VodService } from './vod.js';
import type { VodFileEntry } from '../protocol/api.js';


export type { VodFileEntry } from '../protocol/api.js';

const MEDIA = /\.(mp4|m4v|mov)$/i;
const MAX_FILES = 10_000;
const MAX_DEPTH = 8;

export async function listVod(locations: Record<string, { path: string }>, only?: string): Promise<VodFileEntry[]> {
  const svc = new VodService(() => 'ffmpeg'); // the index needs no ffmpeg
  const out: VodFileEntry[] = [];
  for (const [name, loc] of Object.entries(locations)) {
    if (only !== undefined && name !== only) continue;
    const files: string[] = [];
    const walk = async (dir: string, rel: string[], depth: number): Promise<void> => {
      if (depth > MAX_DEPTH || files.length >= MAX_FILES) return;
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.name.startsWith('.')) continue; // never served (the path guard refuses them)
        if (e.isDirectory()) await walk(path.join(dir, e.name), [...rel, e.name], depth + 1);
        else if (e.isFile() && MEDIA.test(e.name)) files.push([...rel, e.name].join('/'));
      }
    };
    await walk(loc.path, [], 0);
    for (const f of files) {
      const full = path.join(loc.path, ...f.split('/'));
      const entry: VodFileEntry = { location: name, file: f, url: `/vod/${name}/${f}/index.m3u8`, size: 0, durationSec: null, segments: null, video: null, audio: null, error: null };
      try {
        entry.size = (await stat(full)).size;
        // the URL goes through the path guard: a name it refuses cannot be played
        const bad = f.split('/').map(streamNameProblem).find(Boolean);
        if (bad) throw new VodFileError(`file name cannot be served: ${bad.replace('stream name', 'name')}`);
        const vf = await svc.file(full);
        const v = vf.index.tracks.find((t) => t.kind === 'video');
        const a = vf.index.tracks.find((t) => t.kind === 'audio');
        entry.durationSec = Math.round(vf.index.durationSec * 1000) / 1000;
        entry.segments = vf.segments.length;
        entry.video = v ? `${v.codec}${v.width ? ` ${v.width}x${v.height}` : ''}` : null;
        entry.audio = a ? a.codec : null;
      } catch (e) {
        entry.error = e instanceof VodFileError ? e.message : (e as Error).message;
      }
      out.push(entry);
    }
  }
  return out;
}
