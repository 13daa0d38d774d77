/**
 * The single source of truth for flux.yaml. Validation, the JSON Schema (`flux config schema`),
 * the reference docs and the resolved model all derive from these definitions.
 * Values keep their human form here (`2s`, `500G`, `4000k`); resolve.ts normalizes them.
 */
import { z } from 'zod';
import { parseBitrate, parseDuration, parseFrameSize, parsePercent, parseSize, UnitError } from './units.js';
import { streamNameProblem } from '../core/paths.js';

function unit<T extends z.ZodType>(base: T, parse: (v: never) => unknown, example: string) {
  return base
    .superRefine((v, ctx) => {
      try {
        parse(v as never);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof UnitError ? e.message : String(e) });
      }
    })
    .describe(example);
}

export const Duration = () => unit(z.union([z.string(), z.number()]), parseDuration, 'duration: 2s, 90m, 7d (a bare number is seconds)');
export const Size = () => unit(z.union([z.string(), z.number()]), parseSize, 'size: 500M, 2T (binary multiples)');
export const Bitrate = () => unit(z.union([z.string(), z.number()]), parseBitrate, 'bitrate: 4000k, 2.5M');
export const FrameSizeStr = () => unit(z.string(), parseFrameSize, 'frame size: 1920x1080');
export const Percent = () => unit(z.union([z.string(), z.number()]), parsePercent, 'percentage: 90%');
const Port = () => z.number().int().min(1).max(65535);

/** URL schemes an input may use. `publish://` accepts RTMP/SRT publish into the stream. */
export const INPUT_SCHEMES = [
  'publish', 'fake', 'file', 'udp', 'rtp', 'tshttp', 'tshttps', 'http', 'https', 'hls', 'hlss',
  'rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt',
] as const;
export const PUSH_SCHEMES = ['rtmp', 'rtmps', 'srt', 'udp', 'file'] as const;

export const InputSchema = z
  .strictObject({
    url: z.string().min(1).describe('source URL: publish://, fake://testsrc, file:///path, udp://239.0.0.1:1234, tshttp://…, hls://… or http(s)://….m3u8, rtmp://…, rtsp://…, srt://…'),
    priority: z.number().int().min(1).max(100).optional().describe('1 = preferred; inputs are tried in priority order'),
    backup: z.boolean().optional().describe('a backup input: used only while better inputs fail'),
    source_timeout: Duration().optional().describe('no media for this long → fail over (default 5s)'),
    return_after: Duration().optional().describe('a better input must stay healthy this long before it takes over again (default 10s)'),
    rtsp_transport: z.enum(['tcp', 'udp']).optional(),
    srt_latency: Duration().optional(),
    srt_passphrase: z.string().min(10).max(79).optional(),
    srt_streamid: z.string().optional(),
    interface: z.string().optional().describe('multicast: local interface address to join on'),
    loop: z.boolean().optional().describe('file://: loop the file as live (default true)'),
    publish_password: z.string().optional().describe('publish://: required key (?key= or ?password=)'),
  })
  .describe('one source of the stream');

export const VideoProfileSchema = z.strictObject({
  bitrate: Bitrate(),
  size: FrameSizeStr().optional(),
  codec: z.enum(['h264', 'h265', 'copy']).optional(),
  preset: z.string().optional(),
  profile: z.string().optional(),
  level: z.string().optional(),
  fps: z.number().positive().max(240).optional(),
  gop: Duration().optional().describe('keyframe interval (time); defaults to the HLS segment duration'),
  bframes: z.number().int().min(0).max(16).optional(),
  maxrate: Bitrate().optional(),
  bufsize: Size().optional(),
  name: z.string().optional(),
});

export const AudioSchema = z.strictObject({
  codec: z.enum(['aac', 'opus', 'mp3', 'copy']).optional(),
  bitrate: Bitrate().optional(),
  channels: z.number().int().min(1).max(8).optional(),
  sample_rate: z.number().int().min(8000).max(96000).optional(),
  per_profile: z.boolean().optional().describe('encode audio for each profile instead of once'),
});

export const LogoSchema = z.strictObject({
  path: z.string().min(1),
  position: z.enum(['top-left', 'top-right', 'bottom-left', 'bottom-right', 'center']).optional(),
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  opacity: z.number().min(0).max(1).optional(),
});

export const TranscoderSchema = z.strictObject({
  hw: z.enum(['cpu', 'nvenc', 'qsv', 'vaapi']).optional(),
  device: z.string().optional().describe('GPU index (nvenc/qsv) or DRM render node (vaapi, /dev/dri/renderD128)'),
  fallback: z.enum(['cpu', 'none']).optional().describe('when the hardware is absent: fall back to cpu, or fail (default none)'),
  deinterlace: z.union([z.boolean(), z.enum(['yadif', 'bwdif'])]).optional(),
  logo: LogoSchema.optional(),
  video: z.array(VideoProfileSchema).min(1).optional(),
  audio: AudioSchema.optional(),
});

export const DvrSchema = z.strictObject({
  storage: z.string().optional().describe('name of a storage under the top-level dvr section'),
  path: z.string().optional().describe('directory for this stream\'s archive'),
  retention: Duration().optional().describe('keep this long (e.g. 7d)'),
  max_size: Size().optional().describe('keep at most this much (e.g. 500G)'),
  disk_usage_limit: Percent().optional().describe('delete oldest when the disk is fuller than this'),
});

export const PushSchema = z.union([
  z.string().min(1),
  z.strictObject({
    url: z.string().min(1),
    rendition: z.string().optional().describe('which rendition to push (default: the first)'),
    retry_delay: Duration().optional(),
    disabled: z.boolean().optional(),
  }),
]);

export const HlsSchema = z.strictObject({
  segment_duration: Duration().optional().describe('target segment duration (default 2s)'),
  window: z.number().int().min(2).max(100).optional().describe('segments in the live playlist (default 6)'),
});

export const StreamAuthSchema = z.strictObject({
  publish_password: z.string().optional(),
  play_token: z.boolean().optional(),
  secure_link: z.boolean().optional(),
});

const streamFields = {
  inputs: z.array(InputSchema).min(1).describe('sources in priority order'),
  title: z.string().optional(),
  disabled: z.boolean().optional(),
  transcoder: TranscoderSchema.optional(),
  dvr: DvrSchema.optional(),
  push: z.array(PushSchema).optional(),
  hls: HlsSchema.optional(),
  auth: StreamAuthSchema.optional(),
};

export const StreamSchema = z.strictObject(streamFields);

export const TemplateSchema = z.strictObject({
  prefix: z.union([z.string(), z.array(z.string())]).describe('applies to streams whose name starts with this'),
  ...Object.fromEntries(Object.entries(streamFields).map(([k, v]) => [k, (v as z.ZodType).optional()])),
} as Record<string, z.ZodType>);

export const StorageSchema = z.strictObject({
  path: z.string().min(1),
  retention: Duration().optional(),
  max_size: Size().optional(),
  disk_usage_limit: Percent().optional(),
});

export const ServerSchema = z.strictObject({
  http: Port().optional().describe('playback + /api/v3 (default 8080)'),
  host: z.string().optional().describe('address to bind (default 0.0.0.0)'),
  rtmp: z.union([Port(), z.literal(false)]).optional().describe('RTMP publish listener (default 1935; false to disable)'),
  srt: z.union([Port(), z.literal(false)]).optional().describe('SRT publish listener (streamid selects the stream); off by default'),
  data_dir: z.string().optional(),
  run_dir: z.string().optional(),
  log_dir: z.string().optional(),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
  ffmpeg: z.string().optional(),
  ffprobe: z.string().optional(),
});

export const ApiUserSchema = z.strictObject({
  name: z.string().min(1),
  password_hash: z.string().min(1).describe('scrypt hash from `flux auth hash`'),
  role: z.enum(['admin', 'read']).optional(),
});

export const AuthSchema = z.strictObject({
  users: z.array(ApiUserSchema).optional(),
  play_backend: z.string().url().optional().describe('HTTP backend asked to allow each play session'),
  publish_password: z.string().optional(),
  secure_link_key: z.string().min(8).optional(),
  max_sessions: z.number().int().min(1).optional(),
});

export const ClusterSchema = z.strictObject({
  etcd: z.array(z.string().url()).min(1),
  node_name: z.string().min(1).optional(),
  advertise: z.string().url().optional(),
});

export const StreamNameSchema = z.string().superRefine((name, ctx) => {
  const p = streamNameProblem(name);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

export const ConfigSchema = z
  .strictObject({
    server: ServerSchema.optional(),
    streams: z.record(z.string(), StreamSchema).optional(),
    templates: z.record(z.string(), TemplateSchema).optional(),
    dvr: z.record(z.string(), StorageSchema).optional(),
    auth: AuthSchema.optional(),
    cluster: ClusterSchema.optional(),
  })
  .describe('Flux media server configuration');

export type ConfigInput = z.input<typeof ConfigSchema>;
export type StreamInput = z.input<typeof StreamSchema>;
export type InputInput = z.input<typeof InputSchema>;
export type TranscoderInput = z.input<typeof TranscoderSchema>;
