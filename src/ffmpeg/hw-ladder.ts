/**
 * Per-backend pieces of a transcoding ladder: device setup, upload/download, deinterlace, scale,
 * logo overlay and encoder options for cpu (libx264/libx265), nvenc, qsv and vaapi.
 * Pure: strings only. args.ts assembles them into one ffmpeg command.
 */
import type { HwBackend, ResolvedTranscoder, ResolvedVideoProfile } from '../config/model.js';
import { CPU_ENCODERS, HW_ENCODERS, nvidiaIndex, renderNodeFor, type FfmpegCaps } from './caps.js';

export type Logo = NonNullable<ResolvedTranscoder['logo']>;
export type EncodedCodec = 'h264' | 'h265';

export interface KeyframePlan {
  /** keyframe interval in seconds (forced by time) */
  gopSec: number;
  /** the same interval in frames (encoder keyint); an upper bound when the frame rate is unknown */
  keyint: number;
}

export interface Backend {
  id: HwBackend;
  /** global + input options placed before `-i` (device init, hwaccel); `rawInput`: frames come from lavfi (no decoder) */
  inputArgs(rawInput: boolean): string[];
  /** filter turning system-memory frames into device frames ('' for cpu) */
  upload: string;
  /** filter turning device frames into system-memory frames ('' for cpu) */
  download: string;
  deinterlace(kind: 'yadif' | 'bwdif'): string;
  /** scale filter for a profile size (either side may be -2: keep aspect); null = no scaling */
  scale(width?: number, height?: number): string | null;
  /** last filter of each branch before the encoder ('' = none) */
  outFormat: string;
  /**
   * A native (on-device) overlay: the logo chain appended after `movie=…,format=rgba`, the overlay
   * filter, and whether the overlay applies the opacity itself (else colorchannelmixer does);
   * null = use download → cpu overlay → upload.
   */
  nativeOverlay(logo: Logo): { logoChain: string; overlay: string; opacityInOverlay: boolean } | null;
  encoder(codec: EncodedCodec): string;
  /** encoder options for output video stream `spec` (e.g. `v:1`) */
  encoderArgs(spec: string, p: ResolvedVideoProfile, codec: EncodedCodec, k: KeyframePlan): string[];
}

/** `1920x1080`, `1280x-2`, `-2x720` → scale arguments `w=…:h=…` */
function wh(width?: number, height?: number): string | null {
  if (width === undefined && height === undefined) return null;
  return `w=${width ?? -2}:h=${height ?? -2}`;
}

/** maxrate defaults to the bitrate (constant-ish rate for HLS); bufsize (bits, as ffmpeg) to 2 × maxrate. */
export function rateArgs(spec: string, p: ResolvedVideoProfile): string[] {
  const maxrate = p.maxrate ?? p.bitrate;
  const bufsizeBits = p.bufsize ?? 2 * maxrate;
  return [`-b:${spec}`, String(p.bitrate), `-maxrate:${spec}`, String(maxrate), `-bufsize:${spec}`, String(bufsizeBits)];
}

export function forceKeyframesExpr(gopSec: number): string {
  return `expr:gte(t,n_forced*${fmtNum(gopSec)})`;
}

export function fmtNum(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6);
}

function common(spec: string, p: ResolvedVideoProfile, k: KeyframePlan): string[] {
  const a = rateArgs(spec, p);
  if (p.profile) a.push(`-profile:${spec}`, p.profile);
  if (p.level) a.push(`-level:${spec}`, p.level);
  if (p.bframes !== undefined) a.push(`-bf:${spec}`, String(p.bframes));
  a.push(`-g:${spec}`, String(k.keyint), `-force_key_frames:${spec}`, forceKeyframesExpr(k.gopSec));
  return a;
}

/** x264 preset names; anything else falls back to veryfast */
const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'];
const NVENC_FROM_X264: Record<string, string> = {
  ultrafast: 'p1',
  superfast: 'p2',
  veryfast: 'p3',
  faster: 'p3',
  fast: 'p4',
  medium: 'p4',
  slow: 'p5',
  slower: 'p6',
  veryslow: 'p7',
  placebo: 'p7',
};
const QSV_PRESETS = ['veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

export function nvencPreset(preset?: string): string {
  if (!preset) return 'p4';
  if (/^p[1-7]$/.test(preset)) return preset;
  return NVENC_FROM_X264[preset] ?? 'p4';
}

export function qsvPreset(preset?: string): string {
  if (!preset) return 'medium';
  if (QSV_PRESETS.includes(preset)) return preset;
  if (preset === 'ultrafast' || preset === 'superfast') return 'veryfast';
  const m = /^p([1-7])$/.exec(preset);
  if (m) return QSV_PRESETS[Number(m[1]) - 1]!;
  return 'medium';
}

/** `4.1` → `41`, `5` → `50` (MFX level numbers); numbers pass through. */
export function qsvLevel(level: string): string {
  const m = /^(\d)(?:\.(\d))?$/.exec(level);
  return m ? String(Number(m[1]) * 10 + Number(m[2] ?? 0)) : level;
}

export function cpuPreset(preset?: string): string {
  return preset && X264_PRESETS.includes(preset) ? preset : 'veryfast';
}

/** overlay x/y expressions for a logo position (cpu `overlay` filter variables) */
export function overlayXY(logo: Logo): string {
  const { x, y } = logo;
  switch (logo.position) {
    case 'top-left':
      return `x=${x}:y=${y}`;
    case 'top-right':
      return `x=main_w-overlay_w-${x}:y=${y}`;
    case 'bottom-left':
      return `x=${x}:y=main_h-overlay_h-${y}`;
    case 'bottom-right':
      return `x=main_w-overlay_w-${x}:y=main_h-overlay_h-${y}`;
    case 'center':
      return `x=(main_w-overlay_w)/2:y=(main_h-overlay_h)/2`;
  }
}

// ---------------------------------------------------------------------------------------------

export function cpuBackend(): Backend {
  return {
    id: 'cpu',
    inputArgs: () => [],
    upload: '',
    download: '',
    deinterlace: (kind) => (kind === 'bwdif' ? 'bwdif=mode=send_frame:parity=auto:deint=all' : 'yadif=mode=send_frame:parity=auto:deint=all'),
    scale: (w, h) => {
      const s = wh(w, h);
      return s ? `scale=${s}` : null;
    },
    outFormat: 'format=yuv420p',
    nativeOverlay: () => null,
    encoder: (codec) => CPU_ENCODERS[codec],
    encoderArgs(spec, p, codec, k) {
      const a = [`-c:${spec}`, CPU_ENCODERS[codec], `-preset:${spec}`, cpuPreset(p.preset)];
      if (codec === 'h264') {
        a.push(...common(spec, p, k));
        a.push(`-keyint_min:${spec}`, String(k.keyint), `-sc_threshold:${spec}`, '0');
        a.push(`-x264-params:${spec}`, `keyint=${k.keyint}:min-keyint=${k.keyint}:scenecut=0`);
      } else {
        // libx265 takes no -level/-bf: they go to x265-params
        a.push(...rateArgs(spec, p));
        if (p.profile) a.push(`-profile:${spec}`, p.profile);
        a.push(`-g:${spec}`, String(k.keyint), `-force_key_frames:${spec}`, forceKeyframesExpr(k.gopSec));
        const x265 = [`keyint=${k.keyint}`, `min-keyint=${k.keyint}`, 'scenecut=0', 'open-gop=0', 'log-level=error'];
        if (p.bframes !== undefined) x265.push(`bframes=${p.bframes}`);
        if (p.level) x265.push(`level-idc=${p.level}`);
        a.push(`-x265-params:${spec}`, x265.join(':'));
      }
      return a;
    },
  };
}

/** NVIDIA: CUDA decode (frames stay on the GPU), scale_cuda/scale_npp, yadif_cuda, h264_nvenc/hevc_nvenc. */
export function nvencBackend(device: string | undefined, caps?: FfmpegCaps): Backend {
  const idx = nvidiaIndex(device);
  const has = (f: string) => !caps || caps.filters.has(f);
  const scaler = caps && !caps.filters.has('scale_cuda') && caps.filters.has('scale_npp') ? 'scale_npp' : 'scale_cuda';
  return {
    id: 'nvenc',
    inputArgs: (raw) => [
      '-init_hw_device',
      `cuda=cu:${idx}`,
      '-filter_hw_device',
      'cu',
      ...(raw ? [] : ['-hwaccel', 'cuda', '-hwaccel_device', 'cu', '-hwaccel_output_format', 'cuda']),
    ],
    upload: 'format=nv12,hwupload',
    download: 'hwdownload,format=nv12',
    deinterlace: (kind) => (kind === 'bwdif' && caps?.filters.has('bwdif_cuda') ? 'bwdif_cuda=mode=send_frame:parity=auto:deint=all' : 'yadif_cuda=mode=send_frame:parity=auto:deint=all'),
    scale: (w, h) => {
      const s = wh(w, h);
      return s ? `${scaler}=${s}` : null;
    },
    outFormat: '',
    nativeOverlay: (logo) => {
      // overlay_cuda evaluates x/y expressions since ffmpeg 5.0 (integers before): native there, else download path
      if (!has('overlay_cuda')) return null;
      const exprs = !caps || caps.major === null || caps.major >= 5;
      if (!exprs && logo.position !== 'top-left') return null;
      return { logoChain: 'format=yuva420p,hwupload', overlay: `overlay_cuda=${overlayXY(logo)}`, opacityInOverlay: false };
    },
    encoder: (codec) => HW_ENCODERS.nvenc[codec],
    encoderArgs(spec, p, codec, k) {
      const maxrate = p.maxrate ?? p.bitrate;
      return [
        `-c:${spec}`,
        HW_ENCODERS.nvenc[codec],
        `-preset:${spec}`,
        nvencPreset(p.preset),
        `-rc:${spec}`,
        maxrate > p.bitrate ? 'vbr' : 'cbr',
        ...common(spec, p, k),
        `-forced-idr:${spec}`,
        '1',
        `-no-scenecut:${spec}`,
        '1',
      ];
    },
  };
}

/** Intel Quick Sync: QSV decode, vpp_qsv deinterlace/scale, h264_qsv/hevc_qsv. */
export function qsvBackend(device: string | undefined, caps?: FfmpegCaps): Backend {
  const node = renderNodeFor(device, caps?.hardware);
  // ffmpeg < 6 picks the decoder device through -qsv_device; later versions through -hwaccel_device
  const legacy = !caps || caps.major === null || caps.major < 6;
  return {
    id: 'qsv',
    inputArgs: (raw) => [
      '-init_hw_device',
      `qsv=qs:hw_any,child_device=${node}`,
      '-filter_hw_device',
      'qs',
      ...(raw ? [] : ['-hwaccel', 'qsv', ...(legacy ? ['-qsv_device', node] : ['-hwaccel_device', 'qs']), '-hwaccel_output_format', 'qsv']),
    ],
    upload: 'format=nv12,hwupload=extra_hw_frames=64',
    download: 'hwdownload,format=nv12',
    deinterlace: (kind) => `vpp_qsv=deinterlace=${kind === 'bwdif' ? 2 : 1}`,
    scale: (w, h) => {
      if (w === undefined && h === undefined) return null;
      // vpp_qsv has no -2 shorthand: compute the kept side from the input aspect, rounded to even
      const ws = w === undefined || w < 0 ? `2*trunc(iw*${h}/ih/2)` : String(w);
      const hs = h === undefined || h < 0 ? `2*trunc(ih*${w}/iw/2)` : String(h);
      return `vpp_qsv=w=${ws}:h=${hs}`;
    },
    outFormat: '',
    nativeOverlay: () => null,
    encoder: (codec) => HW_ENCODERS.qsv[codec],
    encoderArgs(spec, p, codec, k) {
      return [
        `-c:${spec}`,
        HW_ENCODERS.qsv[codec],
        `-preset:${spec}`,
        qsvPreset(p.preset),
        // qsv takes the level as a number (4.1 → 41)
        ...common(spec, { ...p, level: p.level ? qsvLevel(p.level) : undefined }, k),
        `-idr_interval:${spec}`,
        '0',
        `-forced_idr:${spec}`,
        '1',
      ];
    },
  };
}

/** VAAPI (Intel/AMD): VAAPI decode, deinterlace_vaapi, scale_vaapi, overlay_vaapi when present, h264_vaapi/hevc_vaapi. */
export function vaapiBackend(device: string | undefined, caps?: FfmpegCaps): Backend {
  const node = renderNodeFor(device, caps?.hardware);
  const overlayVaapi = !caps || caps.filters.has('overlay_vaapi');
  // ffmpeg >= 6 evaluates overlay_vaapi x/y as expressions; 5.x takes integers
  const overlayExpr = !!caps && caps.major !== null && caps.major >= 6;
  const VAAPI_PROFILES: Record<string, string> = { baseline: 'constrained_baseline' };
  return {
    id: 'vaapi',
    inputArgs: (raw) => [
      '-init_hw_device',
      `vaapi=va:${node}`,
      '-filter_hw_device',
      'va',
      ...(raw ? [] : ['-hwaccel', 'vaapi', '-hwaccel_device', 'va', '-hwaccel_output_format', 'vaapi']),
    ],
    upload: 'format=nv12,hwupload',
    download: 'hwdownload,format=nv12',
    deinterlace: (kind) => `deinterlace_vaapi=mode=${kind === 'bwdif' ? 'motion_adaptive' : 'default'}:rate=frame`,
    scale: (w, h) => {
      const s = wh(w, h);
      return s ? `scale_vaapi=${s}:format=nv12` : null;
    },
    outFormat: '',
    nativeOverlay: (logo) => {
      if (!overlayVaapi) return null;
      if (logo.position !== 'top-left' && !overlayExpr) return null;
      const xy = logo.position === 'top-left' ? `x=${logo.x}:y=${logo.y}` : overlayXY(logo).replaceAll('main_w', 'W').replaceAll('main_h', 'H').replaceAll('overlay_w', 'w').replaceAll('overlay_h', 'h');
      return { logoChain: 'hwupload', overlay: `overlay_vaapi=${xy}:alpha=${fmtNum(logo.opacity)}`, opacityInOverlay: true };
    },
    encoder: (codec) => HW_ENCODERS.vaapi[codec],
    encoderArgs(spec, p, codec, k) {
      const maxrate = p.maxrate ?? p.bitrate;
      const prof = p.profile ? (VAAPI_PROFILES[p.profile] ?? p.profile) : undefined;
      return [
        `-c:${spec}`,
        HW_ENCODERS.vaapi[codec],
        `-rc_mode:${spec}`,
        maxrate > p.bitrate ? 'VBR' : 'CBR',
        ...common(spec, { ...p, profile: prof }, k),
        `-idr_interval:${spec}`,
        '0',
      ];
    },
  };
}

export function backendFor(id: HwBackend, device: string | undefined, caps?: FfmpegCaps): Backend {
  switch (id) {
    case 'nvenc':
      return nvencBackend(device, caps);
    case 'qsv':
      return qsvBackend(device, caps);
    case 'vaapi':
      return vaapiBackend(device, caps);
    default:
      return cpuBackend();
  }
}
