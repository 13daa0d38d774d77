/**
 * What `flux probe` does: an ffprobe summary of a URL or file (container, duration, and per stream: codec,
 * profile, resolution, fps, bitrate, channels, sample rate), with a hard timeout.
 * ffprobe: FLUX_FFPROBE → server.ffprobe → next to the resolved ffmpeg → PATH (src/ffmpeg resolveFfprobe).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExternalError, InputError } from '../core/errors.js';
import { runCommand } from '../core/run.js';
import { resolveFfmpeg, resolveFfprobe } from '../ffmpeg/resolve.js';
import { ffprobeArgs } from '../ffmpeg/probe-args.js';

export { ffprobeArgs };

export interface ProbeStream {
  index: number;
  type: string;
  codec: string | null;
  profile: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrate: number | null;
  channels: number | null;
  sample_rate: number | null;
  pix_fmt: string | null;
  language: string | null;
}

export interface ProbeResult {
  source: string;
  ffprobe: string;
  format: { name: string | null; long_name: string | null; duration: number | null; bitrate: number | null; size: number | null; start_time: number | null };
  streams: ProbeStream[];
}

export interface ProbeOptions {
  timeoutMs?: number;
  /** explicit ffprobe (server.ffprobe); else resolved */
  ffprobe?: string;
  ffmpeg?: string;
}


/** Flux input URL → what ffprobe opens (hls:// → http://, tshttp:// → http://, file:// → path). */
export function probeTarget(source: string): { target: string; scheme: string } {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source);
  if (!m) {
    if (!existsSync(source)) throw new InputError(`${source}: no such file (give a file or a URL)`, { code: 'E_NOENT' });
    return { target: path.resolve(source), scheme: 'file' };
  }
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'file') {
    const p = fileURLToPath(source);
    if (!existsSync(p)) throw new InputError(`${p}: no such file`, { code: 'E_NOENT' });
    return { target: p, scheme };
  }
  if (scheme === 'publish' || scheme === 'fake') throw new InputError(`${scheme}:// is a Flux source, not something ffprobe can open`, { code: 'E_INPUT' });
  const alias: Record<string, string> = { hls: 'http', hlss: 'https', tshttp: 'http', tshttps: 'https' };
  const target = alias[scheme] ? source.replace(/^[a-z]+:/i, `${alias[scheme]}:`) : source;
  return { target, scheme: alias[scheme] ?? scheme };
}

async function resolveProbe(opts: ProbeOptions): Promise<string> {
  // ffprobe is looked for next to the ffmpeg in use; no ffmpeg is no reason not to probe
  const ffmpegPath = await resolveFfmpeg(opts.ffmpeg).then((r) => r.path, () => undefined);
  return (await resolveFfprobe(opts.ffprobe, ffmpegPath)).path;
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

function rate(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const [a, b] = v.split('/').map(Number);
  if (!a || !b || !Number.isFinite(a / b)) return null;
  return Math.round((a / b) * 1000) / 1000;
}

export function summarize(source: string, ffprobe: string, raw: { format?: Record<string, unknown>; streams?: Record<string, unknown>[] }): ProbeResult {
  const f = raw.format ?? {};
  return {
    source,
    ffprobe,
    format: {
      name: (f.format_name as string) ?? null,
      long_name: (f.format_long_name as string) ?? null,
      duration: num(f.duration),
      bitrate: num(f.bit_rate),
      size: num(f.size),
      start_time: num(f.start_time),
    },
    streams: (raw.streams ?? []).map((s) => ({
      index: (s.index as number) ?? 0,
      type: (s.codec_type as string) ?? 'unknown',
      codec: (s.codec_name as string) ?? null,
      profile: (s.profile as string) ?? null,
      width: num(s.width),
      height: num(s.height),
      fps: s.codec_type === 'video' ? (rate(s.avg_frame_rate) ?? rate(s.r_frame_rate)) : null,
      bitrate: num(s.bit_rate),
      channels: num(s.channels),
      sample_rate: num(s.sample_rate),
      pix_fmt: (s.pix_fmt as string) ?? null,
      language: ((s.tags as Record<string, string> | undefined)?.language as string) ?? null,
    })),
  };
}

export async function probeSource(source: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { target, scheme } = probeTarget(source);
  const bin = await resolveProbe(opts);
  const args = ffprobeArgs(target, scheme, timeoutMs);
  const r = await runCommand(bin, args, { timeoutMs: timeoutMs + 500, maxStderr: 4000 });
  if (r.spawnError) throw new ExternalError(`cannot run ${bin}: ${r.spawnError}`, bin, args);
  if (r.timedOut) throw new ExternalError(`cannot probe ${source}: no answer within ${Math.round(timeoutMs / 100) / 10} s`, bin, args, { stderr: r.stderr });
  if (r.code !== 0) {
    const lastLine = r.stderr.trim().split('\n').filter(Boolean).pop()?.replace(`${target}: `, '');
    throw new ExternalError(`cannot probe ${source}: ${lastLine ?? `ffprobe exited with code ${r.code}`}`, bin, args, { stderr: r.stderr });
  }
  let raw: Parameters<typeof summarize>[2];
  try {
    raw = JSON.parse(r.stdout.toString('utf8')) as Parameters<typeof summarize>[2];
  } catch (e) {
    throw new ExternalError(`cannot probe ${source}: ffprobe printed no JSON`, bin, args, { cause: e, stderr: r.stderr });
  }
  const result = summarize(source, bin, raw);
  if (!result.streams.length) throw new ExternalError(`cannot probe ${source}: no audio/video streams found`, bin, args, { stderr: r.stderr });
  return result;
}
