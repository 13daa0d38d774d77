/**
 * Publish listeners of the node: RTMP (native, rtmp-server.ts) and SRT (srt-listener.ts). Both
 * authorize against the config (the stream must exist, be enabled, have a `publish://` input; the
 * key must match the stream's publish password when one is set). An accepted RTMP publisher's
 * socket is handed to the stream's supervisor over its IPC channel (protocol/rtmp-handoff.ts),
 * which reads the media itself; an SRT publisher's TS pipe (the stdout of the ffmpeg that ends its
 * SRT connection) goes over the same channel (ts-publish). Publishers whose supervisor has no
 * channel (adopted from a previous node), or all of them with FLUX_RTMP_HANDOFF=0 (RTMP) or
 * FLUX_SRT_HANDOFF=0 (SRT), have their MPEG-TS piped into the supervisor with `POST /ingest`.
 */
import net from 'node:net';
import type { Readable } from 'node:stream';
import { authorizePublish, type PublishKeyVerdict } from '../../auth/publish-key.js';
import { socketRequest } from '../../protocol/socket-http.js';
import type { Logger } from '../../core/logger.js';
import type { ResolvedServer, ResolvedStream } from '../../config/model.js';
import { InputError } from '../../core/errors.js';
import { SrtPublishListener } from './srt-listener.js';
import { startRtmpServer, rtmpStreamCandidates, createReadableSink, type RtmpHandoffTarget } from './rtmp-server.js';
import type { SupervisorChannel } from './supervisor-host.js';
import { RTMP_HANDOFF_VERSION, type RtmpPublishHandoff, type RtmpSessionState, type TsPublishHandoff } from '../../protocol/rtmp-handoff.js';

export interface PublishContext {
  server: ResolvedServer;
  getStream: (name: string) => ResolvedStream | undefined;
  /** the supervisor socket of a running stream */
  ingestSocket: (name: string) => string | undefined;
  /** the IPC channel of a running stream's supervisor, when it takes RTMP handoffs */
  supervisorChannel?: (name: string) => SupervisorChannel | undefined;
  ffmpeg: () => string;
  logger: Logger;
  /** the publish backend (auth/protection.ts), asked after authorizePublish allowed */
  publishBackend?: (stream: ResolvedStream, o: { proto: 'rtmp' | 'srt'; ip: string; token?: string }) => Promise<{ ok: true } | { ok: false; reason: string }>;
  /** while a publisher is live: `kick` it when the publish backend withdraws its allow; returns stop */
  watchPublisher?: (stream: string, kick: (reason: string) => void) => () => void;
}

/** authorizePublish, then the publish backend when there is one. */
async function authorizeWithBackend(ctx: PublishContext, name: string, key: string | undefined, proto: 'rtmp' | 'srt', ip: string): Promise<Verdict> {
  const v = authorizePublish(ctx, name, key);
  if (!v.ok || !ctx.publishBackend) return v;
  const b = await ctx.publishBackend(ctx.getStream(name)!, { proto, ip, token: key });
  return b.ok ? v : { ok: false, reason: b.reason };
}

export interface PublishListeners {
  rtmpPort: number | null;
  srtPort: number | null;
  close(): Promise<void>;
}

export type Verdict = PublishKeyVerdict;
export { authorizePublish } from '../../auth/publish-key.js';

/** Pipe TS into the supervisor; resolves when the publisher's stream ends. 409 = another publisher. */
export async function ingestInto(socketPath: string, ts: Readable): Promise<void> {
  const res = await socketRequest(socketPath, '/ingest', { method: 'POST', body: ts, headers: { 'content-type': 'video/mp2t' }, timeoutMs: 0, noKeepAlive: true });
  if (res.status >= 300) throw new Error(`supervisor refused the publisher: ${res.status} ${res.text.slice(0, 200)}`);
}

export async function startPublishListeners(ctx: PublishContext): Promise<PublishListeners> {
  const closers: (() => Promise<void>)[] = [];
  let rtmpPort: number | null = null;
  let srtPort: number | null = null;
  const log = ctx.logger;

  let tsIds = 0;
  const ingest = async (name: string, ts: Readable, remote: string): Promise<void> => {
    // a pipe (an SRT publisher's ffmpeg stdout) goes to a supervisor that takes handoffs
    const ch = ts instanceof net.Socket && process.env.FLUX_SRT_HANDOFF !== '0' ? ctx.supervisorChannel?.(name) : undefined;
    if (ch?.ready) return handOverTs(ctx, name, ch, ts as net.Socket, remote, ++tsIds);
    const sock = ctx.ingestSocket(name);
    if (!sock) throw new Error(`stream "${name}" has no running supervisor`);
    log.info({ stream: name, remote }, 'publisher connected: piping into the supervisor');
    const unwatch = ctx.watchPublisher?.(name, (reason) => {
      log.warn({ stream: name, remote, reason }, 'publisher disconnected: the publish backend denied it on a re-check');
      ts.destroy(new Error(reason));
    });
    try {
      await ingestInto(sock, ts);
    } finally {
      unwatch?.();
    }
    log.info({ stream: name, remote }, 'publisher gone');
  };

  if (ctx.server.rtmp !== false) {
    const rtmp = await startRtmp(ctx, ingest);
    if (rtmp) {
      rtmpPort = rtmp.port;
      closers.push(rtmp.close);
    }
  }
  if (ctx.server.srt !== false) {
    const srt = new SrtPublishListener({
      host: ctx.server.host,
      port: ctx.server.srt,
      ffmpeg: ctx.ffmpeg,
      authorize: (req) => authorizeWithBackend(ctx, req.name, req.key, 'srt', req.remote.replace(/:\d+$/, '')),
      ingest,
      logger: log.child({ part: 'srt' }),
    });
    try {
      await srt.start();
    } catch (e) {
      await Promise.all(closers.map((c) => c().catch(() => {})));
      throw new InputError(`cannot listen on SRT (udp) ${ctx.server.host}:${ctx.server.srt}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, code: 'E_LISTEN' });
    }
    srtPort = ctx.server.srt;
    closers.push(() => srt.close());
  }
  return {
    rtmpPort,
    srtPort,
    close: async () => {
      await Promise.all(closers.map((c) => c().catch(() => {})));
    },
  };
}

async function startRtmp(
  ctx: PublishContext,
  ingest: (name: string, ts: Readable, remote: string) => Promise<void>,
): Promise<{ port: number; close: () => Promise<void> } | undefined> {
  try {
    const srv = await startRtmpServer({
      handoff: (stream) => {
        if (process.env.FLUX_RTMP_HANDOFF === '0') return undefined;
        const ch = ctx.supervisorChannel?.(stream);
        return ch ? rtmpHandoffTarget(ctx, stream, ch) : undefined;
      },
      host: ctx.server.host,
      port: ctx.server.rtmp as number,
      logger: ctx.logger.child({ part: 'rtmp' }),
      authorize: async (req) => {
        const key = req.params.key ?? req.params.password ?? req.params.token;
        let last: Verdict = { ok: false, reason: `no stream matches rtmp app "${req.app}" name "${req.name}"` };
        for (const name of rtmpStreamCandidates(req.app, req.name)) {
          if (!ctx.getStream(name)) continue;
          last = await authorizeWithBackend(ctx, name, key, 'rtmp', req.remoteAddress);
          if (last.ok) return { ok: true, stream: name };
          break;
        }
        ctx.logger.warn({ app: req.app, name: req.name, remote: req.remoteAddress, reason: last.ok ? '' : last.reason }, 'rtmp publish refused');
        return { ok: false, reason: last.ok ? 'refused' : last.reason };
      },
      onPublish: (stream, publisher) => {
        const { sink, readable } = createReadableSink();
        ingest(stream, readable, `rtmp ${publisher.remoteAddress}`)
          .catch((e: Error) => {
            ctx.logger.warn({ stream, err: e.message }, 'rtmp ingest failed: disconnecting the publisher');
            publisher.close(e.message);
          })
          .finally(() => readable.destroy());
        return sink;
      },
    });
    return { port: srv.port, close: () => srv.close() };
  } catch (e) {
    throw new InputError(`cannot listen on RTMP ${ctx.server.host}:${ctx.server.rtmp}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, code: 'E_LISTEN' });
  }
}

/**
 * The stream's supervisor as the target of an RTMP handoff: the socket goes over its channel, the
 * publish backend's re-checks stay here (a withdrawn allow sends rtmp-kick), and rtmp-ended (or the
 * channel closing with the supervisor) ends the publication here.
 */
export function rtmpHandoffTarget(ctx: Pick<PublishContext, 'logger' | 'watchPublisher'>, stream: string, ch: SupervisorChannel): RtmpHandoffTarget {
  const log = ctx.logger;
  return {
    async handOver(state, socket) {
      const id = state.id;
      const remote = `rtmp ${state.remoteAddress}`;
      // the two contracts must stay alike: a compile error here says which drifted
      const session: RtmpSessionState = state.session;
      const msg: RtmpPublishHandoff = {
        type: 'rtmp-publish',
        version: RTMP_HANDOFF_VERSION,
        id,
        stream,
        remoteAddress: state.remoteAddress,
        remotePort: state.remotePort,
        connectedAt: state.connectedAt,
        publishingSince: state.publishingSince,
        limits: state.limits,
        session,
        unread: state.unread.toString('base64'),
      };
      let unwatch: (() => void) | undefined;
      let done = false;
      let resolveEnded!: (r: { reason: string; bytesIn?: number; tsBytes?: number }) => void;
      const ended = new Promise<{ reason: string; bytesIn?: number; tsBytes?: number }>((r) => (resolveEnded = r));
      const finish = (r: { reason: string; bytesIn?: number; tsBytes?: number }): void => {
        if (done) return;
        done = true;
        offMessage();
        offGone();
        unwatch?.();
        log.info({ stream, remote, reason: r.reason, bytesIn: r.bytesIn, tsBytes: r.tsBytes }, 'publisher gone');
        resolveEnded(r);
      };
      // listening before the send: the supervisor may refuse at once
      const offMessage = ch.onMessage((m) => {
        const e = m as { type?: unknown; id?: unknown; reason?: unknown; accepted?: unknown; bytesIn?: unknown; tsBytes?: unknown };
        if (e.type !== 'rtmp-ended' || e.id !== id) return;
        const reason = typeof e.reason === 'string' ? e.reason : 'ended';
        if (e.accepted === false) log.warn({ stream, remote, reason }, 'the supervisor refused the publisher');
        finish({ reason, bytesIn: typeof e.bytesIn === 'number' ? e.bytesIn : undefined, tsBytes: typeof e.tsBytes === 'number' ? e.tsBytes : undefined });
      });
      const offGone = ch.onDisconnect(() => finish({ reason: 'the supervisor is gone' }));
      try {
        await ch.send(msg, socket);
      } catch (err) {
        offMessage();
        offGone();
        throw err;
      }
      const kick = (reason: string): void => void ch.send({ type: 'rtmp-kick', id, reason }).catch(() => {});
      log.info({ stream, remote }, 'publisher connected: its socket is handed to the supervisor');
      unwatch = ctx.watchPublisher?.(stream, (reason) => {
        log.warn({ stream, remote, reason }, 'publisher disconnected: the publish backend denied it on a re-check');
        kick(reason);
      });
      if (done) unwatch?.();
      return { kick, ended };
    },
  };
}

/**
 * A publisher's TS pipe handed to the stream's supervisor (ts-publish): resolves when the
 * supervisor reports ts-ended (the pipe's EOF: the writer exited) or goes away; rejects when the
 * publish backend withdraws its allow, so the caller stops the writer (and the supervisor sees EOF).
 */
async function handOverTs(ctx: Pick<PublishContext, 'logger' | 'watchPublisher'>, stream: string, ch: SupervisorChannel, pipe: net.Socket, remote: string, id: number): Promise<void> {
  const log = ctx.logger;
  const msg: TsPublishHandoff = { type: 'ts-publish', version: RTMP_HANDOFF_VERSION, id, stream, remote };
  let unwatch: (() => void) | undefined;
  let offMessage = (): void => {};
  let offGone = (): void => {};
  const over = new Promise<void>((resolve, reject) => {
    offMessage = ch.onMessage((m) => {
      const e = m as { type?: unknown; id?: unknown; reason?: unknown; accepted?: unknown; tsBytes?: unknown };
      if (e.type !== 'ts-ended' || e.id !== id) return;
      const reason = typeof e.reason === 'string' ? e.reason : 'ended';
      if (e.accepted === false) reject(new Error(`the supervisor refused the publisher: ${reason}`));
      else {
        log.info({ stream, remote, reason, tsBytes: e.tsBytes }, 'publisher gone');
        resolve();
      }
    });
    offGone = ch.onDisconnect(() => resolve());
    unwatch = ctx.watchPublisher?.(stream, (reason) => {
      log.warn({ stream, remote, reason }, 'publisher disconnected: the publish backend denied it on a re-check');
      reject(new Error(reason));
    });
  });
  // it may settle before it is awaited (a refusal during the send): not an unhandled rejection
  over.catch(() => {});
  try {
    // listening before the send: the supervisor may refuse at once
    await ch.send(msg, pipe);
    log.info({ stream, remote }, 'publisher connected: its TS pipe is handed to the supervisor');
    await over;
  } finally {
    offMessage();
    offGone();
    unwatch?.();
  }
}
