/**
 * The `--json` result of every `flux` command, as zod schemas: the contract scripts rely on. The
 * committed JSON Schemas under schemas/ are generated from these (`node scripts/gen-schemas.js`), and
 * test/e2e/json-results.test.ts checks real command output against them and the committed files
 * against the generator. Documented fields are required; documents may carry more (a stream carries
 * its config fields). Loaded by tests and the generator only: commands do not import zod for this.
 */
import { z } from 'zod';

const nullableNumber = z.number().nullable();
const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T/);

export const positionedIssue = z.object({ file: z.string(), line: z.number().int(), col: z.number().int(), message: z.string(), path: z.string() });

/** Any command that fails with --json prints this on stdout (and exits non-zero). */
export const errorResult = z.object({
  error: z.object({ code: z.string(), message: z.string(), issues: z.array(positionedIssue).optional() }),
});

const event = z.looseObject({ at: z.number(), type: z.string(), source: z.enum(['supervisor', 'node']) });

export const streamStats = z.looseObject({
  alive: z.boolean(),
  status: z.string(),
  bitrate: z.number(),
  input_bitrate: z.number(),
  retry_count: z.number(),
  lifetime: z.number(),
  media_info: z.record(z.string(), z.unknown()).nullable(),
  source_error: z.string().nullable(),
  active_input: nullableNumber,
  inputs: z.array(
    z.looseObject({
      index: z.number(),
      url: z.string(),
      priority: z.number(),
      state: z.string(),
      bitrate: z.number(),
      fps: z.number(),
      cc_errors: z.number(),
      lost_packets: z.number(),
      last_packet_age_ms: nullableNumber,
      switches: z.number(),
      error: z.string().nullable(),
    }),
  ),
  push: z.array(z.looseObject({ url: z.string(), state: z.string(), bytes: z.number(), errors: z.number(), restarts: z.number(), error: z.string().nullable() })),
  renditions: z.array(z.looseObject({ name: z.string(), bitrate: z.number(), segments: z.number(), last_segment_at: nullableNumber })),
  events: z.array(event),
  ffmpeg: z.array(z.looseObject({ role: z.string(), pid: z.number(), input: nullableNumber })),
  supervisor: z
    .looseObject({ pid: nullableNumber, state: z.string(), restarts: z.number(), adopted: z.boolean(), spec_hash: z.string(), spawned_at: z.number() })
    .nullable(),
});

export const streamDoc = z.looseObject({ name: z.string(), inputs: z.array(z.looseObject({ url: z.string() })), stats: streamStats });

export const streamList = z.object({ streams: z.array(streamDoc), estimated_count: z.number().int() });

export const inputMonitor = z.looseObject({
  name: z.string(),
  alive: z.boolean(),
  status: z.string(),
  active_input: nullableNumber,
  input_bitrate: z.number(),
  source_error: z.string().nullable(),
  inputs: streamStats.shape.inputs,
  events: z.array(event),
  all_events: z.array(event),
});

export const streamShow = streamDoc.extend({ monitor: inputMonitor.nullable() });
export const streamAdd = streamDoc.extend({ applied: z.boolean() });
export const streamRm = z.object({ removed: z.string(), applied: z.boolean() });
export const streamRestart = z.looseObject({ restarted: z.string() });

export const argsLine = z.object({
  role: z.string(),
  index: z.number().int(),
  url: z.string(),
  args: z.array(z.string()).nullable(),
  command: z.string().nullable(),
  outputs: z.array(z.object({ rendition: z.string(), fd: z.number().int() })).optional(),
  hw: z.string().optional(),
  warnings: z.array(z.string()),
  note: z.string().optional(),
  error: z.string().optional(),
});
export const streamArgs = z.object({
  stream: z.string(),
  source: z.enum(['config', 'live']),
  ffmpeg: z.object({ path: z.string(), source: z.string() }),
  lines: z.array(argsLine),
});

export const nodeInfo = z.looseObject({
  name: z.string(),
  version: z.string(),
  pid: z.number().int(),
  started_at: z.number(),
  uptime: z.number(),
  uptime_ms: z.number(),
  config_file: z.string().nullable(),
  demo: z.boolean(),
  run_dir: z.string(),
  data_dir: z.string(),
  log_file: z.string().nullable(),
  socket: z.string(),
  http: z.looseObject({ host: z.string(), port: z.number(), url: z.string() }),
  api_url: z.string(),
  rtmp: nullableNumber,
  srt: nullableNumber,
  streams_count: z.number().int(),
  streams_running: z.number().int(),
  streams_disabled: z.number().int(),
  supervisor_restarts: z.number().int(),
  ffmpeg: z.looseObject({ path: z.string(), source: z.string(), version: z.string().nullable() }),
  reloads: z.looseObject({ ok: z.number(), failed: z.number(), last_error: z.string().nullable(), last_at: nullableNumber }),
  playback: z.boolean(),
});

export const nodeStart = z.object({
  pid: z.number().int(),
  config_file: z.string().nullable(),
  demo: z.boolean(),
  socket: z.string(),
  log_file: z.string(),
  http_url: z.string(),
  api_url: z.string(),
  streams: z.array(z.object({ name: z.string(), embed: z.string(), hls: z.string() })),
});
export const nodeStop = z.object({ stopped: z.literal(true), pid: z.number().int(), keep_streams: z.boolean(), forced: z.boolean() });
export const status = z.object({ node: nodeInfo, streams: streamList });

export const validate = z.array(positionedIssue);
export const init = z.object({ file: z.string(), schema: z.string().nullable() });

const binary = z.object({ path: z.string(), source: z.string() });
export const doctor = z.object({
  ok: z.boolean(),
  config: z.string().nullable(),
  ffmpeg: binary.extend({ version: z.string() }).nullable(),
  ffprobe: binary.extend({ version: z.string().nullable() }).nullable(),
  checks: z.array(z.object({ name: z.string(), group: z.enum(['binary', 'encoder', 'protocol', 'hardware', 'stream']), ok: z.boolean(), essential: z.boolean(), detail: z.string() })),
  hardware: z.looseObject({}).nullable(),
  missing: z.array(z.string()),
});

export const probe = z.object({
  source: z.string(),
  ffprobe: z.string(),
  format: z.object({ name: z.string().nullable(), long_name: z.string().nullable(), duration: nullableNumber, bitrate: nullableNumber, size: nullableNumber, start_time: nullableNumber }),
  streams: z.array(
    z.object({
      index: z.number().int(),
      type: z.string(),
      codec: z.string().nullable(),
      profile: z.string().nullable(),
      width: nullableNumber,
      height: nullableNumber,
      fps: nullableNumber,
      bitrate: nullableNumber,
      channels: nullableNumber,
      sample_rate: nullableNumber,
      pix_fmt: z.string().nullable(),
      language: z.string().nullable(),
    }),
  ),
});

const gap = z.object({ from: isoTime, to: isoTime, duration: z.number(), reason: z.enum(['missing', 'discontinuity']) });
export const dvrLs = z.object({
  stream: z.string(),
  root: z.string(),
  window: z.object({ from: isoTime.nullable(), to: isoTime.nullable() }),
  dvr: z.object({ retention: nullableNumber, maxSize: nullableNumber, diskUsageLimit: nullableNumber }).nullable(),
  renditions: z.array(
    z.looseObject({
      name: z.string(),
      segments: z.number().int(),
      bytes: z.number(),
      oldest: isoTime.nullable(),
      newest: isoTime.nullable(),
      recorded: z.number(),
      ranges: z.array(z.object({ from: isoTime, to: isoTime, duration: z.number(), segments: z.number().int(), bytes: z.number() })),
      gaps: z.array(gap),
    }),
  ),
  disk: z.object({
    archiveBytes: z.number(),
    /** every rendition and the index, as `max_size` counts it */
    totalBytes: z.number(),
    /** the archive is over `max_size` (by more than the one segment allowed) */
    overCap: z.boolean(),
    filesystem: z.object({ totalBytes: z.number(), availableBytes: z.number(), usedPercent: z.number() }).nullable(),
  }),
});
export const dvrExport = z.object({
  file: z.string(),
  format: z.enum(['ts', 'mp4']),
  bytes: z.number(),
  duration: z.number(),
  segments: z.number().int(),
  from: isoTime,
  to: isoTime,
  gaps: z.array(gap),
  missing: z.number().int(),
});

/** Command id (as `flux <id>`) → the schema of its `--json` result. `config show` and `config schema` print documents with their own schemas (the resolved config; the JSON Schema of flux.yaml). */
export const RESULTS = {
  error: errorResult,
  'stream list': streamList,
  'stream show': streamShow,
  'stream add': streamAdd,
  'stream rm': streamRm,
  'stream restart': streamRestart,
  'stream args': streamArgs,
  'node start': nodeStart,
  'node stop': nodeStop,
  'node status': nodeInfo,
  status,
  validate,
  init,
  doctor,
  probe,
  'dvr ls': dvrLs,
  'dvr export': dvrExport,
} as const;

/** The JSON Schema (draft 2020-12) of a result, as committed under schemas/. */
export function resultJsonSchema(id: keyof typeof RESULTS): Record<string, unknown> {
  return { $id: `flux/${id.replace(/ /g, '-')}.json`, title: `flux ${id} --json`, ...(z.toJSONSchema(RESULTS[id], { io: 'output' }) as Record<string, unknown>) };
}
