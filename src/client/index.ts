/**
 * The typed client of the node's control API over its Unix socket (`<run>/node.sock`).
 * Throws NodeUnreachableError (exit 4) when no node answers, ApiError (with the HTTP status and
 * the answered body) when the node refuses a request.
 */
import { ApiError, ConfigError, NodeUnreachableError, type ConfigIssue } from '../core/errors.js';
import { closeSocketClients, socketRequest, SocketUnreachable } from './socket-http.js';
import { locateNode } from './locate.js';

export { locateNode, configFileFor } from './locate.js';

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
  }[];
  push: { url: string; state: string; bytes: number; errors: number; restarts: number; error: string | null }[];
  renditions: { name: string; bitrate: number; segments: number; last_segment_at: number | null }[];
  events: { at: number; type: string; reason?: string; from?: number; to?: number; source: 'supervisor' | 'node' }[];
  ffmpeg: { role: string; pid: number; input: number | null }[];
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
  /** membership when the node is in a cluster: ok, degraded (etcd unreachable), refused (name taken) */
  cluster?: 'ok' | 'degraded' | 'refused' | null;
}

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

export interface ClientOptions {
  socketPath: string;
  /** per-request timeout, ms (default 15 s) */
  timeoutMs?: number;
}

export function streamPath(name: string): string {
  return '/api/v3/streams/' + name.split('/').map(encodeURIComponent).join('/');
}

export class FluxClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;

  constructor(opts: ClientOptions) {
    this.socketPath = opts.socketPath;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  /** A client for the node of a config file (see locateNode). */
  static forConfig(configFile?: string, opts: Omit<ClientOptions, 'socketPath'> = {}): FluxClient {
    return new FluxClient({ ...opts, socketPath: locateNode(configFile).socketPath });
  }

  unreachable(detail?: string): NodeUnreachableError {
    return new NodeUnreachableError(`no node running (socket ${this.socketPath})${detail ? ` [${detail}]` : ''}: start one with "flux node start"`);
  }

  async request<T>(method: string, path: string, body?: unknown, opts: { timeoutMs?: number; raw?: boolean } = {}): Promise<T> {
    let res;
    try {
      res = await socketRequest(this.socketPath, path, {
        method,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        headers: typeof body === 'string' ? { 'content-type': 'text/plain; charset=utf-8' } : undefined,
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      });
    } catch (e) {
      if (e instanceof SocketUnreachable) {
        if (e.code === 'ETIMEDOUT') throw new NodeUnreachableError(`the node on socket ${this.socketPath} does not answer (timeout)`, { cause: e });
        throw this.unreachable(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? undefined : e.code);
      }
      throw e;
    }
    if (res.status >= 400) {
      const b = res.json as { error?: string; code?: string } | undefined;
      throw new ApiError(b?.error ?? `HTTP ${res.status}`, res.status, { body: res.json ?? res.text, code: b?.code });
    }
    return (res.status === 204 ? undefined : (res.json ?? res.text)) as T;
  }

  node(): Promise<NodeInfoDoc> {
    return this.request('GET', '/api/v3/node');
  }

  listStreams(opts: { prefix?: string } = {}): Promise<StreamList> {
    return this.request('GET', '/api/v3/streams' + (opts.prefix ? `?name=${encodeURIComponent(opts.prefix)}` : ''));
  }

  getStream(name: string): Promise<StreamDoc> {
    return this.request('GET', streamPath(name));
  }

  /** Create or replace a stream (validated, persisted to the config file, applied). */
  putStream(name: string, config: Record<string, unknown>): Promise<StreamDoc> {
    return this.request('PUT', streamPath(name), config);
  }

  deleteStream(name: string): Promise<void> {
    return this.request('DELETE', streamPath(name));
  }

  restartStream(name: string): Promise<{ restarted: string }> {
    return this.request('POST', streamPath(name) + '/restart');
  }

  streamStatus(name: string): Promise<InputMonitorDoc> {
    return this.request('GET', streamPath(name) + '/status');
  }

  validateConfig(text: string): Promise<ConfigValidation> {
    return this.request('POST', '/api/v3/config', text);
  }

  reloadConfig(): Promise<ReloadResult> {
    return this.request('POST', '/api/v3/config/reload');
  }

  stopNode(opts: { keepStreams?: boolean } = {}): Promise<{ stopping: true }> {
    return this.request('POST', '/api/v3/node/stop', { keep_streams: !!opts.keepStreams });
  }

  /** Let the process exit promptly (closes the pooled socket connection). */
  close(): Promise<void> {
    return closeSocketClients(this.socketPath);
  }
}

/** An API 400 answer with positioned errors → ConfigError (exit 3) labelled with `file`. */
export function apiConfigError(e: unknown, file: string): ConfigError | undefined {
  if (!(e instanceof ApiError) || e.status !== 400) return undefined;
  const body = e.body as { errors?: PositionedError[] } | undefined;
  if (!body?.errors?.length) return undefined;
  const issues: ConfigIssue[] = body.errors.map((x) => ({ file, line: x.line, col: x.col, message: x.error, path: x.path }));
  return new ConfigError(issues);
}
