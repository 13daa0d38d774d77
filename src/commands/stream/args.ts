/**
 * `flux stream args NAME`: the exact ffmpeg command lines a stream runs — one per input (or
 * "native" when no ffmpeg is needed) and one per push target — built from the config file by the
 * same builders the supervisor uses. With --live, the command lines of the running supervisor.
 * Lines are shell-quoted for display only: Flux never runs ffmpeg through a shell.
 */
import { Args, Flags } from '@oclif/core';
import { request } from 'node:http';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { InputError, NodeUnreachableError, isFluxError } from '../../core/errors.js';
import { configFileFor, locateNode } from '../../protocol/locate.js';
import { loadConfigFile } from '../../config/load.js';
import path from 'node:path';
import { safeJoin, streamFileName } from '../../core/paths.js';
import type { ResolvedStream } from '../../config/model.js';
import { buildPipelineArgs, buildPushArgs, NATIVE_TS_SCHEMES } from '../../ffmpeg/args.js';
import { detectCaps, type FfmpegCaps } from '../../ffmpeg/caps.js';
import { resolveFfmpeg } from '../../ffmpeg/resolve.js';
import { shellQuote } from '../../ffmpeg/quote.js';

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

/** GET /status of the running supervisor (its own socket under the run dir). */
function supervisorStatus(socketPath: string): Promise<{ ffmpeg?: { role: string; pid: number; args: string[] }[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/status', method: 'GET', timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { ffmpeg?: { role: string; pid: number; args: string[] }[] });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export default class StreamArgs extends BaseCommand<typeof StreamArgs> {
  static override summary = 'Print the ffmpeg command lines a stream runs (per input and push target)';
  static override description = `Built from the config file with the same builders the supervisor uses; --live asks the running supervisor instead.
An input that needs no ffmpeg (udp, tshttp, publish without a transcoder) is shown as native.
Command lines are shell-quoted for reading and pasting; Flux itself never uses a shell.

${EXIT_CODE_HELP}`;
  static override args = { name: Args.string({ description: 'stream name', required: true }) };
  static override flags = {
    live: Flags.boolean({ description: 'print the command lines of the running supervisor (needs a running node)', default: false }),
  };
  static override examples = ['<%= config.bin %> stream args cam1', '<%= config.bin %> stream args tv/news --json', '<%= config.bin %> stream args cam1 --live'];

  async run(): Promise<void> {
    const name = this.args.name;
    if (this.flags.live) return this.live(name);
    const loaded = await loadConfigFile(configFileFor(this.flags.config));
    const stream = loaded.resolved.streams[name];
    if (!stream) throw new InputError(`stream "${name}" is not in ${loaded.file}`, { code: 'E_NOT_FOUND' });
    let ffmpeg: { path: string; source: string };
    try {
      ffmpeg = await resolveFfmpeg(loaded.resolved.server.ffmpeg);
    } catch (e) {
      ffmpeg = { path: loaded.resolved.server.ffmpeg ?? 'ffmpeg', source: 'unresolved' };
      this.info(`warning: ${(e as Error).message}`);
    }
    // as the supervisor: capabilities only matter (and are probed) for GPU transcoders
    let caps: FfmpegCaps | undefined;
    if (stream.transcoder && stream.transcoder.hw !== 'cpu' && ffmpeg.source !== 'unresolved') {
      try {
        caps = await detectCaps(ffmpeg.path);
      } catch (e) {
        this.info(`warning: cannot probe ${ffmpeg.path}: ${(e as Error).message}`);
      }
    }
    const result: ArgsResult = { stream: name, source: 'config', ffmpeg, lines: streamCommandLines(stream, ffmpeg.path, caps) };
    this.output(result, () => render(result));
    if (result.lines.some((l) => l.error)) process.exitCode = 1;
  }

  private async live(name: string): Promise<void> {
    const { runDir } = locateNode(this.flags.config);
    const sock = path.join(safeJoin(runDir, 'streams'), `${streamFileName(name)}.sock`);
    let st;
    try {
      st = await supervisorStatus(sock);
    } catch (e) {
      throw new NodeUnreachableError(`no running supervisor for "${name}" (${sock}): ${(e as Error).message}`);
    }
    const lines: ArgsLine[] = (st.ffmpeg ?? []).map((f, index) => ({
      role: f.role,
      index,
      url: '',
      args: f.args,
      command: shellQuote('ffmpeg', f.args),
      warnings: [],
    }));
    const result: ArgsResult = { stream: name, source: 'live', ffmpeg: { path: 'ffmpeg', source: 'live' }, lines };
    this.output(result, () => (lines.length ? lines.map((l) => `# ${l.role}\n${l.command}`).join('\n\n') : `# ${name}: no ffmpeg running`));
  }
}

function render(r: ArgsResult): string {
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
