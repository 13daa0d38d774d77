/**
 * What `flux doctor` checks: which ffmpeg/ffprobe Flux uses and where they come from (env/config/PATH),
 * their versions, and whether the encoders, protocols and hardware Flux needs (and the config asks
 * for) are there.
 */
import { existsSync } from 'node:fs';
import { isFluxError } from '../core/errors.js';
import { loadConfigFile } from '../config/load.js';
import { resolveFfmpeg, resolveFfprobe, type ResolvedBinary, type ProbeSource } from '../ffmpeg/resolve.js';
import { detectCaps, hwSupport, probeVersion, HW_ENCODERS, type FfmpegCaps } from '../ffmpeg/caps.js';
import type { HwBackend, ResolvedConfig } from '../config/model.js';

export interface DoctorCheck {
  name: string;
  group: 'binary' | 'encoder' | 'protocol' | 'hardware' | 'stream';
  ok: boolean;
  essential: boolean;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  config: string | null;
  ffmpeg: { path: string; source: string; version: string } | null;
  ffprobe: { path: string; source: string; version: string | null } | null;
  checks: DoctorCheck[];
  hardware: FfmpegCaps['hardware'] | null;
  /** essentials that are missing (empty when ok) */
  missing: string[];
}

const HW: Exclude<HwBackend, 'cpu'>[] = ['nvenc', 'qsv', 'vaapi'];

/** Pure: the checks from what was found (unit-testable without ffmpeg). */
export function doctorChecks(
  ffmpeg: { bin: ResolvedBinary; version: string } | { error: string },
  ffprobe: { bin: ResolvedBinary<ProbeSource>; version: string | null } | { error: string },
  caps: FfmpegCaps | null,
  config?: ResolvedConfig,
): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  checks.push(
    'error' in ffmpeg
      ? { name: 'ffmpeg', group: 'binary', ok: false, essential: true, detail: ffmpeg.error }
      : { name: 'ffmpeg', group: 'binary', ok: true, essential: true, detail: `${ffmpeg.version} at ${ffmpeg.bin.path} (from ${ffmpeg.bin.source})` },
  );
  checks.push(
    'error' in ffprobe
      ? { name: 'ffprobe', group: 'binary', ok: false, essential: false, detail: `${ffprobe.error} (needed by flux probe)` }
      : { name: 'ffprobe', group: 'binary', ok: true, essential: false, detail: `${ffprobe.version ?? 'unknown version'} at ${ffprobe.bin.path} (from ${ffprobe.bin.source})` },
  );
  const noFfmpeg = 'ffmpeg not available';
  const enc = (name: string, essential: boolean, use: string): DoctorCheck => ({
    name,
    group: 'encoder',
    essential,
    ok: !!caps?.encoders.has(name),
    detail: caps ? (caps.encoders.has(name) ? use : `not compiled into this ffmpeg (${use})`) : noFfmpeg,
  });
  checks.push(enc('libx264', true, 'H.264 CPU encoding: fake:// sources and transcoder ladders'));
  checks.push(enc('aac', true, 'AAC audio'));
  checks.push(enc('libx265', false, 'H.265 CPU encoding (codec: h265)'));
  const proto = (name: string, ok: (c: FfmpegCaps) => boolean, use: string): DoctorCheck => ({
    name,
    group: 'protocol',
    essential: false,
    ok: !!caps && ok(caps),
    detail: caps ? (ok(caps) ? use : `missing (${use})`) : noFfmpeg,
  });
  checks.push(proto('srt', (c) => c.protocols.input.has('srt') && c.protocols.output.has('srt'), 'srt:// pulls and pushes (libsrt)'));
  checks.push(proto('rtmp', (c) => c.protocols.input.has('rtmp') && c.protocols.output.has('rtmp'), 'rtmp:// pulls and pushes'));
  checks.push(proto('rtmps', (c) => c.protocols.input.has('rtmps') && c.protocols.output.has('rtmps'), 'rtmps:// pulls and pushes (TLS)'));
  checks.push(proto('rtsp', (c) => c.demuxers.has('rtsp'), 'rtsp:// pulls'));
  checks.push(proto('hls', (c) => c.demuxers.has('hls') && c.protocols.input.has('https'), 'hls:// and https m3u8 pulls'));
  for (const hw of HW) {
    if (!caps) {
      checks.push({ name: hw, group: 'hardware', ok: false, essential: false, detail: noFfmpeg });
      continue;
    }
    const s = hwSupport(caps, hw);
    const compiled = caps.encoders.has(HW_ENCODERS[hw].h264);
    checks.push({
      name: hw,
      group: 'hardware',
      ok: s.ok,
      essential: false,
      detail: s.ok ? `${HW_ENCODERS[hw].h264}${caps.encoders.has(HW_ENCODERS[hw].h265) ? `/${HW_ENCODERS[hw].h265}` : ''} on ${hw === 'nvenc' ? `GPU ${s.device}` : s.device}` : compiled ? s.reason.replace(/^\w+ requested but /, '') : `${HW_ENCODERS[hw].h264} not compiled into this ffmpeg`,
    });
  }
  // streams of the config that ask for a GPU
  for (const s of Object.values(config?.streams ?? {})) {
    const t = s.transcoder;
    if (!t || t.hw === 'cpu') continue;
    const codecs = t.video.filter((p) => p.codec !== 'copy').map((p) => p.codec as 'h264' | 'h265');
    const r = caps ? hwSupport(caps, t.hw, t.device, codecs) : ({ ok: false, reason: noFfmpeg } as const);
    checks.push({
      name: `stream ${s.name}`,
      group: 'stream',
      ok: r.ok,
      essential: false,
      detail: r.ok ? `${t.hw} ready` : `${t.hw}: ${r.reason}${t.fallback === 'cpu' ? ' (will fall back to cpu)' : ' (will fail: set transcoder.fallback: cpu)'}`,
    });
  }
  return checks;
}

/**
 * The whole report. `explicit`: the config file was named (it must load); else the default file is
 * used when it is there and valid, and `note` hears why it was not.
 */
export async function doctorReport(file: string, explicit: boolean, note: (line: string) => void): Promise<DoctorReport> {
    let config: ResolvedConfig | undefined;
    if (explicit || existsSync(file)) {
      // an explicit --config must load; the default file is used when it is there and valid
      try {
        const { loadConfigFile } = await import('../config/load.js');
        config = (await loadConfigFile(file)).resolved;
      } catch (e) {
        if (explicit) throw e;
        note(`note: ${file} not used (${(e as Error).message.split('\n')[0]})`);
      }
    }
    const msg = (e: unknown) => (isFluxError(e) || e instanceof Error ? e.message : String(e));

    let ff: { bin: ResolvedBinary; version: string } | { error: string };
    let caps: FfmpegCaps | null = null;
    try {
      const bin = await resolveFfmpeg(config?.server.ffmpeg);
      caps = await detectCaps(bin.path);
      ff = { bin, version: caps.version };
    } catch (e) {
      ff = { error: msg(e) };
    }
    let fp: { bin: ResolvedBinary<ProbeSource>; version: string | null } | { error: string };
    try {
      const bin = await resolveFfprobe(config?.server.ffprobe, 'bin' in ff ? ff.bin.path : undefined);
      let version: string | null = null;
      try {
        version = await probeVersion(bin.path);
      } catch {
        version = null;
      }
      fp = { bin, version };
    } catch (e) {
      fp = { error: msg(e) };
    }
    const checks = doctorChecks(ff, fp, caps, config);
    const missing = checks.filter((c) => c.essential && !c.ok).map((c) => c.name);
    const report: DoctorReport = {
      ok: missing.length === 0,
      config: config?.file ?? null,
      ffmpeg: 'bin' in ff ? { path: ff.bin.path, source: ff.bin.source, version: ff.version } : null,
      ffprobe: 'bin' in fp ? { path: fp.bin.path, source: fp.bin.source, version: fp.version } : null,
      checks,
      hardware: caps?.hardware ?? null,
      missing,
    };
  return report;
}
