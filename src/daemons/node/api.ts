/**
 * The control API (JSON over HTTP), shaped like Flussonic's API v3. The same handler serves the
 * node's Unix socket (no auth, mode 0600) and `/api/v3` on the HTTP port (Basic auth, see http.ts).
 *
 *   GET    /api/v3/streams                 {"streams":[…],"estimated_count":N}
 *   GET    /api/v3/streams/NAME            a stream: its config fields + `stats`
 *   PUT    /api/v3/streams/NAME            create/replace (validated, persisted to flux.yaml, applied)
 *   DELETE /api/v3/streams/NAME            remove (persisted, supervisor stopped) → 204
 *   POST   /api/v3/streams/NAME/restart    restart the stream's inputs/ffmpeg children
 *   GET    /api/v3/streams/NAME/status     input monitor
 *   GET    /api/v3/node                    node info
 *   POST   /api/v3/node/stop               {"keep_streams":bool} → 202, then the node stops
 *   GET    /api/v3/config                  {file, demo, config}
 *   POST   /api/v3/config                  validate a posted config (YAML/JSON text) → {valid, errors}
 *   POST   /api/v3/config/reload           re-read the file and reconcile → {reloaded, changes} | 400
 *                                          | 409 (an empty/stream-less file held as suspect; ?force=true applies it)
 *   GET    /api/v3/events                  recent events; ?follow=true: NDJSON, kept open (src/events/http.ts)
 *   GET    /api/v3/metrics (also /metrics)  Prometheus text format (src/events/metrics.ts)
 *   GET    /api/v3/sessions[?name=STREAM]  play sessions {sessions, estimated_count}
 *   DELETE /api/v3/sessions/ID             close a session; its next request gets 403 → 204
 *   GET    /api/v3/cluster/status          this node's membership, peers, owners (404 outside a cluster)
 *   GET    /api/v3/cluster/peers           {node, cluster, peers:[heartbeat documents]}
 * NAME may contain `/`; names with `..` (or otherwise unsafe) are refused with 400 everywhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LineCounter, Document } from 'yaml';
import { yamlLib } from '../../config/yaml-lib.js';
import type { ConfigInput, StreamInput } from '../../config/schema.js';
import type { ResolvedStream } from '../../config/model.js';
import { ConfigError, type ConfigIssue, isFluxError } from '../../core/errors.js';
import { streamNameProblem } from '../../core/paths.js';
import type { SupervisorStatus, SupervisorView, ReconcileResult } from './supervisors.js';
import type { EventHub } from '../../events/hub.js';
import { handleEvents } from '../../events/http.js';
import { findKeyNode, nodeAt } from '../../config/yaml-pos.js';
import { redactSecrets } from '../../config/redact.js';
import type { ClusterStatusDoc, NodeInfoDoc, PositionedError, StreamFfmpegDoc, StreamStatsDoc } from '../../protocol/api.js';

export const API_PREFIX = '/api/v3';
const MAX_STREAM_BODY = 1024 * 1024;
const MAX_CONFIG_BODY = 16 * 1024 * 1024;

/** What the API needs from the node agent. */
export interface NodeApi {
  info(): Promise<NodeInfoDoc>;
  configInput(): ConfigInput;
  configFile(): string | undefined;
  resolvedStream(name: string): ResolvedStream | undefined;
  supervisor(name: string): SupervisorView | undefined;
  freshStatus(name: string): Promise<SupervisorStatus | undefined>;
  putStream(name: string, value: StreamInput): Promise<void>;
  deleteStream(name: string): Promise<void>;
  restartStream(name: string): Promise<unknown>;
  reload(opts?: { force?: boolean }): Promise<ReconcileResult>;
  validateConfig(text: string): Promise<ConfigIssue[]>;
  stop(opts: { keepStreams: boolean }): void;
  /** the node's event bus (observability) */
  eventHub?(): EventHub;
  /** Prometheus exposition of the node's metrics */
  metrics?(): Promise<{ contentType: string; text: string }>;
  /** play sessions of a stream seen in the last 30 s */
  onlineClients?(name: string): number;
  /** play sessions (auth/protection.ts) */
  sessions?(): SessionsApi;
  /** the cluster member's status; undefined when the node is not in a cluster */
  clusterStatus?(): ClusterStatusDoc | undefined;
  /** the cluster's shared streams (`flux cluster apply`); local streams of the same name win */
  sharedStreams?(): Record<string, StreamInput> | undefined;
}

/** Streams the node knows: the cluster's shared ones, then its own config's. */
function allStreams(node: NodeApi): Record<string, StreamInput> {
  const local = node.configInput().streams ?? {};
  const shared = node.sharedStreams?.();
  return shared ? { ...shared, ...local } : local;
}

export interface SessionsApi {
  listSessions(name?: string): { sessions: unknown[]; estimated_count: number };
  killSession(id: string): boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Responses to API users with the read role: secrets are redacted from what they are sent. */
const readOnlyResponses = new WeakSet<ServerResponse>();
export function redactSecretsFor(res: ServerResponse): void {
  readOnlyResponses.add(res);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (readOnlyResponses.has(res)) body = redactSecrets(body);
  if (res.headersSent) {
    res.end();
    return;
  }
  if (status === 204) {
    res.writeHead(204).end();
    return;
  }
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function checkName(name: string): string {
  const p = streamNameProblem(name);
  if (p) throw new HttpError(400, `invalid stream name ${JSON.stringify(name)}: ${p}`, { code: 'E_INVALID_NAME' });
  return name;
}

/** Decode a path remainder (`cams/door/restart`) into segments; `..`, empty segments → 400. */
function decodeSegments(rest: string): string[] {
  const segs = rest.split('/');
  return segs.map((s) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in ${JSON.stringify(s)}`);
    }
    return d;
  });
}

/** Handle one API request; `path` is the URL path with `/api/v3` stripped (e.g. `/streams`). */
export async function handleApi(req: IncomingMessage, res: ServerResponse, node: NodeApi, path: string, query: URLSearchParams): Promise<void> {
  try {
    await route(req, res, node, path, query);
  } catch (e) {
    if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message, ...e.extra });
    if (e instanceof ConfigError) return sendJson(res, 400, { error: 'invalid config', valid: false, errors: e.issues.map(issueOut) });
    if (isFluxError(e)) {
      const code = (e as { code: string }).code;
      const status = code === 'E_NOT_FOUND' ? 404 : code === 'E_EXISTS' || code === 'E_SUSPECT_CONFIG' ? 409 : code === 'E_PATH' || code === 'E_INVALID_NAME' ? 400 : 500;
      return sendJson(res, status, { error: e.message, code });
    }
    return sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
  }
}

function issueOut(i: ConfigIssue): PositionedError {
  return { line: i.line, col: i.col, path: i.path, error: i.message };
}

async function route(req: IncomingMessage, res: ServerResponse, node: NodeApi, path: string, query: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET';
  const p = path.replace(/\/+$/, '') || '/';
  if (p === '/streams') {
    if (method !== 'GET') throw new HttpError(405, `${method} not allowed on /streams`);
    return sendJson(res, 200, await listStreams(node, query));
  }
  if (p.startsWith('/streams/')) {
    const segs = decodeSegments(p.slice('/streams/'.length));
    const whole = segs.join('/');
    const streams = allStreams(node);
    const known = (n: string) => Object.prototype.hasOwnProperty.call(streams, n);
    const last = segs[segs.length - 1];
    if (method === 'POST' && last === 'restart' && segs.length > 1) {
      const name = checkName(segs.slice(0, -1).join('/'));
      if (!known(name)) throw new HttpError(404, `stream "${name}" not found`);
      if (!node.supervisor(name)) throw new HttpError(409, `stream "${name}" is not running (disabled?)`);
      const r = await node.restartStream(name);
      return sendJson(res, 200, { restarted: name, supervisor: r ?? null });
    }
    if (method === 'GET' && last === 'status' && segs.length > 1 && !known(whole)) {
      const name = checkName(segs.slice(0, -1).join('/'));
      if (!known(name)) throw new HttpError(404, `stream "${name}" not found`);
      return sendJson(res, 200, await inputMonitor(node, name));
    }
    if (method === 'GET' && last === 'ffmpeg' && segs.length > 1 && !known(whole)) {
      const name = checkName(segs.slice(0, -1).join('/'));
      if (!known(name)) throw new HttpError(404, `stream "${name}" not found`);
      return sendJson(res, 200, await ffmpegCommands(node, name));
    }
    const name = checkName(whole);
    if (method === 'GET' || method === 'HEAD') {
      if (!known(name)) throw new HttpError(404, `stream "${name}" not found`);
      return sendJson(res, 200, await streamDocument(node, name, true));
    }
    if (method === 'PUT') {
      const text = await readBody(req, MAX_STREAM_BODY);
      const value = parseStreamBody(text);
      try {
        await node.putStream(name, value.stream);
      } catch (e) {
        if (e instanceof ConfigError) {
          throw new HttpError(400, 'invalid stream config', { valid: false, errors: mapIssuesToBody(e.issues, name, value.doc, value.lc) });
        }
        throw e;
      }
      return sendJson(res, 200, await streamDocument(node, name, false));
    }
    if (method === 'DELETE') {
      if (!known(name)) throw new HttpError(404, `stream "${name}" not found`);
      if (!Object.prototype.hasOwnProperty.call(node.configInput().streams ?? {}, name)) {
        throw new HttpError(409, `stream "${name}" is a shared stream of the cluster: remove it from the file given to "flux cluster apply"`, { code: 'E_SHARED' });
      }
      await node.deleteStream(name);
      return sendJson(res, 204, null);
    }
    throw new HttpError(405, `${method} not allowed on /streams/NAME`);
  }
  if (p === '/sessions' || p.startsWith('/sessions/')) {
    const sessions = node.sessions?.();
    if (!sessions) throw new HttpError(404, 'sessions are not tracked here');
    if (p === '/sessions') {
      if (method !== 'GET') throw new HttpError(405, `${method} not allowed on /sessions`);
      return sendJson(res, 200, sessions.listSessions(query.get('name') ?? undefined));
    }
    if (method !== 'DELETE') throw new HttpError(405, `${method} not allowed on /sessions/ID`);
    const id = decodeSegments(p.slice('/sessions/'.length)).join('/');
    if (!sessions.killSession(id)) throw new HttpError(404, `session "${id}" not found`);
    return sendJson(res, 204, null);
  }
  if (p === '/node') {
    if (method !== 'GET') throw new HttpError(405, `${method} not allowed on /node`);
    return sendJson(res, 200, await node.info());
  }
  if (p === '/node/stop') {
    if (method !== 'POST') throw new HttpError(405, `${method} not allowed on /node/stop`);
    const text = await readBody(req, 4096);
    let keep = query.get('keep_streams') === 'true';
    if (text.trim()) {
      try {
        keep = (JSON.parse(text) as { keep_streams?: boolean }).keep_streams === true || keep;
      } catch {
        throw new HttpError(400, 'body must be JSON: {"keep_streams": true|false}');
      }
    }
    sendJson(res, 202, { stopping: true, keep_streams: keep });
    node.stop({ keepStreams: keep });
    return;
  }
  if (p === '/config') {
    if (method === 'GET') return sendJson(res, 200, { file: node.configFile() ?? null, demo: node.configFile() === undefined, config: node.configInput() });
    if (method !== 'POST') throw new HttpError(405, `${method} not allowed on /config`);
    const text = await readBody(req, MAX_CONFIG_BODY);
    const issues = await node.validateConfig(text);
    return sendJson(res, 200, { valid: issues.length === 0, errors: issues.map(issueOut) });
  }
  if (p === '/events' && node.eventHub) {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} not allowed on /events`);
    const bad = handleEvents(req, res, node.eventHub(), query);
    if (typeof bad === 'string') throw new HttpError(400, bad);
    return;
  }
  if (p === '/metrics' && node.metrics) {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} not allowed on /metrics`);
    const m = await node.metrics();
    res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.text), 'cache-control': 'no-store' });
    res.end(method === 'HEAD' ? undefined : m.text);
    return;
  }
  if (p === '/cluster/status' || p === '/cluster/peers') {
    if (method !== 'GET') throw new HttpError(405, `${method} not allowed on ${p}`);
    const st = node.clusterStatus?.();
    if (!st) throw new HttpError(404, 'this node is not in a cluster (no cluster: section; see "flux cluster join")', { code: 'E_NO_CLUSTER' });
    return sendJson(res, 200, p === '/cluster/status' ? st : { node: st.node, cluster: st.cluster, peers: st.peers });
  }
  if (p === '/config/reload') {
    if (method !== 'POST') throw new HttpError(405, `${method} not allowed on /config/reload`);
    const force = query.get('force');
    const changes = await node.reload({ force: force === 'true' || force === '1' });
    return sendJson(res, 200, { reloaded: true, changes });
  }
  throw new HttpError(404, `no API route ${method} ${API_PREFIX}${p}`);
}

/** Parse a PUT body (JSON or YAML). Syntax errors → 400 with body positions. `name`/`stats` are dropped. */
function parseStreamBody(text: string): { stream: StreamInput; doc: Document; lc: LineCounter } {
  // the yaml library is loaded on the first PUT, not at start: it would cost every node its heap
  const { LineCounter, parseDocument, isMap } = yamlLib();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new HttpError(400, 'request body is not valid JSON/YAML', {
      valid: false,
      errors: doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { line: pos.line, col: pos.col, path: '', error: `syntax error: ${e.message.split('\n')[0]}` };
      }),
    });
  }
  if (!isMap(doc.contents)) {
    throw new HttpError(400, 'request body must be a JSON object with the stream\'s fields ({"inputs":[{"url":…}], …})', {
      valid: false,
      errors: [{ line: 1, col: 1, path: '', error: 'expected an object' }],
    });
  }
  const obj = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  delete obj.name;
  delete obj.stats;
  return { stream: obj as StreamInput, doc, lc };
}

/** Issues positioned in the edited config file → positions in the request body where they belong. */
function mapIssuesToBody(issues: ConfigIssue[], name: string, doc: Document, lc: LineCounter): PositionedError[] {
  const prefix = `streams.${name}`;
  return issues.map((i) => {
    if (i.path !== prefix && !i.path.startsWith(prefix + '.')) return { line: 0, col: 0, path: i.path, error: i.message };
    const rest = i.path.slice(prefix.length + 1);
    const parts: (string | number)[] = rest ? rest.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : [];
    const node = i.message.startsWith('unknown key') && parts.length
      ? findKeyNode(doc, parts.slice(0, -1), String(parts[parts.length - 1]))
      : nodeAt(doc, parts);
    const pos = lc.linePos(node?.range?.[0] ?? 0);
    return { line: pos.line, col: pos.col, path: rest, error: i.message.replace(`${prefix}.`, '') };
  });
}

// ------------------------------------------------------------------------------------------------
// Documents

export function statsOf(resolved: ResolvedStream | undefined, sup: SupervisorView | undefined, st: SupervisorStatus | undefined): StreamStatsDoc {
  const active = st?.activeInput ?? null;
  const activeIn = active === null ? undefined : st?.inputs?.find((i) => i.index === active);
  const status = !resolved
    ? 'unknown'
    : resolved.disabled
      ? 'disabled'
      : !sup
        ? 'stopped'
        : sup.state === 'backoff'
          ? 'restarting'
          : sup.state === 'stopping'
            ? 'stopping'
            : (st?.state ?? sup.state);
  const events = [
    ...(st?.events ?? []).map((e) => ({ ...e, source: 'supervisor' as const })),
    ...(sup?.events ?? []).map((e) => ({ ...e, source: 'node' as const })),
  ]
    .sort((a, b) => a.at - b.at)
    .slice(-50);
  return {
    alive: st?.state === 'running',
    status,
    bitrate: num(st?.bitrate),
    input_bitrate: num(activeIn?.bitrate),
    retry_count: num(st?.restarts) + (sup?.restarts ?? 0),
    lifetime: st?.startedAt ? Math.max(0, Date.now() - st.startedAt) : sup ? Math.max(0, Date.now() - sup.spawnedAt) : 0,
    media_info: st?.mediaInfo ?? null,
    source_error: activeIn?.lastError ?? st?.lastError ?? null,
    active_input: active,
    inputs: (st?.inputs ?? []).map((i) => ({
      index: i.index,
      url: i.url,
      priority: i.priority,
      state: i.state,
      bitrate: num(i.bitrate),
      fps: num(i.fps),
      cc_errors: num(i.ccErrors),
      lost_packets: num(i.lostPackets),
      last_packet_age_ms: i.lastPacketAgeMs ?? null,
      switches: num(i.switches),
      error: i.lastError ?? null,
      ...(Array.isArray(i.tiles) ? { tiles: i.tiles.map((t) => ({ name: String(t.name), live: t.live === true })) } : {}),
      ...(i.quality && Array.isArray(i.quality.watch) ? { quality: qualityOf(i.quality) } : {}),
    })),
    push: (st?.push ?? []).map((p) => ({ url: p.url, state: p.state, bytes: num(p.bytes), errors: num(p.errors), restarts: num(p.restarts), error: p.lastError ?? null })),
    renditions: (st?.renditions ?? []).map((r) => ({ name: r.name, bitrate: num(r.bitrate), segments: num(r.segments), last_segment_at: r.lastSegmentAt ?? null })),
    events,
    ffmpeg: (st?.ffmpeg ?? []).map((f) => ({ role: f.role, pid: f.pid, input: (f as { input?: number }).input ?? null, args: f.args ?? [] })),
    supervisor: sup
      ? { pid: sup.pid ?? null, state: sup.state, restarts: sup.restarts, adopted: sup.adopted, spec_hash: sup.specHash, spawned_at: sup.spawnedAt }
      : null,
  };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** failover_on of one input as the supervisor reports it, copied field by field (the supervisor is another process). */
function qualityOf(q: NonNullable<SupervisorStatus['inputs'][number]['quality']>): NonNullable<StreamStatsDoc['inputs'][number]['quality']> {
  const failovers: Record<string, number> = {};
  for (const [k, v] of Object.entries(q.failovers ?? {})) failovers[k] = num(v);
  return { watch: q.watch.map(String), failovers, error: typeof q.error === 'string' ? q.error : null };
}

export async function streamDocument(node: NodeApi, name: string, fresh: boolean): Promise<Record<string, unknown>> {
  const raw = allStreams(node)[name] ?? {};
  const resolved = node.resolvedStream(name);
  const sup = node.supervisor(name);
  const st = fresh && sup ? await node.freshStatus(name) : sup?.status;
  const stats = statsOf(resolved, sup, st);
  // observability (Flussonic's field names): play sessions, archive depth
  const dvr = st?.dvr as { bytes?: number; oldest?: number; newest?: number; recording?: boolean; paused?: boolean } | null | undefined;
  const extra = {
    online_clients: node.onlineClients?.(name) ?? 0,
    dvr_info: dvr ? { bytes: dvr.bytes ?? 0, from: dvr.oldest ?? null, to: dvr.newest ?? null, recording: dvr.recording ?? false, paused: dvr.paused ?? false } : null,
  };
  return { name, ...raw, stats: { ...stats, ...extra } };
}

async function listStreams(node: NodeApi, query: URLSearchParams): Promise<{ streams: Record<string, unknown>[]; estimated_count: number }> {
  const names = Object.keys(allStreams(node)).sort();
  const prefix = query.get('name');
  const filtered = prefix ? names.filter((n) => n.startsWith(prefix)) : names;
  const limit = Math.max(0, Number(query.get('limit') ?? filtered.length) || filtered.length);
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const page = filtered.slice(offset, offset + limit);
  return { streams: await Promise.all(page.map((n) => streamDocument(node, n, false))), estimated_count: filtered.length };
}

/** The running ffmpeg command lines of a stream, asked of its supervisor now (`flux stream args --live`). */
async function ffmpegCommands(node: NodeApi, name: string): Promise<StreamFfmpegDoc> {
  if (!node.supervisor(name)) throw new HttpError(409, `stream "${name}" is not running (disabled?)`);
  const st = await node.freshStatus(name);
  if (!st) throw new HttpError(503, `the supervisor of "${name}" does not answer`);
  return { stream: name, pid: st.pid, ffmpeg: (st.ffmpeg ?? []).map((f) => ({ role: f.role, pid: f.pid, input: f.input ?? null, args: f.args })) };
}

async function inputMonitor(node: NodeApi, name: string): Promise<Record<string, unknown>> {
  const doc = await streamDocument(node, name, true);
  const stats = doc.stats as StreamStatsDoc;
  return {
    name,
    alive: stats.alive,
    status: stats.status,
    active_input: stats.active_input,
    input_bitrate: stats.input_bitrate,
    source_error: stats.source_error,
    inputs: stats.inputs,
    events: stats.events.filter((e) => e.type === 'switch' || e.type === 'error' || String(e.type).startsWith('input')).concat(),
    all_events: stats.events,
  };
}
