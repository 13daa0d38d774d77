/**
 * Which ffmpeg the node hands to supervisors, and its version line (for `flux node status`).
 * Uses src/ffmpeg's resolveFfmpeg (FLUX_FFMPEG → config → PATH → package) when present.
 */
import { execFile } from 'node:child_process';

export interface FfmpegInfo {
  path: string;
  source: string;
  version: string | null;
}

type Resolver = (configured?: string) => Promise<{ path: string; source: string }>;

async function loadResolver(): Promise<Resolver | undefined> {
  for (const spec of ['../../ffmpeg/index.js', '../../ffmpeg/resolve.js']) {
    try {
      const mod = (await import(spec)) as { resolveFfmpeg?: Resolver };
      if (typeof mod.resolveFfmpeg === 'function') return mod.resolveFfmpeg;
    } catch {
      /* not there */
    }
  }
  return undefined;
}

export async function resolveFfmpegInfo(configured?: string): Promise<FfmpegInfo> {
  let found: { path: string; source: string } | undefined;
  const resolver = await loadResolver();
  if (resolver) {
    try {
      found = await resolver(configured);
    } catch {
      found = undefined;
    }
  }
  found ??= process.env.FLUX_FFMPEG
    ? { path: process.env.FLUX_FFMPEG, source: 'env' }
    : configured
      ? { path: configured, source: 'config' }
      : { path: 'ffmpeg', source: 'path' };
  return { ...found, version: await versionLine(found.path) };
}

export function versionLine(bin: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(bin, ['-hide_banner', '-version'], { timeout: 5000 }, (err, stdout) => {
      if (err) return resolve(null);
      const first = String(stdout).split('\n')[0]?.trim();
      resolve(first || null);
    });
  });
}
