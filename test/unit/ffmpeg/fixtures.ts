/** Builders of resolved config objects for ffmpeg argument tests. */
import type { ResolvedInput, ResolvedStream, ResolvedTranscoder, ResolvedVideoProfile, ResolvedPush } from '../../../src/config/model.js';
import type { FfmpegCaps } from '../../../src/ffmpeg/caps.js';
import { schemeOf } from '../../../src/config/resolve.js';

export function input(url: string, over: Partial<ResolvedInput> = {}): ResolvedInput {
  return { url, scheme: schemeOf(url), priority: 1, sourceTimeoutMs: 5000, returnAfterMs: 10_000, loop: true, ...over };
}

export function profile(i: number, over: Partial<ResolvedVideoProfile> = {}): ResolvedVideoProfile {
  return { name: `v${i + 1}`, codec: 'h264', bitrate: 1_000_000, ...over };
}

export function transcoder(over: Partial<ResolvedTranscoder> = {}): ResolvedTranscoder {
  return {
    hw: 'cpu',
    fallback: 'none',
    deinterlace: false,
    video: [
      profile(0, { bitrate: 4_000_000, width: 1920, height: 1080 }),
      profile(1, { bitrate: 2_000_000, width: 1280, height: 720 }),
      profile(2, { bitrate: 800_000, width: 640, height: -2 }),
    ],
    audio: { codec: 'aac', bitrate: 128_000, perProfile: false },
    ...over,
  };
}

export function stream(inputs: ResolvedInput[], t?: ResolvedTranscoder, over: Partial<ResolvedStream> = {}): ResolvedStream {
  return {
    name: 'ch1',
    disabled: false,
    inputs,
    transcoder: t,
    root: '/tmp/flux-test/ch1',
    push: [],
    hls: { segmentDurationMs: 2000, window: 6 },
    auth: { playToken: false, secureLink: false },
    renditions: t ? t.video.map((_, i) => `v${i + 1}a1`) : ['v1a1'],
    ...over,
  };
}

export function push(url: string, over: Partial<ResolvedPush> = {}): ResolvedPush {
  return { url, retryDelayMs: 2000, disabled: false, ...over };
}

/** Capabilities of an imaginary ffmpeg; hardware absent unless given. */
export function caps(over: Partial<FfmpegCaps> = {}): FfmpegCaps {
  return {
    path: '/usr/bin/ffmpeg',
    version: '5.1.9',
    major: 5,
    minor: 1,
    configuration: '',
    encoders: new Set(['libx264', 'libx265', 'aac', 'h264_nvenc', 'hevc_nvenc', 'h264_qsv', 'hevc_qsv', 'h264_vaapi', 'hevc_vaapi']),
    decoders: new Set(['h264', 'hevc', 'aac']),
    protocols: { input: new Set(['file', 'rtmp', 'srt', 'http']), output: new Set(['file', 'rtmp', 'srt']) },
    hwaccels: new Set(['cuda', 'vaapi', 'qsv']),
    filters: new Set(['scale', 'split', 'yadif', 'bwdif', 'overlay', 'scale_cuda', 'yadif_cuda', 'overlay_cuda', 'scale_vaapi', 'overlay_vaapi', 'vpp_qsv']),
    demuxers: new Set(['mpegts', 'rtsp', 'hls', 'lavfi']),
    muxers: new Set(['mpegts', 'flv', 'tee']),
    hardware: { nvidia: { devices: [], smiGpus: [] }, renderNodes: [] },
    ...over,
  };
}

/** Value following `flag` in args (first occurrence), or undefined. */
export function after(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** All values following `flag`. */
export function allAfter(args: readonly string[], flag: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === flag && i + 1 < args.length) out.push(args[i + 1]!);
  });
  return out;
}

/** Index of the (first) `-i`: everything before it is input/global options. */
export function beforeInput(args: readonly string[]): string[] {
  return args.slice(0, args.indexOf('-i'));
}
