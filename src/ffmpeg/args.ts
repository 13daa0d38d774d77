/**
 * The ONE place that builds ffmpeg arguments. Pure functions: no I/O, no process spawning;
 * the supervisor spawns ffmpeg with these arrays (never through a shell).
 *
 *   buildInputArgs(input)                      global flags + input options + `-i …` for a pull
 *   buildPipelineArgs(stream, input, caps?)    a whole command: input → TS on pipe:1 (and pipe:3, 4 … for a ladder)
 *   buildPushArgs(target)                      TS on pipe:0 → `-c copy` → flv/mpegts to a push target
 *
 * Ladder layout (one ffmpeg for every rendition):
 *   [0:v:0] → (deinterlace) → (logo overlay) → split=N → per profile: fps → scale → format → encoder
 *   keyframes forced by time on every rendition (`-force_key_frames expr:gte(t,n_forced*GOP)`,
 *   `-sc_threshold 0`, x264 keyint = min-keyint = GOP × fps, scenecut=0) so segment boundaries align.
 *   Audio: every source audio track (`-map 0:a?`), encoded once and shared through the tee muxer
 *   (default), or encoded again for each rendition (`audio.per_profile: true`: one output per rendition).
 *   Outputs: MPEG-TS on fd 1 for the first rendition, then fd 3, 4, … (stdio pipes of the child).
 *   A mosaic:// input (src/ffmpeg/mosaic.ts) is many inputs and a graph ending in `[mosaic]`: that
 *   label takes the place of `[0:v:0]`, and its audio (a tile's or silence) that of `0:a?`.
 */
import { fileURLToPath } from 'node:url';
import { ExternalError, InputError } from '../core/errors.js';
import { parseBitrate } from '../config/units.js';
import type { HwBackend, ResolvedAudio, ResolvedInput, ResolvedPush, ResolvedStream, ResolvedTranscoder, ResolvedVideoProfile } from '../config/model.js';
import { CPU_ENCODERS, hwSupport, type FfmpegCaps } from './caps.js';
import { fakeBitrate, fakeLavfiGraph, parseFakeUrl, type FakeSource } from './test-pattern.js';
import { backendFor, cpuBackend, forceKeyframesExpr, fmtNum, overlayXY, type Backend, type EncodedCodec, type KeyframePlan } from './hw-ladder.js';
import { escapeFilterValue, teeQuote } from './quote.js';
import { mosaicBitrate, mosaicPlan, parseMosaicUrl, type MosaicPlan } from './mosaic.js';

/** Flags on every ffmpeg Flux runs: no keyboard on stdin, no banner, warnings and errors only, no progress line. */
export const GLOBAL_ARGS: readonly string[] = ['-nostdin', '-hide_banner', '-loglevel', 'warning', '-nostats'];

/** Schemes whose bytes are MPEG-TS already: no ffmpeg without a transcoder (the supervisor reads them natively). */
export const NATIVE_TS_SCHEMES: ReadonlySet<string> = new Set(['udp', 'rtp', 'tshttp', 'tshttps', 'publish']);

export interface PipelineOutput {
  rendition: string;
  /** file descriptor of the child this rendition's TS comes out of: 1, then 3, 4, … */
  fd: number;
}

/** What the running supervisor knows that the config does not. */
export interface PipelineContext {
  /** mosaic:// inputs: the tiles that have live output now (the others are drawn as slates); absent: all */
  liveTiles?: ReadonlySet<string>;
}

export interface PipelineArgs {
  args: string[];
  outputs: PipelineOutput[];
  /** things the operator should know (hardware fallback, unaligned keyframes) — log them */
  warnings: string[];
  /** the backend actually used (differs from the config after a `fallback: cpu`) */
  hw: HwBackend;
}

/** A read/write timeout for network pulls: ffmpeg exits (and is restarted) when the source stalls. */
export function ioTimeoutUs(input: ResolvedInput): number {
  return Math.max(input.sourceTimeoutMs * 2, 5000) * 1000;
}

/** Output fd of rendition i: 1, 3, 4, 5 … (fd 2 is stderr). */
export function outputFd(i: number): number {
  return i === 0 ? 1 : i + 2;
}

const MUX_FLAGS: readonly string[] = ['-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0'];
/**
 * Stream copy of video from RTSP: drop packets without a PTS. RTSP/RTP H.264 with B-frames gives
 * its first keyframe(s) no PTS (the depacketizer cannot know the reorder delay yet); the MPEG-TS
 * muxer then fails the whole process with "first pts and dts value must be set". Dropping those
 * packets lets the stream start at the next keyframe (the segmenter drops what comes before it
 * anyway). Only for RTSP: ffmpeg 5.1 sends the filter an EOF at each -stream_loop wrap, after which
 * it fails every packet (file:// loops would break). ffmpeg >= 5 reads `drop` as an expression;
 * 4.x had no such option, so it gets nothing.
 */
function copyVideoBsf(spec: string, plan: InputPlan, caps?: FfmpegCaps): string[] {
  if (!plan.ptsless) return [];
  if (caps && caps.major !== null && caps.major < 5) return [];
  return [`-bsf:${spec}`, 'noise=drop=eq(pts\\,nopts)'];
}
const HTTP_RECONNECT: readonly string[] = ['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_on_network_error', '1', '-reconnect_delay_max', '5'];

function pipeOut(fd: number): string[] {
  return ['-max_muxing_queue_size', '1024', ...MUX_FLAGS, `pipe:${fd}`];
}

/** `file:///abs/path`, `file://relative/path` → a path for ffmpeg, prefixed `file:` so a colon in it is no protocol. */
export function filePathOf(url: string): string {
  const rest = url.replace(/^file:\/\//i, '');
  let p: string;
  if (rest.startsWith('/')) {
    try {
      p = fileURLToPath(url);
    } catch {
      p = decodeURIComponent(rest);
    }
  } else p = decodeURIComponent(rest);
  if (!p) throw new InputError(`file:// input without a path: ${url}`);
  return p;
}

/**
 * TS in datagrams (udp, srt): no flush at each frame, so every datagram is a full pkt_size of
 * 7 TS packets (ffmpeg flushes non-seekable outputs per frame by default, leaving short datagrams
 * that IPTV receivers and SRT gateways handle badly).
 */
const DATAGRAM_TS = ['-flush_packets', '0', '-f', 'mpegts'];

/**
 * `?muxrate=8M` on an srt/udp push URL: constant-bitrate MPEG-TS (bits/s), taken out of the URL
 * (ffmpeg's protocols do not know it). Throws InputError on a bad value.
 */
function takeMuxrate(url: string, params: [string, string][]): number | undefined {
  const i = params.findIndex(([k]) => k === 'muxrate');
  if (i < 0) return undefined;
  const raw = params[i]![1];
  params.splice(i, 1);
  let bps: number;
  try {
    bps = parseBitrate(raw);
  } catch {
    throw new InputError(`push ${url}: muxrate "${raw}" is not a bitrate (e.g. 8M, 4000k)`);
  }
  if (!(bps >= 100_000)) throw new InputError(`push ${url}: muxrate "${raw}" is too low (at least 100k)`);
  return Math.round(bps);
}

/** Why a push URL's Flux-level query options are wrong (null when fine): used by `flux validate`. */
export function pushUrlIssue(url: string): string | null {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? '';
  const { params } = splitQuery(url);
  if (!params.some(([k]) => k === 'muxrate')) return null;
  if (scheme !== 'udp' && scheme !== 'srt') return `muxrate (constant-rate MPEG-TS) applies to udp:// and srt:// pushes only`;
  try {
    takeMuxrate(url, params);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function splitQuery(url: string): { base: string; params: [string, string][] } {
  const q = url.indexOf('?');
  if (q < 0) return { base: url, params: [] };
  const params: [string, string][] = [];
  for (const kv of url.slice(q + 1).split('&')) {
    if (!kv) continue;
    const e = kv.indexOf('=');
    params.push(e < 0 ? [kv, ''] : [kv.slice(0, e), kv.slice(e + 1)]);
  }
  return { base: url.slice(0, q), params };
}

function joinQuery(base: string, params: [string, string][]): string {
  return params.length ? `${base}?${params.map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join('&')}` : base;
}

function setParam(params: [string, string][], key: string, value: string, override: boolean): void {
  const i = params.findIndex(([k]) => k === key);
  if (i < 0) params.push([key, value]);
  else if (override) params[i] = [key, value];
}

/**
 * SRT input URL: `mode` (the input's srt mode, caller by default), `latency` in microseconds (ffmpeg's unit), `streamid`, `timeout`.
 * ffmpeg reads these query values raw (no %-decoding; `+` means space), so a stream id may not hold `&` or `+`.
 * The passphrase goes as the `-passphrase` protocol option instead: any character works there.
 */
export function srtInputUrl(input: ResolvedInput): string {
  const { base, params } = splitQuery(input.url);
  // the resolved mode (srt_mode:, ?mode= or srt://:port) wins; caller when nothing says otherwise
  const mode = input.srtMode ?? 'caller';
  setParam(params, 'mode', mode, input.srtMode !== undefined);
  if (input.srtLatencyMs !== undefined) setParam(params, 'latency', String(Math.round(input.srtLatencyMs * 1000)), true);
  if (input.srtStreamId !== undefined) {
    if (/[&+]/.test(input.srtStreamId)) {
      throw new InputError(`srt_streamid ${JSON.stringify(input.srtStreamId)}: ffmpeg reads it from the URL query, where "&" and "+" cannot be expressed`);
    }
    setParam(params, 'streamid', input.srtStreamId.replaceAll(' ', '+'), true);
  }
  // a listener waits for its publisher as long as it takes; a caller gives up and retries with backoff
  if (mode !== 'listener') setParam(params, 'timeout', String(ioTimeoutUs(input)), false);
  return joinQuery(base, params);
}

interface InputPlan {
  /** input options and `-i …` (may hold several -i for none today; lavfi is one input) */
  args: string[];
  /** frames come from lavfi, not from a decoder (hwaccel does not apply; hw pipelines upload) */
  raw: boolean;
  fake?: FakeSource;
  /** video packets may come without a PTS (RTP depacketizing of reordered frames) */
  ptsless?: boolean;
  /** mosaic:// : several inputs composed by a filtergraph */
  mosaic?: MosaicPlan;
}

/** Live network schemes: ffmpeg's probing of them is shortened (see LIVE_PROBE). */
export const LIVE_PROBE_SCHEMES: ReadonlySet<string> = new Set(['rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt', 'hls', 'hlss', 'http', 'https', 'tshttp', 'tshttps', 'udp', 'rtp']);
/**
 * Short probing for live pulls: 1 s / 1 MB instead of ffmpeg's 5 s analyzeduration, so a backup
 * (started on failover) writes its first segment about 4 s sooner. One second of a live feed still
 * holds a keyframe with its SPS (width/height for the ladder) and, for TS, PAT/PMT: all that a
 * stream copy or a decoder needs.
 */
export const LIVE_PROBE: readonly string[] = ['-analyzeduration', '1000000', '-probesize', '1000000'];

function planInput(input: ResolvedInput | 'stdin', caps?: FfmpegCaps, ctx?: PipelineContext): InputPlan {
  const plan = planSource(input, caps, ctx);
  // stdin: live TS the supervisor feeds a transcoder (publish, udp, tshttp): a failover onto it
  // waited ffmpeg's default 5 s of probing before the first transcoded byte
  if (input === 'stdin' || LIVE_PROBE_SCHEMES.has(input.scheme) || input.scheme === 'publish') plan.args.unshift(...LIVE_PROBE);
  return plan;
}

function planSource(input: ResolvedInput | 'stdin', caps?: FfmpegCaps, ctx?: PipelineContext): InputPlan {
  if (input === 'stdin' || input.scheme === 'publish') return { args: ['-f', 'mpegts', '-i', 'pipe:0'], raw: false };
  const timeout = String(ioTimeoutUs(input));
  switch (input.scheme) {
    case 'fake': {
      const fake = parseFakeUrl(input.url);
      return { args: [...(fake.realtime ? ['-re'] : []), '-f', 'lavfi', '-i', fakeLavfiGraph(fake)], raw: true, fake };
    }
    case 'mosaic': {
      // resolution links the tiles to playlists; without it the URL itself is wrong: say why
      if (!input.mosaic) {
        parseMosaicUrl(input.url);
        throw new InputError(`input ${input.url}: the mosaic's tiles were not resolved`);
      }
      const mosaic = mosaicPlan(input.mosaic, ctx?.liveTiles);
      return { args: mosaic.inputArgs, raw: true, mosaic };
    }
    case 'file':
      return { args: ['-re', ...(input.loop ? ['-stream_loop', '-1'] : []), '-i', `file:${filePathOf(input.url)}`], raw: false };
    case 'rtmp':
    case 'rtmps':
      return { args: ['-rw_timeout', timeout, '-i', input.url], raw: false };
    case 'rtsp':
    case 'rtsps': {
      // ffmpeg >= 5 names the socket timeout -timeout (µs); 4.x called it -stimeout
      const flag = caps && caps.major !== null && caps.major < 5 ? '-stimeout' : '-timeout';
      return { args: ['-rtsp_transport', input.rtspTransport ?? 'tcp', flag, timeout, '-i', input.url], raw: false, ptsless: true };
    }
    case 'srt':
      return { args: [...(input.srtPassphrase ? ['-passphrase', input.srtPassphrase] : []), '-i', srtInputUrl(input)], raw: false };
    case 'hls':
    case 'hlss':
    case 'http':
    case 'https': {
      const url = input.url.replace(/^hls(s?):\/\//i, (_m, s: string) => `http${s}://`);
      return { args: [...HTTP_RECONNECT, '-rw_timeout', timeout, '-i', url], raw: false };
    }
    case 'tshttp':
    case 'tshttps': {
      const url = input.url.replace(/^tshttp(s?):\/\//i, (_m, s: string) => `http${s}://`);
      return { args: [...HTTP_RECONNECT, '-rw_timeout', timeout, '-f', 'mpegts', '-i', url], raw: false };
    }
    case 'udp': {
      const { base, params } = splitQuery(input.url);
      setParam(params, 'overrun_nonfatal', '1', false);
      setParam(params, 'fifo_size', '1000000', false);
      setParam(params, 'timeout', timeout, false);
      if (input.interface) setParam(params, 'localaddr', input.interface, false);
      return { args: ['-f', 'mpegts', '-i', joinQuery(base, params)], raw: false };
    }
    case 'rtp': {
      const { base, params } = splitQuery(input.url);
      if (input.interface) setParam(params, 'localaddr', input.interface, false);
      return { args: ['-i', joinQuery(base, params)], raw: false };
    }
    default:
      throw new InputError(`input ${input.url}: no ffmpeg input for scheme "${input.scheme}"`);
  }
}

/** Global flags + input options + `-i …` for one input (fake/file/rtmp/rtsp/srt/hls/http/tshttp/udp; publish = stdin). */
export function buildInputArgs(input: ResolvedInput | 'stdin', caps?: FfmpegCaps): string[] {
  return [...GLOBAL_ARGS, '-fflags', '+genpts', ...planInput(input, caps).args];
}

function audioCodecArgs(a: ResolvedAudio | undefined, spec = 'a'): string[] {
  const codec = a?.codec ?? 'aac';
  const enc = { aac: 'aac', opus: 'libopus', mp3: 'libmp3lame', copy: 'copy' }[codec];
  const out = [`-c:${spec}`, enc];
  if (codec === 'copy') return out;
  out.push(`-b:${spec}`, String(a?.bitrate ?? 128_000));
  if (a?.channels) out.push(`-ac`, String(a.channels));
  if (a?.sampleRate) out.push(`-ar`, String(a.sampleRate));
  return out;
}

function languageArgs(fake?: FakeSource): string[] {
  return (fake?.languages ?? []).flatMap((l, i) => [`-metadata:s:a:${i}`, `language=${l}`]);
}

/** Keyframe plan of a profile: GOP = profile gop or the HLS segment duration; keyint in frames when the rate is known. */
export function keyframePlan(stream: ResolvedStream, p: ResolvedVideoProfile | undefined, sourceFps?: number): KeyframePlan {
  const gopSec = (p?.gopMs ?? stream.hls.segmentDurationMs) / 1000;
  const fps = p?.fps ?? sourceFps;
  // unknown frame rate: an upper bound (60 fps) so the encoder never adds a keyframe before the forced one
  return { gopSec, keyint: Math.max(1, Math.round(gopSec * (fps ?? 60))) };
}

function requireEncoder(caps: FfmpegCaps | undefined, name: string, why: string): void {
  if (caps && !caps.encoders.has(name)) {
    throw new ExternalError(`${caps.path} has no ${name} encoder (needed ${why}); install an ffmpeg built with it (Debian: apt-get install ffmpeg)`, caps.path, []);
  }
}

/** fake:// without a transcoder: lavfi is raw video, so Flux encodes it (libx264 + aac), keyframes every segment. */
function fakeEncodeArgs(stream: ResolvedStream, plan: InputPlan, caps?: FfmpegCaps): PipelineArgs {
  const fake = plan.fake!;
  requireEncoder(caps, 'libx264', 'to encode fake:// sources');
  const k = keyframePlan(stream, undefined, fake.fpsValue);
  const b = fakeBitrate(fake);
  const args = [
    ...GLOBAL_ARGS,
    '-fflags',
    '+genpts',
    ...plan.args,
    '-map',
    '0:v:0',
    '-map',
    '0:a?',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    String(b),
    '-maxrate',
    String(b),
    '-bufsize',
    String(2 * b),
    '-g',
    String(k.keyint),
    '-keyint_min',
    String(k.keyint),
    '-sc_threshold',
    '0',
    '-force_key_frames',
    forceKeyframesExpr(k.gopSec),
    '-x264-params',
    `keyint=${k.keyint}:min-keyint=${k.keyint}:scenecut=0`,
    ...audioCodecArgs(undefined),
    ...languageArgs(fake),
    ...pipeOut(1),
  ];
  return { args, outputs: [{ rendition: stream.renditions[0] ?? 'v1a1', fd: 1 }], warnings: [], hw: 'cpu' };
}

/**
 * mosaic:// without a transcoder: the composed picture encoded like a fake source (libx264,
 * keyframes every segment), with the mosaic's audio (a tile's, or silence) as AAC.
 */
function mosaicEncodeArgs(stream: ResolvedStream, input: ResolvedInput, plan: InputPlan, caps?: FfmpegCaps): PipelineArgs {
  const mosaic = plan.mosaic!;
  const m = input.mosaic!;
  requireEncoder(caps, 'libx264', 'to encode mosaic:// inputs');
  const k = keyframePlan(stream, undefined, m.fpsValue);
  const b = mosaicBitrate(m);
  const args = [
    ...GLOBAL_ARGS,
    ...plan.args,
    '-filter_complex',
    mosaic.graph.join(';'),
    '-map',
    mosaic.videoLabel,
    '-map',
    mosaic.audioMap,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    String(b),
    '-maxrate',
    String(b),
    '-bufsize',
    String(2 * b),
    '-g',
    String(k.keyint),
    '-keyint_min',
    String(k.keyint),
    '-sc_threshold',
    '0',
    '-force_key_frames',
    forceKeyframesExpr(k.gopSec),
    '-x264-params',
    `keyint=${k.keyint}:min-keyint=${k.keyint}:scenecut=0`,
    ...audioCodecArgs(undefined),
    ...pipeOut(1),
  ];
  return { args, outputs: [{ rendition: stream.renditions[0] ?? 'v1a1', fd: 1 }], warnings: [], hw: 'cpu' };
}

/** Pick the backend: the configured one when usable, else cpu (fallback: cpu) or an ExternalError. */
function chooseBackend(t: ResolvedTranscoder, codecs: EncodedCodec[], caps: FfmpegCaps | undefined, warnings: string[]): HwBackend {
  let hw: HwBackend = t.hw;
  if (hw !== 'cpu' && caps) {
    const s = hwSupport(caps, hw, t.device, codecs);
    if (!s.ok) {
      if (t.fallback !== 'cpu') throw new ExternalError(`${s.reason} (set transcoder.fallback: cpu to encode on the CPU instead)`, caps.path, []);
      warnings.push(`${s.reason}: falling back to cpu (libx264/libx265)`);
      hw = 'cpu';
    }
  }
  if (hw === 'cpu') for (const c of new Set(codecs)) requireEncoder(caps, CPU_ENCODERS[c], `by ${c} profiles`);
  return hw;
}

function ladderArgs(stream: ResolvedStream, t: ResolvedTranscoder, plan: InputPlan, caps: FfmpegCaps | undefined, input?: ResolvedInput): PipelineArgs {
  const warnings: string[] = [];
  const profiles = t.video;
  const encodedCodecs = profiles.filter((p) => p.codec !== 'copy').map((p) => p.codec as EncodedCodec);
  const hw = chooseBackend(t, encodedCodecs, caps, warnings);
  const backend: Backend = backendFor(hw, t.device, caps);
  const cpu = cpuBackend();
  const sw = hw === 'cpu' || plan.raw; // filters before the split run on system-memory frames

  // --- filter graph -------------------------------------------------------------------------
  const graph: string[] = [...(plan.mosaic?.graph ?? [])];
  const encodedIdx = profiles.map((p, i) => (p.codec === 'copy' ? -1 : i)).filter((i) => i >= 0);
  if (plan.mosaic && encodedIdx.length !== profiles.length) throw new InputError('a mosaic:// input is a new picture: every transcoder profile must encode it (no codec: copy)');
  if (!encodedIdx.length && (t.deinterlace || t.logo)) warnings.push('every profile is copy: deinterlace and logo are not applied');
  let cur = plan.mosaic?.videoLabel ?? '[0:v:0]';
  let chain: string[] = [];
  if (t.deinterlace && encodedIdx.length) chain.push(sw ? cpu.deinterlace(t.deinterlace) : backend.deinterlace(t.deinterlace));
  if (t.logo && encodedIdx.length) {
    const native = sw ? null : backend.nativeOverlay(t.logo);
    const opacity = t.logo.opacity < 1 && !native?.opacityInOverlay ? `,colorchannelmixer=aa=${fmtNum(t.logo.opacity)}` : '';
    graph.push(`movie=filename=${escapeFilterValue(t.logo.path)},format=rgba${opacity}${native ? `,${native.logoChain}` : ''}[logo]`);
    if (native) {
      graph.push(`${cur}${chain.join(',') || 'null'}[base]`, `[base][logo]${native.overlay}[main]`);
    } else {
      if (!sw) chain.push(backend.download);
      graph.push(`${cur}${chain.join(',') || 'null'}[base]`);
      graph.push(`[base][logo]overlay=${overlayXY(t.logo)}${sw ? '' : `,${backend.upload}`}[main]`);
    }
    cur = '[main]';
    chain = [];
  }
  if (hw !== 'cpu' && plan.raw) chain.push(backend.upload);
  const branchFilters = (p: ResolvedVideoProfile): string[] =>
    [p.fps ? `fps=${fmtNum(p.fps)}` : null, backend.scale(p.width, p.height), backend.outFormat || null].filter((f): f is string => !!f);
  if (encodedIdx.length === 1) {
    const i = encodedIdx[0]!;
    graph.push(`${cur}${[...chain, ...branchFilters(profiles[i]!)].join(',') || 'null'}[v${i}]`);
  } else if (encodedIdx.length > 1) {
    graph.push(`${cur}${chain.length ? chain.join(',') + ',' : ''}split=${encodedIdx.length}${encodedIdx.map((i) => `[s${i}]`).join('')}`);
    for (const i of encodedIdx) graph.push(`[s${i}]${branchFilters(profiles[i]!).join(',') || 'null'}[v${i}]`);
  }

  // --- keyframes ------------------------------------------------------------------------------
  const plans = profiles.map((p) => keyframePlan(stream, p, plan.fake?.fpsValue ?? (plan.mosaic ? input?.mosaic?.fpsValue : undefined)));
  const gops = new Set(encodedIdx.map((i) => plans[i]!.gopSec));
  if (gops.size > 1) warnings.push(`profiles have different gop values (${[...gops].join('s, ')}s): keyframes will not align across renditions`);
  profiles.forEach((p, i) => {
    if (p.codec === 'copy' && profiles.length > 1) warnings.push(`profile ${p.name} is copy: its keyframes follow the source and may not align with the other renditions`);
  });

  // --- outputs --------------------------------------------------------------------------------
  const renditionName = (i: number) => stream.renditions[i] ?? `v${i + 1}a1`;
  const videoMap = (i: number) => (profiles[i]!.codec === 'copy' ? '0:v:0' : `[v${i}]`);
  const videoCodecArgs = (i: number, spec: string): string[] => {
    const p = profiles[i]!;
    if (p.codec === 'copy') return [`-c:${spec}`, 'copy', ...copyVideoBsf(spec, plan, caps)];
    return backend.encoderArgs(spec, p, p.codec as EncodedCodec, plans[i]!);
  };
  const head = [...GLOBAL_ARGS, ...backend.inputArgs(plan.raw), ...(plan.mosaic ? [] : ['-fflags', '+genpts']), ...plan.args];
  const audioMap = plan.mosaic?.audioMap ?? '0:a?';
  if (graph.length) head.push('-filter_complex', graph.join(';'));

  const outputs: PipelineOutput[] = profiles.map((_, i) => ({ rendition: renditionName(i), fd: outputFd(i) }));
  const tail: string[] = [];
  const shared = !t.audio.perProfile && profiles.length > 1;
  if (shared) {
    // one output: every video stream + the audio encoded once; the tee muxer writes one TS per rendition
    profiles.forEach((_, i) => tail.push('-map', videoMap(i)));
    tail.push('-map', audioMap);
    profiles.forEach((_, i) => tail.push(...videoCodecArgs(i, `v:${i}`)));
    tail.push(...audioCodecArgs(t.audio), ...languageArgs(plan.fake));
    const slaves = outputs.map((o, i) => `[f=mpegts:select=${teeQuote(`v:${i},a`)}:onfail=abort]pipe:${o.fd}`).join('|');
    tail.push('-max_muxing_queue_size', '1024', '-f', 'tee', '-muxdelay', '0', '-muxpreload', '0', slaves);
  } else {
    profiles.forEach((_, i) => {
      tail.push('-map', videoMap(i), '-map', audioMap, ...videoCodecArgs(i, 'v:0'), ...audioCodecArgs(t.audio), ...languageArgs(plan.fake), ...pipeOut(outputs[i]!.fd));
    });
  }
  return { args: [...head, ...tail], outputs, warnings, hw };
}

/**
 * The whole ffmpeg command for one input of a stream, or null when no ffmpeg is needed
 * (MPEG-TS sources — udp/rtp/tshttp/publish — without a transcoder: the supervisor reads them natively).
 * `input = 'stdin'`: the supervisor feeds TS on fd 0 (native sources or publish:// into a transcoder).
 * With `caps`, hardware and encoders are checked: a missing GPU throws ExternalError, or with
 * `transcoder.fallback: cpu` gives CPU arguments and a warning. Without caps nothing is checked.
 */
export function buildPipelineArgs(stream: ResolvedStream, input: ResolvedInput | 'stdin', caps?: FfmpegCaps, ctx?: PipelineContext): PipelineArgs | null {
  const native = input === 'stdin' || NATIVE_TS_SCHEMES.has(input.scheme);
  const t = stream.transcoder?.video.length ? stream.transcoder : undefined;
  if (!t) {
    if (native) return null;
    const plan = planInput(input, caps, ctx);
    if (plan.fake) return fakeEncodeArgs(stream, plan, caps);
    if (plan.mosaic) return mosaicEncodeArgs(stream, input, plan, caps);
    const args = [...GLOBAL_ARGS, '-fflags', '+genpts', ...plan.args, '-map', '0:v:0?', '-map', '0:a?', '-c', 'copy', ...copyVideoBsf('v', plan, caps), ...pipeOut(1)];
    return { args, outputs: [{ rendition: stream.renditions[0] ?? 'v1a1', fd: 1 }], warnings: [], hw: 'cpu' };
  }
  return ladderArgs(stream, t, planInput(input, caps, ctx), caps, input === 'stdin' ? undefined : input);
}

// ---------------------------------------------------------------------------------------------
// push

export type PushFormat = 'flv' | 'mpegts';

/** Container for a push target: flv for rtmp(s) and *.flv files, mpegts otherwise. */
export function pushFormat(url: string): PushFormat {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'rtmp' || scheme === 'rtmps') return 'flv';
  if ((scheme === 'file' || !scheme) && /\.flv$/i.test(url)) return 'flv';
  return 'mpegts';
}

/**
 * TS on pipe:0 → `-c copy` → the target. flv (rtmp/rtmps) carries one video and one audio track;
 * mpegts (srt/udp/file) keeps every audio track. `-progress pipe:1` lets the push worker see bytes flowing.
 */
export function buildPushArgs(target: ResolvedPush): string[] {
  const url = target.url;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? '';
  const format = pushFormat(url);
  const args = [...GLOBAL_ARGS, '-progress', 'pipe:1', '-stats_period', '1', '-fflags', '+genpts', '-f', 'mpegts', '-i', 'pipe:0'];
  if (format === 'flv') args.push('-map', '0:v:0?', '-map', '0:a:0?');
  else args.push('-map', '0:v:0?', '-map', '0:a?');
  args.push('-c', 'copy');
  let dest = url;
  switch (scheme) {
    case 'rtmp':
    case 'rtmps':
      args.push('-rw_timeout', '10000000', '-f', 'flv', '-flvflags', 'no_duration_filesize');
      break;
    case 'srt': {
      // caller by default; ?mode=listener makes ffmpeg wait for the receiver (no timeout while listening)
      const { base, params } = splitQuery(url);
      const muxrate = takeMuxrate(url, params);
      setParam(params, 'mode', 'caller', false);
      setParam(params, 'pkt_size', '1316', false);
      dest = joinQuery(base, params);
      args.push('-rw_timeout', '10000000', ...DATAGRAM_TS, ...(muxrate ? ['-muxrate', String(muxrate)] : []));
      break;
    }
    case 'udp': {
      const { base, params } = splitQuery(url);
      const muxrate = takeMuxrate(url, params);
      setParam(params, 'pkt_size', '1316', false);
      // constant rate for IPTV headends: the muxer pads with null packets to muxrate and the udp
      // protocol paces datagrams at that rate (instead of sending each frame as a burst)
      if (muxrate) setParam(params, 'bitrate', String(muxrate), false);
      dest = joinQuery(base, params);
      args.push(...DATAGRAM_TS, ...(muxrate ? ['-muxrate', String(muxrate)] : []));
      break;
    }
    case 'file':
      dest = `file:${filePathOf(url)}`;
      args.push('-y', '-f', format, ...(format === 'flv' ? ['-flvflags', 'no_duration_filesize'] : []));
      break;
    default:
      throw new InputError(`push ${url}: unsupported scheme "${scheme}" (use rtmp, rtmps, srt, udp or file)`);
  }
  args.push(dest);
  return args;
}
