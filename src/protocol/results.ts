/**
 * The `--json` result of every `flux` command, as zod schemas: the contract scripts rely on. The
 * committed JSON Schemas under schemas/ are generated from these (`node scripts/gen-schemas.js`), and
 * test/e2e/json-results.test.ts checks real command output against them and the committed files
 * against the generator. Documented fields are required; documents may carry more (a stream carries
 * its config fields). Loaded by tests and the generator only: commands do not import zod for this.
 */
import { z } from 'zod';
import type { ClusterStatusDoc, NodeInfoDoc, ReloadResult, SessionList, StreamDoc, SignedLink, ApplyResult, FlussonicImportResult, VodList } from './api.js';
import { EVENT_NAMES, type FluxEvent } from './events.js';

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
      tiles: z.array(z.object({ name: z.string(), live: z.boolean() })).optional(),
      quality: z.object({ watch: z.array(z.string()), failovers: z.record(z.string(), z.number()), error: z.string().nullable() }).optional(),
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
  /** number of API users (auth.users) */
  auth: z.looseObject({ users: z.number().int() }),
  /** server.https, null when not configured */
  https: z.looseObject({ port: z.number().int(), url: z.string(), http_mode: z.enum(['serve', 'redirect', 'off']), cert_reloads: z.number().int() }).nullable().optional(),
  /** CPU time of the node process (user + system) */
  cpu_seconds: z.number().optional(),
  rss_bytes: z.number().optional(),
  /** the event hub: newest event id, and each webhook sink's counters */
  events: z
    .looseObject({
      last_event_id: z.number().int(),
      sinks: z.array(z.looseObject({ url: z.string(), queued: z.number(), sent: z.number(), dropped: z.number(), failed: z.number(), last_error: z.string().nullable() })),
    })
    .optional(),
  /** membership when the node is in a cluster (null outside one) */
  cluster: z.enum(['ok', 'degraded', 'refused']).nullable().optional(),
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

/** One event (src/protocol/events.ts): a line of `flux events --json` (NDJSON). */
export const eventDoc = z.object({
  event_id: z.number().int(),
  event: z.enum(EVENT_NAMES),
  utc_ms: z.number(),
  node: z.string(),
  stream: z.string().nullable(),
  reason: z.string(),
  input: z.number().int().optional(),
  from: nullableNumber.optional(),
  to: z.number().optional(),
  url: z.string().optional(),
  message: z.string().optional(),
});

export const nodeReload = z.object({
  reloaded: z.literal(true),
  forced: z.boolean(),
  changes: z.object({ started: z.array(z.string()), stopped: z.array(z.string()), restarted: z.array(z.string()), adopted: z.array(z.string()), unchanged: z.array(z.string()) }),
});

/** The Prometheus text exposition, as /metrics serves it. */
export const metrics = z.object({ text: z.string() });

/** One line of `flux top --json` (NDJSON, one per refresh): node null (and error set) while the node cannot be reached. */
export const top = z.object({
  node: nodeInfo.extend({ cpu_percent: nullableNumber }).nullable(),
  error: z.string().nullable(),
  streams: z.array(streamDoc),
  /** the newest events (at most 20) */
  events: z.array(eventDoc),
});

export const authHash = z.object({ password_hash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[^$]+\$[^$]+$/) });
export const authSign = z.object({ stream: z.string(), url: z.string(), token: z.string(), ip: z.string().nullable(), start: z.number().int(), end: z.number().int() });

export const sessionDoc = z.object({
  id: z.string(),
  name: z.string(),
  ip: z.string(),
  proto: z.string(),
  token: z.string().nullable(),
  user_id: z.string().nullable(),
  type: z.literal('play'),
  opened_at: z.number(),
  updated_at: z.number(),
  duration: z.number(),
  requests: z.number().int(),
  user_agent: z.string().nullable(),
  referer: z.string().nullable(),
});
export const sessionLs = z.object({ sessions: z.array(sessionDoc), estimated_count: z.number().int() });
export const sessionKill = z.object({ killed: z.string() });

export const clusterNode = z.looseObject({
  name: z.string(),
  address: z.string(),
  role: z.enum(['origin', 'edge']),
  version: z.string(),
  instance: z.string(),
  pid: z.number().int(),
  started_at: z.number(),
  uptime: z.number(),
  cpu: z.number(),
  streams_captured: z.number().int(),
  clients: z.number().int(),
  output_bitrate: z.number(),
  max_bitrate: nullableNumber,
  last_heartbeat: z.number(),
  member_for_ms: z.number(),
  ingest: z.array(z.string()),
});
export const clusterStatus = z.object({
  node: z.string(),
  state: z.enum(['joining', 'ok', 'degraded', 'refused', 'stopped']),
  cluster: z.enum(['ok', 'degraded']),
  error: z.string().nullable(),
  etcd: z.array(z.string()),
  key_prefix: z.string(),
  lease_ttl_ms: z.number(),
  lease: z.string().nullable(),
  advertise: z.string(),
  snapshot_at: nullableNumber,
  peers: z.array(clusterNode),
  owners: z.record(z.string(), z.string()),
  shared_streams: z.array(z.string()),
});
export const clusterJoin = z.object({
  joined: z.literal(true),
  node: z.string(),
  etcd: z.array(z.string()),
  config_file: z.string(),
  /** a running node took the new section (false: it joins at its next start) */
  applied: z.boolean(),
  /** the node's membership after joining, null when no node runs */
  cluster: z.enum(['ok', 'degraded']).nullable(),
  peers: z.array(z.string()),
});
export const clusterLeave = z.object({ left: z.literal(true), config_file: z.string(), applied: z.boolean() });
export const clusterApply = z.object({ added: z.array(z.string()), changed: z.array(z.string()), removed: z.array(z.string()), unchanged: z.array(z.string()), dry_run: z.boolean() });

/** Command id (as `flux <id>`) → the schema of its `--json` result. `config show` and `config schema` print documents with their own schemas (the resolved config; the JSON Schema of flux.yaml). */
export const importFlussonic = z.object({
  output: z.string().nullable(),
  streams: z.number().int(),
  skipped: z.array(z.object({ file: z.string(), line: z.number().int(), directive: z.string(), reason: z.string() })),
  yaml: z.string(),
});

export const vodLs = z.object({
  files: z.array(
    z.object({
      location: z.string(),
      file: z.string(),
      url: z.string(),
      size: z.number(),
      durationSec: nullableNumber,
      segments: nullableNumber,
      video: z.string().nullable(),
      audio: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
});

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
  'node reload': nodeReload,
  events: eventDoc,
  metrics,
  top,
  'auth hash': authHash,
  'auth sign': authSign,
  'session ls': sessionLs,
  'session kill': sessionKill,
  'cluster status': clusterStatus,
  'cluster join': clusterJoin,
  'cluster leave': clusterLeave,
  'cluster apply': clusterApply,
  'import flussonic': importFlussonic,
  'vod ls': vodLs,
} as const;

/** NDJSON results: every line of the output is one document of the schema. */
export const NDJSON_RESULTS: ReadonlySet<keyof typeof RESULTS> = new Set(['events', 'top']);

/** A line of `flux top --json`, in the protocol's types (agrees with `top` below). */
export interface TopLine {
  node: (NodeInfoDoc & { cpu_percent: number | null }) | null;
  error: string | null;
  streams: StreamDoc[];
  events: FluxEvent[];
}

/** The `--json` result type of a command, as commands print it (type-only: no zod at run time). */
export type Result<Id extends keyof typeof RESULTS> = z.output<(typeof RESULTS)[Id]>;

// The schemas and the protocol's TypeScript documents must agree (both ways, on the named fields):
// a field added to one and not the other fails the typecheck here.
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;
const agree = <A, B>(ok: Same<Named<A>, Named<B>>): typeof ok => ok;
export const AGREEMENT = [
  agree<Result<'events'>, FluxEvent>(true),
  agree<Result<'import flussonic'>, FlussonicImportResult>(true),
  agree<Result<'vod ls'>, VodList>(true),
  agree<Pick<Result<'top'>, 'error' | 'events'>, Pick<TopLine, 'error' | 'events'>>(true),
  agree<Record<keyof Result<'top'>, 0>, Record<keyof TopLine, 0>>(true),
  agree<Result<'node reload'>, ReloadResult & { forced: boolean }>(true),
  agree<Result<'session ls'>, SessionList>(true),
  agree<Result<'auth sign'>, SignedLink>(true),
  agree<Result<'cluster apply'>, ApplyResult & { dry_run: boolean }>(true),
  agree<Omit<Result<'cluster status'>, 'peers'>, Omit<ClusterStatusDoc, 'peers'>>(true),
  agree<Named<Result<'cluster status'>['peers'][number]>, ClusterStatusDoc['peers'][number]>(true),
  agree<Pick<Result<'node status'>, 'https' | 'cpu_seconds' | 'rss_bytes' | 'cluster' | 'name' | 'pid' | 'playback'>, Pick<NodeInfoDoc, 'https' | 'cpu_seconds' | 'rss_bytes' | 'cluster' | 'name' | 'pid' | 'playback'>>(true),
] as const;


/** The JSON Schema (draft 2020-12) of a result, as committed under schemas/. */
export function resultJsonSchema(id: keyof typeof RESULTS): Record<string, unknown> {
  return { $id: `flux/${id.replace(/ /g, '-')}.json`, title: `flux ${id} --json`, ...(z.toJSONSchema(RESULTS[id], { io: 'output' }) as Record<string, unknown>) };
}
