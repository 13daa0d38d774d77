/**
 * `flux probe`: an ffprobe summary of a URL or file (container, duration, and per stream: codec,
 * profile, resolution, fps, bitrate, channels, sample rate), with a hard timeout.
 * ffprobe: FLUX_FFPROBE → server.ffprobe → next to the resolved ffmpeg → PATH (src/ffmpeg resolveFfprobe).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExternalError, InputError } from '../core/errors.js';

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

const NETWORK = new Set(['http', 'https', 'rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt', 'udp', 'rtp', 'tcp', 'hls', 'hlss', 'tshttp', 'tshttps']);

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

export function ffprobeArgs(target: string, scheme: string, timeoutMs: number): string[] {
  const args = ['-v', 'error', '-hide_banner', '-print_format', 'json', '-show_format', '-show_streams'];
  const us = String(Math.max(1, Math.round(timeoutMs * 1000)));
  if (scheme === 'rtsp' || scheme === 'rtsps' || scheme === 'srt' || scheme === 'udp' || scheme === 'rtp') args.push('-timeout', us);
  else if (NETWORK.has(scheme)) args.push('-rw_timeout', us);
  if (scheme === 'rtsp' || scheme === 'rtsps') args.push('-rtsp_transport', 'tcp');
  args.push('-i', target);
  return args;
}

async function resolveProbe(opts: ProbeOptions): Promise<string> {
  try {
    const mod = (await import('../ffmpeg/resolve.js')) as {
      resolveFfmpeg: (c?: string) => Promise<{ path: string }>;
      resolveFfprobe: (c?: string, ff?: string) => Promise<{ path: string }>;
    };
    let ffmpegPath: string | undefined;
    try {
      ffmpegPath = (await mod.resolveFfmpeg(opts.ffmpeg)).path;
    } catch {
      ffmpegPath = undefined;
    }
    return (await mod.resolveFfprobe(opts.ffprobe, ffmpegPath)).path;
  } catch (e) {
    if (e instanceof ExternalError) throw e;
    return process.env.FLUX_FFPROBE ?? opts.ffprobe ?? 'ffprobe';
  }
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
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs + 500);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ExternalError(`cannot run ${bin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, bin, args, { cause: e }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const lastLine = err.trim().split('\n').filter(Boolean).pop()?.replace(`${target}: `, '');
      if (timedOut) return reject(new ExternalError(`cannot probe ${source}: no answer within ${Math.round(timeoutMs / 100) / 10} s`, bin, args, { stderr: err }));
      if (code !== 0) return reject(new ExternalError(`cannot probe ${source}: ${lastLine ?? `ffprobe exited with code ${code}`}`, bin, args, { stderr: err }));
      try {
        const raw = JSON.parse(Buffer.concat(out).toString('utf8')) as Parameters<typeof summarize>[2];
        const r = summarize(source, bin, raw);
        if (!r.streams.length) return reject(new ExternalError(`cannot probe ${source}: no audio/video streams found`, bin, args, { stderr: err }));
        resolve(r);
      } catch (e) {
        reject(new ExternalError(`cannot probe ${source}: ffprobe printed no JSON`, bin, args, { cause: e, stderr: err }));
      }
    });
  });
}
