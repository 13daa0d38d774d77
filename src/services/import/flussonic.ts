/**
 * flussonic.conf → flux.yaml. Pure: the parsed directives in, a config object, the YAML text (with
 * a comment naming the source line of each stream, template and storage) and the list of what
 * could not be translated (each with file:line and why) out. Values are checked with the same unit
 * parsers the schema uses, so a bad value becomes a skipped directive, not an invalid output.
 *
 * Translated: `http`, `rtmp`, `srt`, `loglevel`; `stream`/`template` (with `prefix`) and their
 * `input` (`priority=`, `source_timeout=`, `backup`), `url`, `source_timeout`, `title`, `dvr`
 * (`PATH DEPTH SIZE`, `retention=`/`storage_limit=`/`disk_limit=`, `@storage`), top-level `dvr NAME
 * { root; dvr_limit; dvr_capacity; disk_limit; }`, `push`, `transcoder` (inline `vb= size= ab=
 * vcodec= acodec= hw= deinterlace= preset= fps= …`, or a block with `profile { … }` blocks),
 * `auth`/`on_play` (HTTP backends), `publish_password`/`password`, `segment_duration`,
 * `segment_count`, `disabled`, `static` (Flux streams always run); `file NAME { path DIR; }` → `vod`.
 * Not translated (listed): `cluster_key`, `peer`, `source` (Flux clusters through etcd),
 * `edit_auth`/`view_auth` (Flux API users need scrypt hashes: `flux auth hash`), and anything else.
 */
import { parseBitrate, parseDuration, parseFrameSize, parsePercent, parseSize } from '../../config/units.js';
import type { FlussonicDirective } from './flussonic-parse.js';
import type { SkippedDirective } from '../../protocol/api.js';
import { INPUT_SCHEMES, PUSH_SCHEMES } from '../../config/schema.js';
import { mosaicUrlProblem } from '../../ffmpeg/mosaic.js';


export type { SkippedDirective } from '../../protocol/api.js';

export interface ImportResult {
  config: Record<string, unknown>;
  skipped: SkippedDirective[];
  /** where each translated stream/template/storage came from: `streams.NAME` → line */
  origins: Map<string, number>;
}

type Obj = Record<string, unknown>;

const ok = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};
const isDuration = (v: string) => /^\d+(\.\d+)?(ms|s|m|h|d)?$/.test(v) && ok(() => parseDuration(v));
/** Flussonic sizes: `500G`, `1T`, `300M` (a bare number is gigabytes in `dvr` lines). */
const sizeOf = (v: string) => (/^\d+$/.test(v) ? `${v}G` : v);
const isSize = (v: string) => /^\d+(\.\d+)?[KMGT]?B?$/i.test(v) && ok(() => parseSize(sizeOf(v)));
const isPercent = (v: string) => /^\d+(\.\d+)?%$/.test(v) && ok(() => parsePercent(v));
const durationValue = (v: string): string | number => (/^\d+$/.test(v) ? Number(v) : v);

const LOG_LEVELS: Record<string, string> = { debug: 'debug', info: 'info', notice: 'info', warning: 'warn', warn: 'warn', error: 'error', critical: 'fatal' };

/** Translate parsed directives of `file`. */
export function translateFlussonic(directives: FlussonicDirective[], file: string): ImportResult {
  const skipped: SkippedDirective[] = [];
  const origins = new Map<string, number>();
  const skip = (d: FlussonicDirective, reason: string) => skipped.push({ file, line: d.line, directive: [d.name, ...d.args].join(' '), reason });
  const server: Obj = {};
  const streams: Obj = {};
  const templates: Obj = {};
  const storages: Obj = {};
  const vod: Obj = {};

  const port = (d: FlussonicDirective, key: string) => {
    const first = d.args[0] ?? '';
    const m = /^(?:((?:\d{1,3}\.){3}\d{1,3}):)?(\d{1,5})$/.exec(first);
    const n = m ? Number(m[2]) : NaN;
    if (!(n >= 1 && n <= 65535)) return skip(d, `expected a port number, got "${first}"`);
    if (server[key] !== undefined) return skip(d, `${key} is already set to ${String(server[key])}: Flux listens on one ${key} port`);
    server[key] = n;
    // `http 127.0.0.1:80;` binds one address; Flux has one bind address for all listeners
    if (m?.[1] && key === 'http') server.host = m[1];
    if (d.args.length > 1) skip({ ...d, args: d.args.slice(1) }, `Flux listens on one ${key} port; extra ports not translated`);
  };

  for (const d of directives) {
    switch (d.name) {
      case 'http':
      case 'rtmp':
      case 'srt':
        if (d.block) skip(d, `a ${d.name} block is not translated; use "${d.name} PORT;"`);
        else port(d, d.name);
        break;
      case 'loglevel': {
        const lvl = LOG_LEVELS[d.args[0] ?? ''];
        if (lvl) server.log_level = lvl;
        else skip(d, `unknown log level "${d.args[0] ?? ''}"`);
        break;
      }
      case 'stream':
      case 'template': {
        const name = d.args[0];
        if (!name || d.args.length > 1 || !d.block) {
          skip(d, `expected "${d.name} NAME { … }"`);
          break;
        }
        const section = d.name === 'stream' ? streams : templates;
        const key = `${d.name === 'stream' ? 'streams' : 'templates'}.${name}`;
        if (section[name]) {
          skip(d, `duplicate ${d.name} "${name}" (first at line ${origins.get(key)})`);
          break;
        }
        const s = translateStream(d, d.name === 'template', skip);
        if (d.name === 'stream' && !(s.inputs as unknown[] | undefined)?.length) {
          skip(d, `stream "${name}" has no input Flux can use; not translated`);
          break;
        }
        if (d.name === 'template' && s.prefix === undefined) s.prefix = name;
        section[name] = s;
        origins.set(key, d.line);
        break;
      }
      case 'dvr': {
        const name = d.args[0];
        if (!name || !d.block) {
          skip(d, 'expected "dvr NAME { root PATH; … }" at the top level');
          break;
        }
        const st: Obj = {};
        for (const o of d.block) {
          const v = o.args[0] ?? '';
          if (o.name === 'root' && v) st.path = v;
          else if ((o.name === 'dvr_limit' || o.name === 'retention') && isDuration(v)) st.retention = durationValue(v);
          else if ((o.name === 'dvr_capacity' || o.name === 'storage_limit') && isSize(v)) st.max_size = sizeOf(v);
          else if (o.name === 'disk_limit' && (isPercent(v) || /^\d+$/.test(v))) st.disk_usage_limit = v.endsWith('%') ? v : `${v}%`;
          else skip(o, `not translated in dvr "${name}"`);
        }
        if (!st.path) {
          skip(d, `dvr "${name}" has no root; not translated`);
          break;
        }
        storages[name] = st;
        origins.set(`dvr.${name}`, d.line);
        break;
      }
      case 'file': {
        // a VOD location: file NAME { path DIR; }
        const name = d.args[0] ?? '';
        const p = d.block?.find((o) => o.name === 'path')?.args[0];
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(name) || !p || d.args.length > 1) {
          skip(d, 'expected "file NAME { path DIR; }" with NAME of A-Z a-z 0-9 _ -');
          break;
        }
        for (const o of d.block ?? []) if (o.name !== 'path') skip(o, `not translated in file "${name}"`);
        vod[name] = { path: p };
        origins.set(`vod.${name}`, d.line);
        break;
      }
      case 'cluster_key':
      case 'peer':
      case 'source':
        skip(d, 'Flux clusters through etcd: set cluster.etcd (and cluster.node_name) instead');
        break;
      case 'edit_auth':
      case 'view_auth':
        skip(d, 'API users need a password hash: add auth.users with `flux auth hash`');
        break;
      default:
        skip(d, 'unknown or unsupported directive');
    }
  }
  // streams referring to a storage that did not translate keep a dangling name: drop the dvr with a note
  for (const [name, s] of Object.entries({ ...streams, ...templates }) as [string, Obj][]) {
    const dvr = s.dvr as Obj | undefined;
    if (dvr?.storage && !storages[dvr.storage as string]) {
      skipped.push({ file, line: (s as { __dvrLine?: number }).__dvrLine ?? 0, directive: `dvr @${String(dvr.storage)}`, reason: `no dvr storage "${String(dvr.storage)}" is defined; recording of "${name}" not translated` });
      delete s.dvr;
    }
    delete (s as { __dvrLine?: number }).__dvrLine;
  }
  const config: Obj = {};
  if (Object.keys(server).length) config.server = server;
  if (Object.keys(storages).length) config.dvr = storages;
  if (Object.keys(templates).length) config.templates = templates;
  config.streams = streams;
  if (Object.keys(vod).length) config.vod = vod;
  skipped.sort((a, b) => a.line - b.line);
  return { config, skipped, origins };
}

function translateStream(d: FlussonicDirective, isTemplate: boolean, skip: (d: FlussonicDirective, reason: string) => void): Obj {
  const s: Obj = {};
  const inputs: Obj[] = [];
  let streamTimeout: string | number | undefined;
  const prefixes: string[] = [];
  for (const o of d.block ?? []) {
    const v = o.args[0] ?? '';
    switch (o.name) {
      case 'input':
      case 'url': {
        const input = translateInput(o, skip);
        if (input) inputs.push(input);
        break;
      }
      case 'source_timeout':
        if (isDuration(v)) streamTimeout = durationValue(v);
        else skip(o, `expected a duration, got "${v}"`);
        break;
      case 'title':
        s.title = o.args.join(' ');
        break;
      case 'prefix':
        if (isTemplate && o.args.length) prefixes.push(...o.args);
        else skip(o, 'prefix belongs in a template');
        break;
      case 'disabled':
        s.disabled = true;
        break;
      case 'static':
        break; // Flux runs every configured stream all the time, as Flussonic's static streams
      case 'dvr': {
        const dvr = translateDvr(o, skip);
        if (dvr) {
          s.dvr = dvr;
          (s as { __dvrLine?: number }).__dvrLine = o.line;
        }
        break;
      }
      case 'push': {
        const scheme = /^([a-z0-9]+):\/\//.exec(v)?.[1];
        if (!scheme || !(PUSH_SCHEMES as readonly string[]).includes(scheme)) skip(o, `Flux pushes to ${PUSH_SCHEMES.join(', ')} URLs only`);
        else {
          if (o.args.length > 1) skip({ ...o, args: o.args.slice(1) }, 'push options not translated');
          ((s.push ??= []) as unknown[]).push(v);
        }
        break;
      }
      case 'transcoder': {
        const tc = translateTranscoder(o, skip);
        if (tc) s.transcoder = tc;
        break;
      }
      case 'auth':
      case 'on_play':
        if (/^https?:\/\//.test(v) && o.args.length === 1) ((s.auth ??= {}) as Obj).play_backend = v;
        else skip(o, 'Flux play authorization takes one http(s):// backend URL');
        break;
      case 'publish_password':
      case 'password':
        if (v) ((s.auth ??= {}) as Obj).publish_password = v;
        else skip(o, 'expected a password');
        break;
      case 'segment_duration':
        if (isDuration(v)) ((s.hls ??= {}) as Obj).segment_duration = durationValue(v);
        else skip(o, `expected a duration, got "${v}"`);
        break;
      case 'segment_count': {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 2 && n <= 100) ((s.hls ??= {}) as Obj).window = n;
        else skip(o, `expected 2..100 segments, got "${v}"`);
        break;
      }
      default:
        skip(o, `unknown or unsupported ${isTemplate ? 'template' : 'stream'} directive`);
    }
  }
  if (isTemplate && prefixes.length) s.prefix = prefixes.length === 1 ? prefixes[0] : prefixes;
  if (streamTimeout !== undefined) for (const i of inputs) i.source_timeout ??= streamTimeout;
  if (inputs.length) s.inputs = inputs;
  // key order for readable output: inputs first
  const { prefix, inputs: ins, ...rest } = s;
  return { ...(prefix !== undefined ? { prefix } : {}), ...(ins ? { inputs: ins } : {}), ...rest };
}

/** Flussonic URL schemes Flux takes as they are, and the ones it renames. */
const SCHEME_MAP: Record<string, string> = { m4s: '', m4f: '', playlist: '', timeshift: '', copy: '', mixer: '' };

function translateInput(o: FlussonicDirective, skip: (d: FlussonicDirective, reason: string) => void): Obj | undefined {
  const url = o.args[0] ?? '';
  const scheme = /^([a-z0-9]+):\/\//.exec(url)?.[1] ?? '';
  if (!scheme || SCHEME_MAP[scheme] === '' || !(INPUT_SCHEMES as readonly string[]).includes(scheme)) {
    skip(o, scheme ? `Flux has no ${scheme}:// input` : `expected an input URL, got "${url}"`);
    return undefined;
  }
  // Flussonic's mosaic options are not all Flux's: an URL Flux would refuse is left out with the reason
  const mosaicWhy = scheme === 'mosaic' ? mosaicUrlProblem(url) : undefined;
  if (mosaicWhy) {
    skip(o, mosaicWhy);
    return undefined;
  }
  const input: Obj = { url };
  for (const a of o.args.slice(1)) {
    const [k, val = ''] = a.split('=', 2) as [string, string?];
    if (a === 'backup') input.backup = true;
    else if (k === 'priority' && /^\d+$/.test(val) && Number(val) >= 1 && Number(val) <= 100) input.priority = Number(val);
    else if (k === 'source_timeout' && isDuration(val)) input.source_timeout = durationValue(val);
    else if (k === 'user_agent' && val) input.user_agent = val;
    else if (k === 'title' && val) input.title = val;
    else skip({ ...o, args: [url, a] }, `input option "${a}" not translated`);
  }
  return input;
}

function translateDvr(o: FlussonicDirective, skip: (d: FlussonicDirective, reason: string) => void): Obj | undefined {
  const [first = '', ...rest] = o.args;
  const dvr: Obj = {};
  if (first.startsWith('@')) dvr.storage = first.slice(1);
  else if (first.startsWith('/')) dvr.path = first;
  else {
    skip(o, `expected "dvr /PATH …" or "dvr @STORAGE", got "${first}"`);
    return undefined;
  }
  let positional = 0;
  for (const a of rest) {
    const eq = a.indexOf('=');
    if (eq > 0) {
      const k = a.slice(0, eq);
      const v = a.slice(eq + 1);
      if ((k === 'retention' || k === 'dvr_limit') && isDuration(v)) dvr.retention = durationValue(v);
      else if ((k === 'storage_limit' || k === 'dvr_capacity') && isSize(v)) dvr.max_size = sizeOf(v);
      else if (k === 'disk_limit' && (isPercent(v) || /^\d+$/.test(v))) dvr.disk_usage_limit = v.endsWith('%') ? v : `${v}%`;
      else skip({ ...o, args: [first, a] }, `dvr option "${a}" not translated`);
      continue;
    }
    // old positional form: dvr /path DEPTH [SIZE|PERCENT%]
    if (positional === 0 && isDuration(a)) dvr.retention = durationValue(a);
    else if (positional === 1 && isPercent(a)) dvr.disk_usage_limit = a;
    else if (positional === 1 && isSize(a)) dvr.max_size = sizeOf(a);
    else skip({ ...o, args: [first, a] }, `dvr argument "${a}" not translated`);
    positional++;
  }
  return dvr;
}

const VCODECS: Record<string, string> = { h264: 'h264', avc: 'h264', hevc: 'h265', h265: 'h265', copy: 'copy' };
const ACODECS: Record<string, string> = { aac: 'aac', opus: 'opus', mp3: 'mp3', copy: 'copy' };

/**
 * `transcoder vb=2048k size=1280x720 preset=veryfast vb=1024k size=640x360 ab=128k hw=nvenc;`
 * (each vb= starts a profile; later video options apply to it), or a block:
 * `transcoder { hw nvenc; profile { vb 2048k; size 1280x720; } ab 128k; }`.
 */
function translateTranscoder(o: FlussonicDirective, skip: (d: FlussonicDirective, reason: string) => void): Obj | undefined {
  const tc: Obj = {};
  const video: Obj[] = [];
  const audio: Obj = {};
  let cur: Obj | undefined;
  let line = o.line;
  const bad = (opt: string, why = 'not translated') => skip({ name: 'transcoder', args: [opt], line, col: o.col }, `transcoder option "${opt}" ${why}`);
  const apply = (k: string, v: string, opt: string) => {
    switch (k) {
      case 'vb':
        if (v === 'copy') cur = { codec: 'copy' };
        else if (ok(() => parseBitrate(v))) cur = { bitrate: v };
        else return bad(opt, 'is not a bitrate');
        video.push(cur);
        return;
      case 'size':
      case 'vcodec':
      case 'preset':
      case 'fps':
      case 'bframes':
      case 'vprofile':
      case 'level':
      case 'g':
        if (!cur) return bad(opt, 'comes before any vb=');
        if (k === 'size') {
          const size = v.split(':')[0]!;
          if (ok(() => parseFrameSize(size))) cur.size = size;
          else bad(opt, 'is not a frame size');
        } else if (k === 'vcodec') {
          if (VCODECS[v]) cur.codec = VCODECS[v];
          else bad(opt, 'names a codec Flux does not encode');
        } else if (k === 'preset') cur.preset = v;
        else if (k === 'vprofile') cur.profile = v;
        else if (k === 'level') cur.level = v;
        else if (k === 'fps') {
          const n = Number(v);
          if (n > 0 && n <= 240) cur.fps = n;
          else bad(opt, 'is not a frame rate');
        } else if (k === 'bframes') {
          const n = Number(v);
          if (Number.isInteger(n) && n >= 0 && n <= 16) cur.bframes = n;
          else bad(opt, 'is not 0..16');
        } else if (k === 'g') {
          // Flussonic's g= is a keyframe interval in frames; Flux's gop is a time, unknown without fps
          bad(opt, 'is in frames; set transcoder video gop (a duration) by hand');
        }
        return;
      case 'ab':
        if (v === 'copy') audio.codec = 'copy';
        else if (ok(() => parseBitrate(v))) audio.bitrate = v;
        else bad(opt, 'is not a bitrate');
        return;
      case 'acodec':
        if (ACODECS[v]) audio.codec = ACODECS[v];
        else bad(opt, 'names a codec Flux does not encode');
        return;
      case 'ar': {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 8000 && n <= 96000) audio.sample_rate = n;
        else bad(opt, 'is not a sample rate');
        return;
      }
      case 'ac': {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 1 && n <= 8) audio.channels = n;
        else bad(opt, 'is not a channel count');
        return;
      }
      case 'hw': {
        const hw = v === 'nvenc' || v === 'qsv' || v === 'vaapi' || v === 'cpu' ? v : undefined;
        if (hw) tc.hw = hw;
        else bad(opt, 'names hardware Flux does not drive (cpu, nvenc, qsv, vaapi)');
        return;
      }
      case 'deinterlace':
        if (v === 'true' || v === 'yadif') tc.deinterlace = true;
        else if (v === 'bwdif') tc.deinterlace = 'bwdif';
        else if (v !== 'false') bad(opt);
        return;
      default:
        bad(opt);
    }
  };
  for (const a of o.args) {
    const eq = a.indexOf('=');
    if (eq <= 0) bad(a);
    else apply(a.slice(0, eq), a.slice(eq + 1), a);
  }
  for (const b of o.block ?? []) {
    line = b.line;
    if (b.name === 'profile' && b.block) {
      cur = undefined;
      for (const p of b.block) {
        line = p.line;
        apply(p.name, p.args[0] ?? '', `${p.name} ${p.args.join(' ')}`.trim());
      }
      line = b.line;
    } else if (!b.block) apply(b.name, b.args[0] ?? '', `${b.name} ${b.args.join(' ')}`.trim());
    else bad(b.name);
  }
  if (video.some((v) => v.codec === 'copy')) {
    skip(o, 'vb=copy is not translated: Flux passes video through when a stream has no transcoder');
    return undefined;
  }
  const rungs = video;
  if (rungs.length) tc.video = rungs;
  if (Object.keys(audio).length) tc.audio = audio;
  if (!tc.video && !tc.audio) {
    skip(o, 'a transcoder with no video or audio settings Flux can use');
    return undefined;
  }
  return tc;
}
