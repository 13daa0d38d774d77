/**
 * `flux doctor`: which ffmpeg/ffprobe Flux uses and where they come from (env/config/PATH),
 * their versions, and whether the encoders, protocols and hardware Flux needs are there.
 * Exit 0 when the essentials (ffmpeg + libx264 + aac) are present, 1 otherwise.
 */
import { existsSync } from 'node:fs';
import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { EXIT_CODES, isFluxError } from '../core/errors.js';
import { configFileFor } from '../protocol/locate.js';
import { kv, table } from '../client/format.js';
import { resolveFfmpeg, resolveFfprobe, INSTALL_HINT, type ResolvedBinary, type ProbeSource } from '../ffmpeg/resolve.js';
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

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check the ffmpeg Flux uses: where it comes from, version, encoders, protocols, GPUs';
  static override description = `ffmpeg is FLUX_FFMPEG, else server.ffmpeg in the config, else ffmpeg on PATH (ffprobe likewise, or next to ffmpeg).
Exit 0 when the essentials are there (ffmpeg, libx264, aac), 1 otherwise.

${EXIT_CODE_HELP}`;
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json', 'FLUX_FFMPEG=/opt/ffmpeg/bin/ffmpeg <%= config.bin %> doctor'];

  async run(): Promise<void> {
    const file = configFileFor(this.flags.config);
    let config: ResolvedConfig | undefined;
    if (this.flags.config || existsSync(file)) {
      // an explicit --config must load; the default file is used when it is there and valid
      try {
        const { loadConfigFile } = await import('../config/load.js');
        config = (await loadConfigFile(file)).resolved;
      } catch (e) {
        if (this.flags.config) throw e;
        this.info(`note: ${file} not used (${(e as Error).message.split('\n')[0]})`);
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
    this.output(report, () => {
      const head = kv([
        ['ffmpeg', report.ffmpeg ? `${report.ffmpeg.path} (${report.ffmpeg.source}) ${report.ffmpeg.version}` : 'not found'],
        ['ffprobe', report.ffprobe ? `${report.ffprobe.path} (${report.ffprobe.source}) ${report.ffprobe.version ?? ''}`.trim() : 'not found'],
        ['config', report.config ?? '-'],
      ]);
      const rows = checks.map((c) => [c.name, c.group, c.ok ? 'ok' : c.essential ? 'MISSING' : 'no', c.detail]);
      return `${head}\n\n${table(['CHECK', 'KIND', 'STATUS', 'DETAIL'], rows)}`;
    });
    if (missing.length) {
      process.stderr.write(`flux: missing essentials: ${missing.join(', ')}${missing.includes('ffmpeg') ? ` — ${INSTALL_HINT}` : ''}\n`);
      this.exit(EXIT_CODES.failure);
    }
  }
}
