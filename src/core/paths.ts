import path from 'node:path';
import { PathError } from './errors.js';

/**
 * The one guard every path built from a stream name (or any user-supplied path part) goes through.
 * Stream names may contain `/` (like Flussonic's `cams/door`) but never `..`, never an absolute
 * path, never an empty segment, never backslashes or control characters, never a segment starting
 * with `.`: such names would be hidden directories on disk, and the writers' temporary files
 * (`.<random>.tmp`, half-written segments) must never be reachable through a name or URL.
 */
const CONTROL = /[\u0000-\u001f\u007f]/;
const NAME_CHARS = /^[A-Za-z0-9._~@+=,:-]+$/;

/** Returns a reason the name is unsafe, or undefined when it is fine. */
export function streamNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'stream name is empty';
  if (name.length > 200) return 'stream name is longer than 200 characters';
  if (CONTROL.test(name)) return 'stream name contains a control character';
  if (name.includes('\\')) return 'stream name contains a backslash';
  if (name.startsWith('/')) return 'stream name is an absolute path';
  const parts = name.split('/');
  for (const p of parts) {
    if (p === '') return 'stream name has an empty path segment';
    if (p === '..' || p === '.') return `stream name contains a "${p}" segment`;
    if (p.startsWith('.')) return `stream name segment "${p}" starts with "."`;
    if (!NAME_CHARS.test(p)) return `stream name segment "${p}" has characters outside [A-Za-z0-9._~@+=,:-]`;
  }
  return undefined;
}

export function assertStreamName(name: string): string {
  const problem = streamNameProblem(name);
  if (problem) throw new PathError(`${problem}: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Join a base directory with a relative, user-influenced path (a stream name, a rendition, a file
 * name). Every segment is checked, and the result is verified to stay inside `base`.
 */
export function safeJoin(base: string, ...parts: string[]): string {
  for (const part of parts) {
    const problem = streamNameProblem(part);
    if (problem) throw new PathError(`${problem}: ${JSON.stringify(part)}`);
  }
  const root = path.resolve(base);
  const full = path.resolve(root, ...parts);
  if (full !== root && !full.startsWith(root + path.sep)) {
    throw new PathError(`path escapes its base: ${JSON.stringify(parts.join('/'))}`);
  }
  return full;
}

/** Directory for one stream under a base dir (data dir, run dir). */
export function streamDir(base: string, stream: string): string {
  return safeJoin(base, assertStreamName(stream));
}

/** Flatten a stream name into one safe file name (for sockets/pids: `cams/door` → `cams%2Fdoor`). */
export function streamFileName(stream: string): string {
  assertStreamName(stream);
  return stream.replaceAll('%', '%25').replaceAll('/', '%2F');
}
