/**
 * The typed client of the node's control API over its Unix socket (`<run>/node.sock`).
 * Throws NodeUnreachableError (exit 4) when no node answers, ApiError (with the HTTP status and
 * the answered body) when the node refuses a request.
 */
import { ApiError, ConfigError, NodeUnreachableError, type ConfigIssue } from '../core/errors.js';
import { closeSocketClients, socketRequest, SocketUnreachable } from '../protocol/socket-http.js';
import { locateNode } from '../protocol/locate.js';
import type { ConfigValidation, InputMonitorDoc, NodeInfoDoc, PositionedError, ReloadResult, SessionList, StreamDoc, StreamFfmpegDoc, StreamList } from '../protocol/api.js';

export { locateNode, configFileFor } from '../protocol/locate.js';
export type { StreamStatsDoc, StreamDoc, StreamList, InputMonitorDoc, NodeInfoDoc, PositionedError, ConfigValidation, ReloadResult, StreamFfmpegDoc, SessionDoc, SessionList } from '../protocol/api.js';


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

  /** The ffmpeg command lines the stream's supervisor runs now. */
  streamFfmpeg(name: string): Promise<StreamFfmpegDoc> {
    return this.request('GET', streamPath(name) + '/ffmpeg');
  }

  validateConfig(text: string): Promise<ConfigValidation> {
    return this.request('POST', '/api/v3/config', text);
  }

  /** Re-read the config file; `force` applies an empty or stream-less file too (otherwise 409). */
  reloadConfig(opts: { force?: boolean } = {}): Promise<ReloadResult> {
    return this.request('POST', '/api/v3/config/reload' + (opts.force ? '?force=true' : ''));
  }

  stopNode(opts: { keepStreams?: boolean } = {}): Promise<{ stopping: true }> {
    return this.request('POST', '/api/v3/node/stop', { keep_streams: !!opts.keepStreams });
  }

  listSessions(opts: { name?: string } = {}): Promise<SessionList> {
    return this.request('GET', '/api/v3/sessions' + (opts.name ? `?name=${encodeURIComponent(opts.name)}` : ''));
  }

  killSession(id: string): Promise<void> {
    return this.request('DELETE', `/api/v3/sessions/${encodeURIComponent(id)}`);
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
