/**
 * The supervisor's spec file, written by the node agent:
 * `{ stream: ResolvedStream, server: ResolvedServer, specHash, ffmpeg }`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { ResolvedServer, ResolvedStream } from '../../config/model.js';
import { InputError } from '../../core/errors.js';
import { assertStreamName, safeJoin, streamFileName } from '../../core/paths.js';

export interface SupervisorSpec {
  stream: ResolvedStream;
  server: ResolvedServer;
  specHash: string;
  ffmpeg: string;
}

/** sha256 of JSON.stringify(stream), as the node computes it. */
export function specHashOf(stream: ResolvedStream): string {
  return createHash('sha256').update(JSON.stringify(stream)).digest('hex');
}

export function parseSpec(text: string, file = 'spec'): SupervisorSpec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not JSON: ${(e as Error).message}`, { code: 'E_SPEC' });
  }
  const problems: string[] = [];
  const d = doc as Partial<SupervisorSpec> | null;
  if (!d || typeof d !== 'object') throw new InputError(`${file}: not an object`, { code: 'E_SPEC' });
  const s = d.stream as Partial<ResolvedStream> | undefined;
  if (!s || typeof s !== 'object') problems.push('stream is missing');
  else {
    if (typeof s.name !== 'string') problems.push('stream.name is missing');
    if (!Array.isArray(s.inputs)) problems.push('stream.inputs is not an array');
    else
      s.inputs.forEach((i, k) => {
        if (!i || typeof i.url !== 'string') problems.push(`stream.inputs[${k}].url is missing`);
        else if (typeof i.scheme !== 'string') problems.push(`stream.inputs[${k}].scheme is missing`);
      });
    if (typeof s.root !== 'string' || !path.isAbsolute(s.root)) problems.push('stream.root must be an absolute path');
    if (!Array.isArray(s.renditions) || s.renditions.length === 0) problems.push('stream.renditions is empty');
    if (!s.hls || typeof s.hls.segmentDurationMs !== 'number') problems.push('stream.hls.segmentDurationMs is missing');
    if (!Array.isArray(s.push)) problems.push('stream.push is not an array');
  }
  if (!d.server || typeof d.server !== 'object' || typeof d.server.runDir !== 'string') problems.push('server.runDir is missing');
  if (typeof d.ffmpeg !== 'string' || !d.ffmpeg) problems.push('ffmpeg (path) is missing');
  if (problems.length) throw new InputError(`${file}: invalid supervisor spec: ${problems.join('; ')}`, { code: 'E_SPEC' });
  try {
    assertStreamName(s!.name!);
  } catch (e) {
    throw new InputError(`${file}: ${(e as Error).message}`, { code: 'E_SPEC' });
  }
  return { stream: d.stream!, server: d.server!, specHash: typeof d.specHash === 'string' ? d.specHash : specHashOf(d.stream!), ffmpeg: d.ffmpeg! };
}

export async function readSpec(file: string): Promise<SupervisorSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read spec ${file}: ${(e as Error).message}`, { code: 'E_SPEC' });
  }
  return parseSpec(text, file);
}

/** `<run>/streams/<f>.sock|.pid` for a stream. */
export function runFiles(runDir: string, stream: string): { dir: string; sock: string; pid: string; spec: string; log: string } {
  const dir = safeJoin(runDir, 'streams');
  const f = streamFileName(stream);
  return {
    dir,
    sock: path.join(dir, `${f}.sock`),
    pid: path.join(dir, `${f}.pid`),
    spec: path.join(dir, `${f}.json`),
    log: path.join(dir, `${f}.log`),
  };
}
