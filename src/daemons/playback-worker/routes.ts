/**
 * Which requests a playback worker answers itself (the fast path) and which go to the agent.
 *
 * Served here: GET/HEAD of a routed stream's master playlist, live media playlists (index.m3u8,
 * mono.m3u8) and segment, part and init files, with no `token`/`session` in the query. A stream is
 * routed when the agent says so (src/daemons/node/playback-workers.ts): local, enabled, with no
 * play protection of any kind. Everything else (the API, /metrics, /admin, VOD, DVR, DASH,
 * previews, mpegts, WHEP, embed.html, protected streams, cluster redirects, viewers an operator
 * killed, anything this module does not recognise) is passed to the agent unchanged.
 *
 * The stream is found as the agent's playback handler finds it (the longest configured name that
 * prefixes the path) among every name the agent knows, routed or not: a protected `a/tracks-v1a1`
 * is never served as stream `a`'s rendition.
 */
import type { IncomingMessage } from 'node:http';
import type { ResolvedStream } from '../../config/model.js';
import { INIT_SEGMENT_NAME, isSegmentPathParts } from '../../protocol/layout.js';
import { viewerKey, type AgentToWorker, type PlaybackRoute } from '../../protocol/playback-worker.js';
import { parseRequestPath } from '../node/http/request-path.js';

type RoutesMessage = Extract<AgentToWorker, { type: 'routes' }>;

/** paths the agent's HTTP handler answers before playback (listeners.ts, agent.ts, cluster.ts) */
const AGENT_PREFIXES = ['/api/v3', '/metrics', '/admin', '/vod/', '/balance/', '/flux/'];

export interface FastPathMatch {
  stream: ResolvedStream;
  /** the last decoded path segment (session protocol name) */
  last: string;
}

export class RouteTable {
  private streams = new Map<string, ResolvedStream>();
  /** every stream name the agent knows (routed or not) */
  private names = new Set<string>();
  private killed = new Set<string>();
  meter = false;

  update(m: RoutesMessage): void {
    const streams = new Map<string, ResolvedStream>();
    for (const r of m.routes) {
      // keep the stream object when nothing changed: playback memoizes file paths per object
      const prev = this.streams.get(r.name);
      streams.set(r.name, prev && sameRoute(prev, r) ? prev : toStream(r));
    }
    this.streams = streams;
    this.names = new Set([...m.names, ...streams.keys()]);
    this.killed = new Set(m.killed);
    this.meter = m.meter;
  }

  get size(): number {
    return this.streams.size;
  }

  /** The routed stream (for the playback handler's getStream); unrouted names are unknown here. */
  stream(name: string): ResolvedStream | undefined {
    return this.streams.get(name);
  }

  /** The fast-path stream of this request, or undefined: pass it to the agent. */
  match(req: IncomingMessage): FastPathMatch | undefined {
    if (this.streams.size === 0) return undefined;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const url = req.url;
    if (!url || url.charCodeAt(0) !== 47 /* / */) return undefined;
    for (const p of AGENT_PREFIXES) if (url.startsWith(p)) return undefined;
    const parsed = parseRequestPath(url);
    if (!parsed.ok) return undefined;
    if (parsed.query !== '' && /(?:^|&)(?:token|session)=/.test(parsed.query)) return undefined;
    const parts = parsed.parts;
    // the longest known name that is a proper prefix of the path (playback.ts matchStream)
    let name: string | undefined;
    let depth = 0;
    let acc = '';
    for (let i = 0; i < parts.length - 1; i++) {
      acc = i === 0 ? parts[0]! : `${acc}/${parts[i]}`;
      if (this.names.has(acc)) {
        name = acc;
        depth = i + 1;
      }
    }
    if (name === undefined) return undefined;
    const stream = this.streams.get(name);
    if (!stream) return undefined;
    const rest = parts.length - depth;
    const first = parts[depth]!;
    const last = parts[parts.length - 1]!;
    let ok = false;
    if (rest === 1) ok = first === 'index.m3u8';
    else if (first.startsWith('tracks-')) {
      if (rest === 2) ok = last === 'index.m3u8' || last === 'mono.m3u8' || INIT_SEGMENT_NAME.test(last);
      else if (rest === 6) ok = isSegmentPathParts(parts.slice(depth + 1));
    }
    if (!ok) return undefined;
    if (this.killed.size > 0 && this.killed.has(viewerKey(name, req.socket.remoteAddress ?? '', headerOf(req.headers['user-agent'])))) return undefined;
    return { stream, last };
  }
}

function headerOf(v: string | string[] | undefined): string {
  return typeof v === 'string' ? v : '';
}

function sameRoute(s: ResolvedStream, r: PlaybackRoute): boolean {
  return s.root === r.root && s.title === r.title && JSON.stringify([s.renditions, s.hls, s.protocols]) === JSON.stringify([r.renditions, r.hls, r.protocols]);
}

/** The stream as the playback handler reads it: only what live HLS serving looks at. */
function toStream(r: PlaybackRoute): ResolvedStream {
  const s: ResolvedStream = {
    name: r.name,
    disabled: false,
    inputs: [],
    root: r.root,
    push: [],
    hls: r.hls,
    auth: { playToken: false, secureLink: false },
    renditions: r.renditions,
  };
  if (r.title !== undefined) s.title = r.title;
  if (r.protocols !== undefined) s.protocols = r.protocols;
  return s;
}
