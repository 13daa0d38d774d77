/**
 * Which ffmpeg the node hands to supervisors, and its version line (for `flux node status`):
 * src/ffmpeg's resolveFfmpeg (FLUX_FFMPEG → config → PATH → package).
 */
import { runCommand, runFailure } from '../../core/run.js';
import { resolveFfmpeg } from '../../ffmpeg/resolve.js';

export interface FfmpegInfo {
  path: string;
  source: string;
  version: string | null;
}

export async function resolveFfmpegInfo(configured?: string): Promise<FfmpegInfo> {
  // an ffmpeg that cannot be found is reported (null version), not fatal: supervisors say why they fail
  const env = process.env.FLUX_FFMPEG;
  const found = await resolveFfmpeg(configured).catch(() =>
    env ? { path: env, source: 'env' } : configured ? { path: configured, source: 'config' } : { path: 'ffmpeg', source: 'path' },
  );
  return { ...found, version: await versionLine(found.path) };
}

export async function versionLine(bin: string): Promise<string | null> {
  const r = await runCommand(bin, ['-hide_banner', '-version'], { timeoutMs: 5000 });
  if (runFailure(r)) return null;
  return r.stdout.toString('utf8').split('\n')[0]?.trim() || null;
}
