/**
 * The documents of the node's control API (`/api/v3/...`, on the Unix socket and the HTTP port), as
 * the node agent writes them and the client reads them: one definition for both sides. Field names
 * follow Flussonic's API v3 (snake_case, `{"streams":[…],"estimated_count":N}`, a stream with `stats`).
 * Changing a field here is changing the wire: the committed JSON Schemas of the CLI's `--json`
 * output (schemas/) are checked against real output by a test.
 */

/** `stats` of a stream: the supervisor's status document relayed by the node, plus the node's view of the supervisor. */
export interface StreamStatsDoc {
  alive: boolean;
  status: string;
  bitrate: number;
  input_bitrate: number;
  retry_count: number;
  lifetime: number;
  media_info: Record<string, unknown> | null;
  source_error: string | null;
  active_input: number | null;
  inputs: {
    index: number;
    url: string;
    priority: number;
    state: string;
    bitrate: number;
    fps: number;
    cc_errors: number;
    lost_packets: number;
    last_packet_age_ms: number | null;
    switches: number;
    error: string | null;
    /** mosaic:// inputs while running: each tile, live or drawn as a slate */
    tiles?: { name: string; live: boolean }[];
    /** failover_on: the watched conditions, how often each made the stream leave this input, the watch's own error */
    quality?: { watch: string[]; failovers: Record<string, number>; error: string | null };
  }[];
  push: { url: string; state: string; bytes: number; errors: number; restarts: number; error: string | null }[];
  renditions: { name: string; bitrate: number; segments: number; last_segment_at: number | null }[];
  events: { at: number; type: string; reason?: string; from?: number; to?: number; input?: number; message?: string; source: 'supervisor' | 'node' }[];
  ffmpeg: { role: string; pid: number; input: number | null; args?: string[] }[];
  online_clients?: number;
  dvr_info?: { bytes: number; from: number | null; to: number | null; recording: boolean; paused: boolean } | null;
  supervisor: { pid: number | null; state: string; restarts: number; adopted: boolean; spec_hash: string; spawned_at: number } | null;
}

/** A stream as the API returns it: its config fields plus stats. */
export interface StreamDoc {
  name: string;
  inputs: ({ url: string } & Record<string, unknown>)[];
  stats: StreamStatsDoc;
  [field: string]: unknown;
}

export interface StreamList {
  streams: StreamDoc[];
  estimated_count: number;
}

export interface InputMonitorDoc {
  name: string;
  alive: boolean;
  status: string;
  active_input: number | null;
  input_bitrate: number;
  source_error: string | null;
  inputs: StreamStatsDoc['inputs'];
  events: StreamStatsDoc['events'];
  all_events: StreamStatsDoc['events'];
}

export interface NodeInfoDoc {
  name: string;
  version: string;
  pid: number;
  started_at: number;
  uptime: number;
  uptime_ms: number;
  config_file: string | null;
  demo: boolean;
  run_dir: string;
  data_dir: string;
  log_file: string | null;
  socket: string;
  http: { host: string; port: number; url: string };
  api_url: string;
  /** server.https, when configured */
  https?: { port: number; url: string; http_mode: 'serve' | 'redirect' | 'off'; cert_reloads: number } | null;
  rtmp: number | null;
  srt: number | null;
  streams_count: number;
  streams_running: number;
  streams_disabled: number;
  supervisor_restarts: number;
  ffmpeg: { path: string; source: string; version: string | null };
  auth: { users: number };
  reloads: { ok: number; failed: number; last_error: string | null; last_at: number | null };
  playback: boolean;
  cpu_seconds?: number;
  /** membership when the node is in a cluster: ok, degraded (etcd unreachable), refused (name taken) */
  cluster?: 'ok' | 'degraded' | 'refused' | null;
  rss_bytes?: number;
  events?: { last_event_id: number; sinks: { url: string; queued: number; sent: number; dropped: number; failed: number; last_error: string | null }[] };
}

/** A config problem at a place in the text the request carried (1-based line and column). */
export interface PositionedError {
  line: number;
  col: number;
  path: string;
  error: string;
}

export interface ConfigValidation {
  valid: boolean;
  errors: PositionedError[];
}

export interface ReloadResult {
  reloaded: true;
  changes: { started: string[]; stopped: string[]; restarted: string[]; adopted: string[]; unchanged: string[] };
}

/** The body of an error answer (4xx/5xx); a config error carries the positioned errors. */
export interface ApiErrorBody {
  error: string;
  code?: string;
  valid?: false;
  errors?: PositionedError[];
}

/** GET /api/v3/streams/NAME/ffmpeg: the ffmpeg children the stream's supervisor runs right now, with their argument arrays. */
export interface StreamFfmpegDoc {
  stream: string;
  /** the supervisor's pid */
  pid: number;
  ffmpeg: { role: string; pid: number; input: number | null; args: string[] }[];
}

/** One play session, as `GET /api/v3/sessions` lists it (Flussonic's field names). */
export interface SessionDoc {
  id: string;
  name: string;
  ip: string;
  proto: string;
  token: string | null;
  user_id: string | null;
  type: 'play';
  opened_at: number;
  updated_at: number;
  duration: number;
  requests: number;
  user_agent: string | null;
  referer: string | null;
}

/** GET /api/v3/sessions[?name=] */
export interface SessionList {
  sessions: SessionDoc[];
  estimated_count: number;
}

/** A cluster member's heartbeat document (etcd key <prefix>nodes/<name>), as peers of GET /api/v3/cluster/status list it. */
export interface ClusterNodeDoc {
  name: string;
  address: string;
  role: 'origin' | 'edge';
  version: string;
  /** host + run dir: tells this node's own leftover key from another node's */
  instance: string;
  pid: number;
  started_at: number;
  uptime: number;
  cpu: number;
  streams_captured: number;
  clients: number;
  output_bitrate: number;
  max_bitrate: number | null;
  last_heartbeat: number;
  member_for_ms: number;
  ingest: string[];
}

/** GET /api/v3/cluster/status: this node's view of the cluster (404 outside one); `flux cluster status --json`. */
export interface ClusterStatusDoc {
  node: string;
  /** the member's state: joining, ok, degraded (etcd unreachable), refused (name taken), stopped */
  state: 'joining' | 'ok' | 'degraded' | 'refused' | 'stopped';
  cluster: 'ok' | 'degraded';
  error: string | null;
  etcd: string[];
  key_prefix: string;
  lease_ttl_ms: number;
  /** the membership lease's id while it is alive */
  lease: string | null;
  advertise: string;
  snapshot_at: number | null;
  peers: ClusterNodeDoc[];
  /** stream → the node that captures it (cluster_ingest streams) */
  owners: Record<string, string>;
  shared_streams: string[];
}

/** `flux auth sign --json`: a play URL signed with the stream's securetoken. */
export interface SignedLink {
  stream: string;
  url: string;
  token: string;
  ip: string | null;
  start: number;
  end: number;
}

/** `flux cluster apply --json`: how the cluster's shared streams changed. */
export interface ApplyResult {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
}

/** A Flussonic directive `flux import flussonic` did not translate, with why. */
export interface SkippedDirective {
  file: string;
  line: number;
  directive: string;
  reason: string;
}

/** `flux import flussonic --json` */
export interface FlussonicImportResult {
  /** the file written (-o), or null when the YAML went to stdout */
  output: string | null;
  streams: number;
  skipped: SkippedDirective[];
  yaml: string;
}

/** One MP4 file of a vod: location, as `flux vod ls --json` lists it. */
export interface VodFileEntry {
  location: string;
  /** path under the location, `/`-separated */
  file: string;
  url: string;
  size: number;
  durationSec: number | null;
  segments: number | null;
  video: string | null;
  audio: string | null;
  /** why the file cannot be served (the 422 reason), null when it can */
  error: string | null;
}

/** `flux vod ls --json` */
export interface VodList {
  files: VodFileEntry[];
}
