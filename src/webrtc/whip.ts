/**
 * WHIP ingest: `POST /<stream>/whip` (SDP offer with H.264 or VP8 video and optionally Opus audio) into a
 * stream whose input is `publish://`, authorized like RTMP (the stream's publish_password, given
 * as `Authorization: Bearer <key>` as WHIP specifies, or `?password=`). 201 + answer + Location;
 * DELETE ends the publication.
 *
 * Media path: werift decrypts the SRTP; each RTP packet is re-sent on loopback UDP to one ffmpeg
 * per publisher that reads them through an SDP description (on its stdin), copies H.264 (or
 * encodes the VP8 a browser may insist on to H.264, keyframes aligned with the stream's segments),
 * transcodes Opus to AAC, and writes MPEG-TS that goes into the supervisor's `POST /ingest`, the
 * same door RTMP and SRT publishers use. The ingest request is opened before answering so that a
 * stream that already has a publisher (RTMP, SRT or WHIP) answers 409 and nothing is negotiated.
 *
 * The answer's video codec follows the offer: the session's peer connection is configured with the
 * one codec chosen (H.264 when offered, else VP8), so werift cannot answer both and leave the
 * publisher free to send the one ffmpeg is not reading.
 */
import { Child } from '../core/child.js';
import { WHIP_AUDIO_PT, WHIP_VIDEO_PT, whipFfmpegArgs, whipInputSdp, whipKeyframeSeconds, type WhipVideoCodec } from '../ffmpeg/webrtc-args.js';
import dgram from 'node:dgram';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from 'werift';
import type { ResolvedStream } from '../config/model.js';
import { authorizePublish } from '../auth/publish-key.js';
import type { WebrtcGatewayOptions } from './gateway.js';
import { socketRequest } from '../protocol/socket-http.js';
import { offerHasAudio, whipVideoCodec } from './offer-codecs.js';
import { ICE_TIMEOUT, isIceFailure, pcBytes, type WebrtcStats } from './stats.js';

const NULL_TS_PACKET = (() => {
  const b = Buffer.alloc(188, 0xff);
  b[0] = 0x47;
  b[1] = 0x1f;
  b[2] = 0xff;
  b[3] = 0x10;
  return b;
})();

export interface WhipSession {
  id: string;
  stream: string;
  pc: RTCPeerConnection;
  ffmpeg: Child;
  /** the publisher's video: 'h264' is copied, 'vp8' transcoded */
  video: WhipVideoCodec;
  close(why: string): void;
}

/** Two free even/odd UDP port pairs on loopback (ffmpeg binds RTP on N and RTCP on N+1). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 20000);
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    const ok = await Promise.all([p, p + 1].map((port, k) => new Promise<boolean>((r) => {
      const s = k ? b : a;
      s.once('error', () => r(false));
      s.bind(port, '127.0.0.1', () => r(true));
    })));
    await Promise.all([a, b].map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    if (ok[0] && ok[1]) return p;
  }
  throw new Error('no free loopback UDP ports for the WHIP receiver');
}

export interface WhipContext {
  /** the peer configuration of a session whose video is `video` (its codecs: that one only) */
  peerConfig: (video: WhipVideoCodec) => ConstructorParameters<typeof RTCPeerConnection>[0];
  socketOf: (stream: string) => string | undefined;
  ffmpeg: () => string;
  log: Logger;
  register(s: WhipSession): void;
  unregister(id: string): void;
  iceTimeoutMs: () => number;
  publishBackend?: WebrtcGatewayOptions['publishBackend'];
  stats: WebrtcStats;
}

/** Handles `POST /<stream>/whip` after the generic checks (type, size, SDP shape). */
export async function createWhip(ctx: WhipContext, req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, offer: string, reply: (status: number, message: string) => void): Promise<void> {
  const auth = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
  const key = bearer ?? new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('password') ?? undefined;
  const verdict = authorizePublish({ getStream: () => stream }, stream.name, key);
  if (!verdict.ok) {
    const denied = /publish key/.test(verdict.reason);
    reply(denied ? 401 : 404, verdict.reason);
    return;
  }
  if (ctx.publishBackend) {
    const asked = await ctx.publishBackend(stream, { ip: req.socket.remoteAddress ?? '', token: key });
    if (!asked.ok) {
      ctx.log.warn({ stream: stream.name, ip: req.socket.remoteAddress, reason: asked.reason }, 'whip publisher refused by the publish backend');
      reply(403, asked.reason);
      return;
    }
  }
  const video = whipVideoCodec(offer);
  if (!video) {
    reply(406, 'the offer has neither H.264 nor VP8 video: Flux takes H.264 (copied) or VP8 (transcoded to H.264) from WHIP publishers');
    return;
  }
  const sock = ctx.socketOf(stream.name);
  if (!sock) {
    reply(503, `stream ${stream.name} is not running`);
    return;
  }
  // claim the stream's publisher slot first: a busy stream answers 409 at once
  const ts = new PassThrough();
  let ingestStatus: number | null = null;
  const ingest = socketRequest(sock, '/ingest', { method: 'POST', body: ts, headers: { 'content-type': 'video/mp2t', 'x-flux-publisher': `whip ${req.socket.remoteAddress ?? ''}` }, timeoutMs: 0, noKeepAlive: true }).then(
    (r) => (ingestStatus = r.status),
    () => (ingestStatus = 502),
  );
  // one null TS packet makes the request (headers included) go out now, so the supervisor decides
  ts.write(NULL_TS_PACKET);
  await Promise.race([ingest, new Promise((r) => setTimeout(r, 300))]);
  if (ingestStatus !== null) {
    ts.destroy();
    reply(ingestStatus === 409 ? 409 : 502, ingestStatus === 409 ? `stream ${stream.name} already has a publisher` : `stream ${stream.name} refused the publisher (${ingestStatus})`);
    return;
  }
  const withAudio = offerHasAudio(offer);
  const port = await freePortPair().catch(() => 0);
  const aport = port && withAudio ? await freePortPair().catch(() => 0) : 0;
  if (!port || (withAudio && !aport)) {
    ts.destroy();
    reply(503, 'no free loopback ports for the WHIP receiver');
    return;
  }
  const id = randomBytes(12).toString('hex');
  const transcode = video === 'vp8' ? { keyframeSeconds: whipKeyframeSeconds(stream.hls.segmentDurationMs) } : undefined;
  const ff = new Child(ctx.ffmpeg(), whipFfmpegArgs(transcode), { stdin: true, stdout: true, stderrTail: 400 });
  ff.stdin?.end(whipInputSdp(port, withAudio ? aport : null, video));
  ff.stdout?.pipe(ts);
  const out = dgram.createSocket('udp4');
  const pc = new RTCPeerConnection(ctx.peerConfig(video));
  let closed = false;
  let connected = false;
  let answered = false;
  // the session's part in the metrics, undone when it closes
  const release: (() => void)[] = [];
  const close = (why: string): void => {
    if (closed) return;
    closed = true;
    ctx.unregister(id);
    clearTimeout(timer);
    if (answered && isIceFailure(why)) ctx.stats.iceFailed(stream.name, 'whip');
    // before pc.close(): the byte meter reads the transports one last time
    for (const r of release.splice(0)) r();
    void pc.close().catch(() => {});
    try {
      out.close();
    } catch {
      /* closed */
    }
    ff.kill('SIGKILL');
    ts.end();
    ctx.log.info({ stream: stream.name, id, why, video, ffmpeg: ff.stderr.trim().split('\n').pop() }, 'whip session closed');
  };
  const timer = setTimeout(() => {
    if (!connected) close(ICE_TIMEOUT);
  }, ctx.iceTimeoutMs());
  void ff.exited.then(() => close('ffmpeg exited'));
  void ingest.then(() => close('supervisor ended the ingest'));
  const session: WhipSession = { id, stream: stream.name, pc, ffmpeg: ff, video, close };
  ctx.register(session);
  let answer: string;
  try {
    // tracks are announced while the offer is applied: subscribe first
    pc.onTrack.subscribe((track) => {
      const isVideo = track.kind === 'video';
      const dest = isVideo ? port : aport;
      if (!dest) return;
      const pt = isVideo ? WHIP_VIDEO_PT : WHIP_AUDIO_PT;
      // ask the publisher for a keyframe when its video starts and once more shortly: ffmpeg needs
      // SPS/PPS + IDR (H.264) or a key frame to start decoding (VP8). Tracks are announced while
      // the offer is applied, long before ICE is done, so the first packet is the moment.
      const tx = isVideo ? pc.getTransceivers().find((x) => x.kind === 'video') : undefined;
      const pli = () => {
        const ssrc = track.ssrc;
        if (!closed && tx && ssrc) void tx.receiver.sendRtcpPLI(ssrc).catch(() => {});
      };
      let started = false;
      track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
        if (closed) return;
        const b = rtp.serialize();
        b[1] = (b[1]! & 0x80) | pt; // ffmpeg's SDP names fixed payload types
        out.send(b, dest, '127.0.0.1');
        if (isVideo && !started) {
          started = true;
          pli();
          setTimeout(pli, 1500);
        }
      });
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    for (const t of pc.getTransceivers()) t.setDirection('recvonly');
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise<void>((r) => {
      if (pc.iceGatheringState === 'complete') return r();
      const t = setTimeout(r, 3000);
      pc.iceGatheringStateChange.subscribe((st) => {
        if (st === 'complete') {
          clearTimeout(t);
          r();
        }
      });
    });
    answer = pc.localDescription!.sdp;
  } catch (e) {
    close('bad offer');
    reply(400, `SDP offer not accepted: ${(e as Error).message}`);
    return;
  }
  if (closed) {
    reply(503, 'the WHIP session closed while answering');
    return;
  }
  pc.connectionStateChange.subscribe((st) => {
    if (st === 'connected') {
      if (connected || closed) return;
      connected = true;
      release.push(ctx.stats.connected(stream.name, 'whip'));
    } else if (st === 'failed' || st === 'closed') close(`connection ${st}`);
  });
  answered = true;
  ctx.stats.opened(stream.name, 'whip');
  release.push(ctx.stats.meter(stream.name, () => pcBytes(pc)));
  const location = `${(req.url ?? '').split('?')[0]!.replace(/\/+$/, '')}/${id}`;
  res.writeHead(201, { 'content-type': 'application/sdp', location, 'access-control-expose-headers': 'Location', 'content-length': Buffer.byteLength(answer) });
  res.end(answer);
  ctx.log.info({ stream: stream.name, id, video }, 'whip publisher offered');
}

/** The codecs a WHIP answer accepts: the one video codec chosen from the offer, and Opus. */
export function whipCodecs(video: WhipVideoCodec = 'h264') {
  const feedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }];
  return {
    video: [
      video === 'vp8'
        ? new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: feedback })
        : new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: feedback, parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' }),
    ],
    audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: WHIP_AUDIO_PT })],
  };
}
