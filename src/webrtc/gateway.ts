/**
 * WHEP playback: `POST /<stream>/whep` (SDP offer) → 201 with the SDP answer and `Location:
 * /<stream>/whep/<id>`; `DELETE` of that URL ends the session, `PATCH` (application/trickle-ice-sdpfrag)
 * adds the viewer's trickled candidates. WebRTC by werift (pure TypeScript).
 *
 * - Video: H.264 passed through (RFC 6184 packetization of the access units the LiveFeed demuxes);
 *   a viewer starts at the next keyframe, and after a PLI/FIR drops frames until the next keyframe
 *   (Flux cannot ask the source encoder for one, and a delta frame on a broken reference only smears).
 * - Audio: Opus from the stream's one shared OpusTranscoder, running while the stream has viewers.
 * - A session that has not connected within `iceTimeoutMs` is closed and forgotten; at most
 *   `maxSessions` sessions exist at once (503 beyond), so offers without ICE cost bounded memory.
 * - The viewer's play session (the POST opened or found it: auth/sessions.ts) is touched while the
 *   peer is connected, since no request comes after the POST; closing it (`flux session kill`, a
 *   backend deny, the stream removed) hangs the peer up.
 * - Counters for /metrics (sessions, connected peers, ICE failures, SRTP bytes) go to `stats`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  RtcpPayloadSpecificFeedback,
  type RTCRtpTransceiver,
} from 'werift';
import type { ResolvedStream } from '../config/model.js';
import { silentLogger } from '../core/logger.js';
import { LiveFeed, type AccessUnit } from './live-feed.js';
import { OpusTranscoder } from './opus.js';
import { ClockChannel } from './clock-channel.js';
import { offerHasH264, packetizeH264 } from './h264-rtp.js';
import { createWhip, whipCodecs, type WhipSession } from './whip.js';
import { ICE_TIMEOUT, isIceFailure, pcBytes, WebrtcStats } from './stats.js';

export interface IceServerConfig {
  urls: string;
  username?: string;
  credential?: string;
}

export interface WebrtcConfig {
  /** UDP ports for ICE (inclusive); undefined: any free port */
  portRange?: [number, number];
  /** STUN/TURN servers offered to ICE gathering */
  iceServers: IceServerConfig[];
}

export interface WebrtcGatewayOptions {
  config: () => WebrtcConfig;
  /** the supervisor socket of a running stream */
  socketOf: (stream: string) => string | undefined;
  ffmpeg: () => string;
  logger?: Logger;
  /** sessions at once (webrtc.max_sessions; read at each offer) */
  maxSessions: () => number;
  /** a session not connected after this is closed (webrtc.ice_timeout) */
  iceTimeoutMs: () => number;
  /** WHIP: after the publish key, the publish backend (auth.publish_backend), as for RTMP and SRT */
  publishBackend?: (stream: ResolvedStream, o: { ip: string; token?: string }) => Promise<{ ok: true } | { ok: false; reason: string }>;
  /** WHEP viewers' play sessions, kept alive while their peer is connected */
  playSessions?: PlaySessionKeeper;
  /** counters for /metrics (the handler's, so that a scrape need not load the gateway) */
  stats?: WebrtcStats;
}

/** The play sessions of auth/sessions.ts as the gateway sees them (the agent binds them). */
export interface PlaySessionKeeper {
  /** how often a connected viewer's session is touched (a fraction of auth.session_timeout) */
  intervalMs(): number;
  /** the session is in use now; false when it is gone or denied (its viewer is then hung up) */
  touch(id: string): boolean;
  /** `fn(why)` once when the session closes; returns unwatch */
  watch(id: string, fn: (why: string) => void): () => void;
}

/** What the playback router passes along with a request. */
export interface WebrtcRequestContext {
  /** the play session the request was authorized in (WHEP) */
  playSession?: string;
}

const MAX_SDP_BYTES = 64 * 1024;

/** The werift configuration a session gets from the `webrtc:` config section. */
export function peerConfig(c: WebrtcConfig) {
  return {
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })],
    },
    iceServers: c.iceServers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
    icePortRange: c.portRange,
    iceUseIpv6: false,
    iceUseTcp: false,
    // STUN/TURN answers are waited for at most 2 s: the answer is sent with the candidates gathered by then
    iceStunGatherTimeout: 2,
  };
}

interface Session {
  id: string;
  stream: string;
  pc: RTCPeerConnection;
  video: MediaStreamTrack;
  audio: MediaStreamTrack;
  needKey: boolean;
  seq: number;
  tsOffset: number;
  connected: boolean;
  timer: NodeJS.Timeout | null;
  unsub: (() => void)[];
  plis: number;
  videoPackets: number;
  /** the viewer's `flux-clock` DataChannel, when it opened one (latency on the player page) */
  clock: ClockChannel;
  /** the play session the offer was authorized in, kept alive while connected */
  playSession?: string;
  /** answered (201): counted in the metrics from then on */
  answered: boolean;
  /** undo the session's part in the metrics: connected gauge, byte meter, play-session watch */
  release: (() => void)[];
}

interface StreamMedia {
  feed: LiveFeed;
  opus: OpusTranscoder;
  sessions: Set<Session>;
}

export interface WhepSessionStatus {
  id: string;
  stream: string;
  connected: boolean;
  plis: number;
  videoPackets: number;
}

export class WebrtcGateway {
  private readonly sessions = new Map<string, Session>();
  private readonly whips = new Map<string, WhipSession>();
  private readonly media = new Map<string, StreamMedia>();
  private readonly log: Logger;
  private closed = false;
  readonly stats: WebrtcStats;
  private keepalive: NodeJS.Timeout | null = null;

  constructor(private readonly opts: WebrtcGatewayOptions) {
    this.log = (opts.logger ?? silentLogger).child({ part: 'webrtc' });
    this.stats = opts.stats ?? new WebrtcStats();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  list(): WhepSessionStatus[] {
    return [...this.sessions.values()].map((s) => ({ id: s.id, stream: s.stream, connected: s.connected, plis: s.plis, videoPackets: s.videoPackets }));
  }

  /** Is the Opus transcoder of this stream running (tests, status)? */
  opusRunning(stream: string): boolean {
    return this.media.get(stream)?.opus.running ?? false;
  }

  /** Answers `whep` and `whep/<id>` under a stream; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, rest: string, ctx: WebrtcRequestContext = {}): Promise<boolean> {
    const parts = rest.split('/');
    if ((parts[0] !== 'whep' && parts[0] !== 'whip') || parts.length > 2) return false;
    const method = req.method ?? 'GET';
    cors(res);
    if (parts[0] === 'whip') return this.handleWhip(req, res, stream, parts, method);
    if (method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'POST, PATCH, DELETE, OPTIONS', 'access-control-allow-headers': 'content-type, authorization, if-match', 'accept-post': 'application/sdp' });
      res.end();
      return true;
    }
    if (parts.length === 1) {
      if (method !== 'POST') return reply(req, res, 405, `${method} not allowed on a WHEP endpoint (POST an SDP offer)`, { allow: 'POST, OPTIONS' });
      await this.create(req, res, stream, ctx.playSession);
      return true;
    }
    const s = this.sessions.get(parts[1]!);
    if (!s || s.stream !== stream.name) return reply(req, res, 404, `no WHEP session ${parts[1]} on stream ${stream.name}`);
    if (method === 'DELETE') {
      req.resume();
      this.closeSession(s, 'deleted');
      res.writeHead(200).end();
      return true;
    }
    if (method === 'PATCH') {
      const body = await readBody(req, MAX_SDP_BYTES);
      if (body === null) return reply(req, res, 413, 'trickle body too large');
      for (const line of body.split(/\r?\n/)) {
        const m = /^a=(candidate:.+)$/.exec(line.trim());
        if (m) await s.pc.addIceCandidate({ candidate: m[1]!, sdpMLineIndex: 0 }).catch(() => {});
      }
      res.writeHead(204).end();
      return true;
    }
    return reply(req, res, 405, `${method} not allowed on a WHEP session`, { allow: 'PATCH, DELETE, OPTIONS' });
  }

  private async handleWhip(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, parts: string[], method: string): Promise<boolean> {
    if (method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'POST, DELETE, OPTIONS', 'access-control-allow-headers': 'content-type, authorization', 'accept-post': 'application/sdp' });
      res.end();
      return true;
    }
    if (parts.length === 2) {
      const w = this.whips.get(parts[1]!);
      if (!w || w.stream !== stream.name) return reply(req, res, 404, `no WHIP session ${parts[1]} on stream ${stream.name}`);
      if (method !== 'DELETE') return reply(req, res, 405, `${method} not allowed on a WHIP session`, { allow: 'DELETE, OPTIONS' });
      req.resume();
      w.close('deleted');
      res.writeHead(200).end();
      return true;
    }
    if (method !== 'POST') return reply(req, res, 405, `${method} not allowed on a WHIP endpoint (POST an SDP offer)`, { allow: 'POST, OPTIONS' });
    const offer = await this.readOffer(req, res);
    if (offer === null) return true;
    if (this.closed || this.sessions.size + this.whips.size >= this.opts.maxSessions()) return reply(req, res, 503, `too many WebRTC sessions (${this.opts.maxSessions()}); try again later`, { 'retry-after': '5' });
    const base = peerConfig(this.opts.config());
    await createWhip(
      {
        // the codecs negotiated follow the offer: H.264 when it has it, else VP8 (whip.ts)
        peerConfig: (video) => ({ ...base, codecs: whipCodecs(video) }),
        socketOf: this.opts.socketOf,
        ffmpeg: this.opts.ffmpeg,
        log: this.log,
        register: (w) => this.whips.set(w.id, w),
        unregister: (id) => this.whips.delete(id),
        iceTimeoutMs: this.opts.iceTimeoutMs,
        publishBackend: this.opts.publishBackend,
        stats: this.stats,
      },
      req,
      res,
      stream,
      offer,
      (status, message) => reply(req, res, status, message),
    );
    return true;
  }

  /** The SDP offer of a POST, or null when it already answered 415/413/400. */
  private async readOffer(req: IncomingMessage, res: ServerResponse): Promise<string | null> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/sdp') {
      reply(req, res, 415, 'an offer is Content-Type: application/sdp');
      return null;
    }
    const offer = await readBody(req, MAX_SDP_BYTES);
    if (offer === null) {
      reply(req, res, 413, `SDP offer larger than ${MAX_SDP_BYTES} bytes`);
      return null;
    }
    if (!/^v=0\r?\n/.test(offer) || !/^m=video /m.test(offer)) {
      reply(req, res, 400, 'malformed SDP offer: expected v=0 and a video m= line');
      return null;
    }
    return offer;
  }

  private async create(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, playSession: string | undefined): Promise<void> {
    const offer = await this.readOffer(req, res);
    if (offer === null) return;
    if (!offerHasH264(offer)) {
      reply(req, res, 406, 'the offer has no H.264 video: Flux sends H.264 without re-encoding');
      return;
    }
    const max = this.opts.maxSessions();
    if (this.closed || this.sessions.size + this.whips.size >= max) {
      reply(req, res, 503, `too many WebRTC sessions (${max}); try again later`, { 'retry-after': '5' });
      return;
    }
    if (!this.opts.socketOf(stream.name)) {
      reply(req, res, 404, `stream ${stream.name} is not running`);
      return;
    }
    const id = randomBytes(12).toString('hex');
    const pc = new RTCPeerConnection(peerConfig(this.opts.config()));
    const video = new MediaStreamTrack({ kind: 'video' });
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const s: Session = { id, stream: stream.name, pc, video, audio, needKey: true, seq: randomBytes(2).readUInt16BE(0), tsOffset: randomBytes(4).readUInt32BE(0), connected: false, timer: null, unsub: [], plis: 0, videoPackets: 0, clock: new ClockChannel(), playSession, answered: false, release: [] };
    this.sessions.set(id, s);
    pc.onDataChannel.subscribe((dc) => {
      if (!s.clock.attach(dc)) dc.close();
    });
    s.timer = setTimeout(() => {
      if (!s.connected) this.closeSession(s, ICE_TIMEOUT);
    }, this.opts.iceTimeoutMs());
    let answer: string;
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      let videoTx: RTCRtpTransceiver | undefined;
      for (const t of pc.getTransceivers()) {
        if (t.kind === 'video' && !videoTx) {
          videoTx = t;
          t.setDirection('sendonly');
          t.sender.replaceTrack(video);
        } else if (t.kind === 'audio') {
          t.setDirection('sendonly');
          t.sender.replaceTrack(audio);
        } else t.setDirection('inactive');
      }
      if (!videoTx) throw new Error('no video transceiver');
      videoTx.sender.onRtcp.subscribe((p) => {
        // PLI (fmt 1) or FIR (fmt 4): the viewer lost its reference
        const fmt = p instanceof RtcpPayloadSpecificFeedback ? (p.feedback as { count?: number }).count : undefined;
        if (fmt === 1 || fmt === 4) {
          s.plis++;
          s.needKey = true;
        }
      });
      await pc.setLocalDescription(await pc.createAnswer());
      await waitGathered(pc, 3000);
      answer = pc.localDescription!.sdp;
    } catch (e) {
      this.closeSession(s, 'bad offer');
      reply(req, res, 400, `SDP offer not accepted: ${(e as Error).message}`);
      return;
    }
    if (!this.sessions.has(id)) {
      reply(req, res, 503, 'session closed while answering');
      return;
    }
    pc.connectionStateChange.subscribe((st) => {
      if (st === 'connected') this.onConnected(s);
      else if (st === 'failed' || st === 'closed') this.closeSession(s, `connection ${st}`);
    });
    const keeper = this.opts.playSessions;
    if (keeper && playSession) s.release.push(keeper.watch(playSession, (why) => this.closeSession(s, `play session ${why}`)));
    if (!this.sessions.has(id)) {
      reply(req, res, 403, 'the play session was closed while answering');
      return;
    }
    s.answered = true;
    this.stats.opened(stream.name, 'whep');
    s.release.push(this.stats.meter(stream.name, () => pcBytes(pc)));
    const location = `${(req.url ?? '').split('?')[0]!.replace(/\/+$/, '')}/${id}`;
    res.writeHead(201, { 'content-type': 'application/sdp', location, 'access-control-expose-headers': 'Location', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
    this.log.info({ stream: stream.name, id }, 'whep session offered');
  }

  private mediaOf(stream: string): StreamMedia {
    let m = this.media.get(stream);
    if (!m) {
      const feed = new LiveFeed(stream, () => this.opts.socketOf(stream), this.log);
      m = { feed, opus: new OpusTranscoder(feed, this.opts.ffmpeg, this.log), sessions: new Set() };
      this.media.set(stream, m);
    }
    return m;
  }

  private onConnected(s: Session): void {
    if (s.connected || !this.sessions.has(s.id)) return;
    s.connected = true;
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    const m = this.mediaOf(s.stream);
    m.sessions.add(s);
    s.unsub.push(m.feed.onAccessUnit((au) => this.sendVideo(s, au)));
    s.unsub.push(m.opus.add((p) => s.audio.writeRtp(new RtpPacket(new RtpHeader({ ...p.header, extensions: [], extension: false }), p.payload))));
    s.release.push(this.stats.connected(s.stream, 'whep'));
    if (s.playSession && this.opts.playSessions) {
      if (!this.opts.playSessions.touch(s.playSession)) return this.closeSession(s, 'play session closed or denied');
      this.scheduleKeepalive();
    }
    this.log.info({ stream: s.stream, id: s.id }, 'whep session connected');
  }

  /**
   * One timer for all connected viewers: touch their play sessions (auth.session_timeout counts
   * requests, and a WHEP viewer makes none after its POST). A session denied or gone hangs up.
   */
  private scheduleKeepalive(): void {
    const keeper = this.opts.playSessions;
    if (this.keepalive || !keeper) return;
    this.keepalive = setTimeout(() => {
      this.keepalive = null;
      let watching = false;
      for (const s of [...this.sessions.values()]) {
        if (!s.connected || !s.playSession) continue;
        if (keeper.touch(s.playSession)) watching = true;
        else this.closeSession(s, 'play session closed or denied');
      }
      if (watching) this.scheduleKeepalive();
    }, keeper.intervalMs());
    this.keepalive.unref();
  }

  private sendVideo(s: Session, au: AccessUnit & { rtp?: Buffer[] }): void {
    if (s.needKey) {
      if (!au.keyframe) return;
      s.needKey = false;
    }
    // packetized once per access unit, shared by every viewer
    const payloads = (au.rtp ??= packetizeH264(au.data));
    const ts = (Math.round(au.pts) + s.tsOffset) >>> 0;
    for (let i = 0; i < payloads.length; i++) {
      const header = new RtpHeader({ payloadType: 96, sequenceNumber: s.seq, timestamp: ts, marker: i === payloads.length - 1, ssrc: 0 });
      s.seq = (s.seq + 1) & 0xffff;
      s.video.writeRtp(new RtpPacket(header, payloads[i]!));
      s.videoPackets++;
    }
    s.clock.frameSent(ts, au.arrivedAt);
  }

  private closeSession(s: Session, why: string): void {
    if (!this.sessions.delete(s.id)) return;
    if (s.timer) clearTimeout(s.timer);
    for (const u of s.unsub) u();
    if (s.answered && isIceFailure(why)) this.stats.iceFailed(s.stream, 'whep');
    // before pc.close(): the byte meter reads the transports one last time
    for (const r of s.release.splice(0)) r();
    const m = this.media.get(s.stream);
    if (m) {
      m.sessions.delete(s);
      if (!m.sessions.size) {
        m.opus.stop();
        m.feed.stop();
        this.media.delete(s.stream);
      }
    }
    void s.pc.close().catch(() => {});
    this.log.info({ stream: s.stream, id: s.id, why }, 'whep session closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.keepalive) clearTimeout(this.keepalive);
    this.keepalive = null;
    for (const s of [...this.sessions.values()]) this.closeSession(s, 'node stopping');
    for (const w of [...this.whips.values()]) w.close('node stopping');
  }
}

function cors(res: ServerResponse): void {
  res.setHeader('access-control-allow-origin', '*');
}

function reply(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): true {
  req.resume();
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
  return true;
}

function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function waitGathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((st) => {
      if (st === 'complete') done();
    });
    function done(): void {
      clearTimeout(t);
      sub.unSubscribe();
      resolve();
    }
  });
}
