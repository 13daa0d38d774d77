/**
 * What an ffmpeg binary can do: version, encoders, decoders, protocols, hwaccels, filters,
 * (de)muxers — parsed from `ffmpeg -hide_banner -encoders|-decoders|-protocols|-hwaccels|-filters|
 * -demuxers|-muxers` — plus hardware presence. Cached per binary path.
 * `hwSupport()` decides whether a GPU backend is usable: encoder compiled in AND device present.
 */
import { ExternalError } from '../core/errors.js';
import { runCommand, runFailure } from '../core/run.js';
import type { HwBackend } from '../config/model.js';
import { detectHardware, VENDOR_NAMES, type HardwareInfo, type HardwareProbeOptions } from './hw-detect.js';

export interface FfmpegCaps {
  path: string;
  /** version string as printed (`5.1.9-0+deb12u1`, `n7.1`, `N-113000-g…`) */
  version: string;
  /** numeric major.minor when the version string has one */
  major: number | null;
  minor: number | null;
  configuration: string;
  encoders: ReadonlySet<string>;
  decoders: ReadonlySet<string>;
  protocols: { input: ReadonlySet<string>; output: ReadonlySet<string> };
  hwaccels: ReadonlySet<string>;
  filters: ReadonlySet<string>;
  demuxers: ReadonlySet<string>;
  muxers: ReadonlySet<string>;
  hardware: HardwareInfo;
}

/** JSON-friendly form (sets as sorted arrays) for `--json` and status documents. */
export function capsToJSON(c: FfmpegCaps): Record<string, unknown> {
  const arr = (s: ReadonlySet<string>) => [...s].sort();
  return {
    path: c.path,
    version: c.version,
    major: c.major,
    minor: c.minor,
    encoders: arr(c.encoders),
    decoders: arr(c.decoders),
    protocols: { input: arr(c.protocols.input), output: arr(c.protocols.output) },
    hwaccels: arr(c.hwaccels),
    filters: arr(c.filters),
    demuxers: arr(c.demuxers),
    muxers: arr(c.muxers),
    hardware: c.hardware,
  };
}

// ---------------------------------------------------------------------------------------------
// parsers (pure, unit-tested on captured output)

export function parseVersion(text: string): { version: string; major: number | null; minor: number | null; configuration: string } {
  const m = /(?:ffmpeg|ffprobe) version (\S+)/.exec(text);
  const version = m ? m[1]! : 'unknown';
  const num = /^n?(\d+)\.(\d+)/.exec(version);
  const conf = /^configuration:\s*(.*)$/m.exec(text);
  return { version, major: num ? Number(num[1]) : null, minor: num ? Number(num[2]) : null, configuration: conf ? conf[1]!.trim() : '' };
}

/** `-encoders` / `-decoders`: ` V....D libx264   libx264 H.264 …` after the ` ------` line. */
export function parseCodecList(text: string): Set<string> {
  const out = new Set<string>();
  let started = false;
  for (const line of text.split('\n')) {
    if (!started) {
      if (/^\s*-{6}/.test(line)) started = true;
      continue;
    }
    const m = /^\s*([VASD.][A-Z.]{5})\s+(\S+)/.exec(line);
    if (m) out.add(m[2]!);
  }
  return out;
}

/** `-protocols`: `Input:` then names, `Output:` then names. */
export function parseProtocols(text: string): { input: Set<string>; output: Set<string> } {
  const input = new Set<string>();
  const output = new Set<string>();
  let cur: Set<string> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^Input:?$/i.test(line)) cur = input;
    else if (/^Output:?$/i.test(line)) cur = output;
    else if (cur && /^[a-z0-9_+-]+$/i.test(line)) cur.add(line);
  }
  return { input, output };
}

/** `-hwaccels`: `Hardware acceleration methods:` then one name per line. */
export function parseHwaccels(text: string): Set<string> {
  const out = new Set<string>();
  let started = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^Hardware acceleration methods:?/i.test(line)) {
      started = true;
      continue;
    }
    if (started && /^[a-z0-9_]+$/i.test(line)) out.add(line);
  }
  return out;
}

/** `-filters`: ` TSC scale   V->V   Scale …` (flags column, name, io). */
export function parseFilters(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([T.][S.][C.])\s+(\S+)\s+\S*->\S*/.exec(line);
    if (m) out.add(m[2]!);
  }
  return out;
}

/** `-demuxers` / `-muxers`: ` D  mpegts   MPEG-TS …` after ` --`. Names may be comma lists (`mov,mp4,…`). */
export function parseFormats(text: string): Set<string> {
  const out = new Set<string>();
  let started = false;
  for (const line of text.split('\n')) {
    if (!started) {
      if (/^\s*--\s*$/.test(line)) started = true;
      continue;
    }
    const m = /^\s*([DE]{1,2})\s+(\S+)/.exec(line);
    if (m) for (const n of m[2]!.split(',')) out.add(n);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// detection (I/O)

async function run(bin: string, args: string[]): Promise<string> {
  const r = await runCommand(bin, args);
  const why = runFailure(r) ?? (r.truncated ? 'output too long' : undefined);
  if (why) throw new ExternalError(`${bin} ${args.join(' ')} failed: ${why}`, bin, args, { stderr: r.stderr });
  return r.stdout.toString('utf8') + r.stderr;
}

const cache = new Map<string, Promise<FfmpegCaps>>();

export interface DetectOptions {
  /** ignore the cache */
  refresh?: boolean;
  hardware?: HardwareProbeOptions;
}

/** Capabilities of the ffmpeg at `ffmpegPath` (cached per path; a failed probe is not cached). */
export function detectCaps(ffmpegPath: string, opts: DetectOptions = {}): Promise<FfmpegCaps> {
  const hit = cache.get(ffmpegPath);
  if (hit && !opts.refresh) return hit;
  const p = (async (): Promise<FfmpegCaps> => {
    const q = (flag: string) => run(ffmpegPath, ['-hide_banner', flag]);
    const [version, encoders, decoders, protocols, hwaccels, filters, demuxers, muxers, hardware] = await Promise.all([
      run(ffmpegPath, ['-version']),
      q('-encoders'),
      q('-decoders'),
      q('-protocols'),
      q('-hwaccels'),
      q('-filters'),
      q('-demuxers'),
      q('-muxers'),
      detectHardware(opts.hardware),
    ]);
    const v = parseVersion(version);
    return {
      path: ffmpegPath,
      ...v,
      encoders: parseCodecList(encoders),
      decoders: parseCodecList(decoders),
      protocols: parseProtocols(protocols),
      hwaccels: parseHwaccels(hwaccels),
      filters: parseFilters(filters),
      demuxers: parseFormats(demuxers),
      muxers: parseFormats(muxers),
      hardware,
    };
  })();
  cache.set(ffmpegPath, p);
  p.catch(() => cache.delete(ffmpegPath));
  return p;
}

export function clearCapsCache(): void {
  cache.clear();
}

/** `ffprobe -version` → version string (for doctor). */
export async function probeVersion(bin: string): Promise<string> {
  return parseVersion(await run(bin, ['-version'])).version;
}

// ---------------------------------------------------------------------------------------------
// hardware backends

export const HW_ENCODERS: Record<Exclude<HwBackend, 'cpu'>, { h264: string; h265: string }> = {
  nvenc: { h264: 'h264_nvenc', h265: 'hevc_nvenc' },
  qsv: { h264: 'h264_qsv', h265: 'hevc_qsv' },
  vaapi: { h264: 'h264_vaapi', h265: 'hevc_vaapi' },
};

export const CPU_ENCODERS = { h264: 'libx264', h265: 'libx265' } as const;

export const DEFAULT_RENDER_NODE = '/dev/dri/renderD128';

export type HwSupport = { ok: true; device: string } | { ok: false; reason: string };

/** NVIDIA device index from `transcoder.device` (`0`, `1`, `cuda:1`, `/dev/nvidia1`). */
export function nvidiaIndex(device?: string): number {
  const m = device ? /(\d+)\s*$/.exec(device) : null;
  return m ? Number(m[1]) : 0;
}

/** The DRM render node a qsv/vaapi backend uses: `transcoder.device` or the first present or renderD128. */
export function renderNodeFor(device: string | undefined, hw?: HardwareInfo): string {
  if (device && device.startsWith('/')) return device;
  if (device && /^renderD\d+$/.test(device)) return `/dev/dri/${device}`;
  return hw?.renderNodes[0]?.path ?? DEFAULT_RENDER_NODE;
}

/**
 * Can this ffmpeg run `backend` here? Encoder compiled in (for each codec asked) AND device present.
 * The reason is one line meant for operators (`nvenc requested but no NVIDIA device (/dev/nvidia0 missing)`).
 */
export function hwSupport(caps: FfmpegCaps, backend: HwBackend, device?: string, codecs: ('h264' | 'h265')[] = ['h264']): HwSupport {
  if (backend === 'cpu') return { ok: true, device: 'cpu' };
  const names = HW_ENCODERS[backend];
  for (const c of new Set(codecs)) {
    if (!caps.encoders.has(names[c])) return { ok: false, reason: `${backend} requested but ${caps.path} has no ${names[c]} encoder` };
  }
  if (backend === 'nvenc') {
    const idx = nvidiaIndex(device);
    const dev = `/dev/nvidia${idx}`;
    const present = caps.hardware.nvidia.devices.includes(dev) || caps.hardware.nvidia.smiGpus.length > idx;
    if (!present) return { ok: false, reason: `nvenc requested but no NVIDIA device (${dev} missing)` };
    return { ok: true, device: String(idx) };
  }
  const node = renderNodeFor(device, caps.hardware);
  const found = caps.hardware.renderNodes.find((n) => n.path === node);
  if (!found) return { ok: false, reason: `${backend} requested but no GPU render node (${node} missing)` };
  if (backend === 'qsv' && found.vendor && found.vendor !== '0x8086') {
    return { ok: false, reason: `qsv requested but ${node} is not an Intel GPU (vendor ${VENDOR_NAMES[found.vendor] ?? found.vendor})` };
  }
  return { ok: true, device: node };
}
