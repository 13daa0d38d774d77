/**
 * What `flux stream args NAME` does: the exact ffmpeg command lines a stream runs — one per input (or
 * "native" when no ffmpeg is needed) and one per push target — built from the config file by the
 * same builders the supervisor uses, or (live) the command lines the running supervisor reports
 * through the node API. Lines are shell-quoted for display only: Flux never runs ffmpeg through a shell.
 */
import { InputError, isFluxError } from '../core/errors.js';
import { loadConfigFile } from '../config/load.js';
import type { ResolvedStream } from '../config/model.js';
import { buildPipelineArgs, buildPushArgs, NATIVE_TS_SCHEMES } from '../ffmpeg/args.js';
import { detectCaps, type FfmpegCaps } from '../ffmpeg/caps.js';
import { resolveFfmpeg } from '../ffmpeg/resolve.js';
import { shellQuote } from '../ffmpeg/quote.js';
import type { FluxClient } from '../client/index.js';

export interface ArgsLine {
  role: string;
  /** input index (inputs) or push index */
  index: number;
  url: string;
  /** null: no ffmpeg for this input (native MPEG-TS), or it cannot be built (see error) */
  args: string[] | null;
  command: string | null;
  outputs?: { rendition: string; fd: number }[];
  hw?: string;
  warnings: string[];
  note?: string;
  error?: string;
}

export interface ArgsResult {
  stream: string;
  source: 'config' | 'live';
  ffmpeg: { path: string; source: string };
  lines: ArgsLine[];
}

/** Pure: command lines for a resolved stream (what the supervisor would spawn). */
export function streamCommandLines(stream: ResolvedStream, ffmpeg: string, caps?: FfmpegCaps): ArgsLine[] {
  const lines: ArgsLine[] = [];
  stream.inputs.forEach((input, index) => {
    const line: ArgsLine = { role: 'input', index, url: input.url, args: null, command: null, warnings: [] };
    // as the supervisor: native MPEG-TS sources are read by it and fed to a transcoder on stdin
    const native = NATIVE_TS_SCHEMES.has(input.scheme);
    const from = native ? ('stdin' as const) : input;
    try {
      let r;
      try {
        r = buildPipelineArgs(stream, from, caps);
      } catch (e) {
        if (!caps || !isFluxError(e) || e.code !== 'E_EXTERNAL') throw e;
        // the hardware is missing here: show the arguments anyway, and why they would not run
        line.error = e.message;
        r = buildPipelineArgs(stream, from);
      }
      if (r && native) line.note = 'the supervisor reads this source itself and feeds its MPEG-TS to ffmpeg on stdin';
      if (r && input.scheme === 'mosaic') line.note = 'every tile drawn live; the running supervisor draws tiles without live output as slates (see --live)';
      if (r) {
        line.args = r.args;
        line.command = shellQuote(ffmpeg, r.args);
        line.outputs = r.outputs;
        line.hw = r.hw;
        line.warnings = r.warnings;
      }
    } catch (e) {
      line.error = (e as Error).message;
    }
    lines.push(line);
  });
  stream.push.forEach((target, index) => {
    const line: ArgsLine = { role: 'push', index, url: target.url, args: null, command: null, warnings: target.disabled ? ['disabled'] : [] };
    try {
      line.args = buildPushArgs(target);
      line.command = shellQuote(ffmpeg, line.args);
    } catch (e) {
      line.error = (e as Error).message;
    }
    lines.push(line);
  });
  return lines;
}

/**
 * Command lines of a stream from the config file. `warn` hears what did not stop the answer (ffmpeg
 * not found, capabilities not probed).
 */
export async function argsFromConfig(configFile: string, name: string, warn: (line: string) => void): Promise<ArgsResult> {
  const loaded = await loadConfigFile(configFile);
  const stream = loaded.resolved.streams[name];
  if (!stream) throw new InputError(`stream "${name}" is not in ${loaded.file}`, { code: 'E_NOT_FOUND' });
  let ffmpeg: { path: string; source: string };
  try {
    ffmpeg = await resolveFfmpeg(loaded.resolved.server.ffmpeg);
  } catch (e) {
    ffmpeg = { path: loaded.resolved.server.ffmpeg ?? 'ffmpeg', source: 'unresolved' };
    warn(`warning: ${(e as Error).message}`);
  }
  // as the supervisor: capabilities only matter (and are probed) for GPU transcoders
  let caps: FfmpegCaps | undefined;
  if (stream.transcoder && stream.transcoder.hw !== 'cpu' && ffmpeg.source !== 'unresolved') {
    try {
      caps = await detectCaps(ffmpeg.path);
    } catch (e) {
      warn(`warning: cannot probe ${ffmpeg.path}: ${(e as Error).message}`);
    }
  }
  return { stream: name, source: 'config', ffmpeg, lines: streamCommandLines(stream, ffmpeg.path, caps) };
}

/** Command lines the running supervisor reports, asked of the node API (never of the supervisor's own socket). */
export async function argsFromNode(client: FluxClient, name: string): Promise<ArgsResult> {
  const doc = await client.streamFfmpeg(name);
  const lines: ArgsLine[] = doc.ffmpeg.map((f, index) => ({
    role: f.role,
    index,
    url: '',
    args: f.args,
    command: shellQuote('ffmpeg', f.args),
    warnings: [],
  }));
  return { stream: name, source: 'live', ffmpeg: { path: 'ffmpeg', source: 'live' }, lines };
}

/** The text form: a comment line per input/push, then its command line. */
export function renderArgs(r: ArgsResult): string {
  if (r.source === 'live') return r.lines.length ? r.lines.map((l) => `# ${l.role}\n${l.command}`).join('\n\n') : `# ${r.stream}: no ffmpeg running`;
  const out: string[] = [];
  for (const l of r.lines) {
    const what = l.role === 'input' ? `input ${l.index + 1}: ${l.url}` : `push ${l.index + 1}: ${l.url}`;
    const extra = [l.hw && l.hw !== 'cpu' ? l.hw : null, l.outputs && l.outputs.length > 1 ? l.outputs.map((o) => `${o.rendition}→fd${o.fd}`).join(' ') : null].filter(Boolean).join(', ');
    out.push(`# ${what}${extra ? ` (${extra})` : ''}`);
    if (l.note) out.push(`# note: ${l.note}`);
    for (const w of l.warnings) out.push(`# warning: ${w}`);
    if (l.error) out.push(`# error: ${l.error}`);
    if (l.command) out.push(l.command);
    else if (!l.error) out.push('# native: no ffmpeg (MPEG-TS read by the supervisor)');
    out.push('');
  }
  return out.join('\n').trimEnd();
}
