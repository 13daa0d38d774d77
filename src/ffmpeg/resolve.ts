/**
 * Which ffmpeg/ffprobe binary Flux runs, and why:
 *   ffmpeg:  FLUX_FFMPEG env → config `server.ffmpeg` → `ffmpeg` on PATH → a binary shipped in an npm package
 *   ffprobe: FLUX_FFPROBE env → config `server.ffprobe` → `ffprobe` next to the resolved ffmpeg → PATH → npm package
 * An explicit choice (env or config) that does not point at an executable is an error, never silently skipped.
 */
import { access, constants, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ExternalError } from '../core/errors.js';

export type BinarySource = 'env' | 'config' | 'path' | 'package';
export type ProbeSource = BinarySource | 'sibling';

export interface ResolvedBinary<S extends string = BinarySource> {
  path: string;
  source: S;
}

export interface ResolveOptions {
  /** environment to read (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** look in npm packages that ship a binary (default true) */
  packages?: boolean;
}

export const INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or set FLUX_FFMPEG / server.ffmpeg to its path';

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await stat(p);
    if (!st.isFile()) return false;
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Find `name` in the PATH directories (like `command -v`). */
export async function findOnPath(name: string, envPath: string | undefined = process.env.PATH): Promise<string | undefined> {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** A configured value: an absolute/relative path, or a bare command name looked up on PATH. */
async function resolveExplicit(tool: string, value: string, from: string, env: NodeJS.ProcessEnv): Promise<string> {
  const hasSep = value.includes('/') || value.includes(path.sep);
  const found = hasSep ? ((await isExecutableFile(value)) ? path.resolve(value) : undefined) : await findOnPath(value, env.PATH);
  if (!found) {
    throw new ExternalError(`${tool} from ${from} is not an executable file: ${value}`, value, [], {});
  }
  return found;
}

/** Binaries shipped by npm packages (optional; none is a dependency of Flux). */
async function fromPackage(tool: 'ffmpeg' | 'ffprobe'): Promise<string | undefined> {
  const require = createRequire(import.meta.url);
  const candidates: [string, (m: unknown) => unknown][] =
    tool === 'ffmpeg'
      ? [
          ['@ffmpeg-installer/ffmpeg', (m) => (m as { path?: string }).path],
          ['ffmpeg-static', (m) => m],
        ]
      : [
          ['@ffprobe-installer/ffprobe', (m) => (m as { path?: string }).path],
          ['ffprobe-static', (m) => (m as { path?: string }).path],
        ];
  for (const [pkg, pick] of candidates) {
    try {
      const p = pick(require(pkg));
      if (typeof p === 'string' && (await isExecutableFile(p))) return p;
    } catch {
      // not installed
    }
  }
  return undefined;
}

/** FLUX_FFMPEG → config `server.ffmpeg` → `ffmpeg` on PATH → npm package; else ExternalError with an install hint. */
export async function resolveFfmpeg(configured?: string, opts: ResolveOptions = {}): Promise<ResolvedBinary> {
  const env = opts.env ?? process.env;
  if (env.FLUX_FFMPEG) return { path: await resolveExplicit('ffmpeg', env.FLUX_FFMPEG, 'FLUX_FFMPEG', env), source: 'env' };
  if (configured) return { path: await resolveExplicit('ffmpeg', configured, 'server.ffmpeg', env), source: 'config' };
  const onPath = await findOnPath('ffmpeg', env.PATH);
  if (onPath) return { path: onPath, source: 'path' };
  if (opts.packages !== false) {
    const pkg = await fromPackage('ffmpeg');
    if (pkg) return { path: pkg, source: 'package' };
  }
  throw new ExternalError(`ffmpeg not found on PATH: ${INSTALL_HINT}`, 'ffmpeg', []);
}

/** FLUX_FFPROBE → config `server.ffprobe` → `ffprobe` next to the resolved ffmpeg → PATH → npm package. */
export async function resolveFfprobe(configured?: string, ffmpegPath?: string, opts: ResolveOptions = {}): Promise<ResolvedBinary<ProbeSource>> {
  const env = opts.env ?? process.env;
  if (env.FLUX_FFPROBE) return { path: await resolveExplicit('ffprobe', env.FLUX_FFPROBE, 'FLUX_FFPROBE', env), source: 'env' };
  if (configured) return { path: await resolveExplicit('ffprobe', configured, 'server.ffprobe', env), source: 'config' };
  if (ffmpegPath) {
    const base = path.basename(ffmpegPath);
    const siblingName = base.includes('ffmpeg') ? base.replace('ffmpeg', 'ffprobe') : 'ffprobe';
    const sibling = path.join(path.dirname(ffmpegPath), siblingName);
    if (await isExecutableFile(sibling)) return { path: sibling, source: 'sibling' };
  }
  const onPath = await findOnPath('ffprobe', env.PATH);
  if (onPath) return { path: onPath, source: 'path' };
  if (opts.packages !== false) {
    const pkg = await fromPackage('ffprobe');
    if (pkg) return { path: pkg, source: 'package' };
  }
  throw new ExternalError(
    'ffprobe not found on PATH: install it (Debian/Ubuntu: apt-get install ffmpeg, which ships ffprobe) or set FLUX_FFPROBE / server.ffprobe',
    'ffprobe',
    [],
  );
}
