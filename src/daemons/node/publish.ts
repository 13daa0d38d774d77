/**
 * Publish listeners of the node: RTMP (native, rtmp-server.ts) and SRT (srt-listener.ts). Both
 * authorize against the config (the stream must exist, be enabled, have a `publish://` input; the
 * key must match the stream's publish password when one is set) and pipe the publisher's MPEG-TS
 * into the stream's supervisor with `POST /ingest` on its socket.
 */
import type { Readable } from 'node:stream';
import { Client } from 'undici';
import type { Logger } from '../../core/logger.js';
import type { ResolvedServer, ResolvedStream } from '../../config/model.js';
import { streamNameProblem } from '../../core/paths.js';
import { SrtPublishListener } from './srt-listener.js';

export interface PublishContext {
  server: ResolvedServer;
  getStream: (name: string) => ResolvedStream | undefined;
  /** the supervisor socket of a running stream */
  ingestSocket: (name: string) => string | undefined;
  ffmpeg: () => string;
  logger: Logger;
}

export interface PublishListeners {
  rtmpPort: number | null;
  srtPort: number | null;
  close(): Promise<void>;
}

export type Verdict = { ok: true; name: string } | { ok: false; reason: string };

/** Can `name` (with `key`) be published? */
export function authorizePublish(ctx: Pick<PublishContext, 'getStream'>, name: string, key: string | undefined): Verdict {
  const problem = streamNameProblem(name);
  if (problem) return { ok: false, reason: `invalid stream name ${JSON.stringify(name)}: ${problem}` };
  const s = ctx.getStream(name);
  if (!s) return { ok: false, reason: `no stream "${name}" is configured` };
  if (s.disabled) return { ok: false, reason: `stream "${name}" is disabled` };
  if (!s.inputs.some((i) => i.scheme === 'publish')) return { ok: false, reason: `stream "${name}" has no publish:// input` };
  const password = s.auth.publishPassword;
  if (password && key !== password) return { ok: false, reason: `wrong or missing publish key for "${name}"` };
  return { ok: true, name };
}

/**
 * Candidate stream names for an RTMP (app, stream) pair: `rtmp://host/live/NAME` → NAME,
 * `rtmp://host/cams/door` → `cams/door`, `rtmp://host/NAME` (empty app) → NAME.
 */
export function publishNameCandidates(app: string, stream: string): string[] {
  const a = app.replace(/^\/+|\/+$/g, '');
  const s = stream.replace(/^\/+/, '');
  const out: string[] = [];
  if (a) out.push(`${a}/${s}`);
  out.push(s);
  return [...new Set(out.filter(Boolean))];
}

/** Pipe TS into the supervisor; resolves when the publisher's stream ends. 409 = another publisher. */
export async function ingestInto(socketPath: string, ts: Readable): Promise<void> {
  const client = new Client('http://localhost', { socketPath, bodyTimeout: 0, headersTimeout: 0, keepAliveTimeout: 1000 });
  try {
    const res = await client.request({ path: '/ingest', method: 'POST', body: ts, headers: { 'content-type': 'video/mp2t' } });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`supervisor refused the publisher: ${res.statusCode} ${text.slice(0, 200)}`);
  } finally {
    await client.close().catch(() => client.destroy());
  }
}

export async function startPublishListeners(ctx: PublishContext): Promise<PublishListeners> {
  const closers: (() => Promise<void>)[] = [];
  let rtmpPort: number | null = null;
  let srtPort: number | null = null;
  const log = ctx.logger;

  const ingest = async (name: string, ts: Readable, remote: string): Promise<void> => {
    const sock = ctx.ingestSocket(name);
    if (!sock) throw new Error(`stream "${name}" has no running supervisor`);
    log.info({ stream: name, remote }, 'publisher connected: piping into the supervisor');
    await ingestInto(sock, ts);
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
      authorize: (req) => authorizePublish(ctx, req.name, req.key),
      ingest,
      logger: log.child({ part: 'srt' }),
    });
    try {
      await srt.start();
      srtPort = ctx.server.srt;
      closers.push(() => srt.close());
    } catch (e) {
      log.error({ port: ctx.server.srt, err: (e as Error).message }, 'cannot start the SRT publish listener');
    }
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
  let mod: { startRtmpServer?: (opts: Record<string, unknown>) => Promise<unknown> };
  try {
    const spec = './rtmp-server.js';
    mod = (await import(spec)) as typeof mod;
  } catch (e) {
    ctx.logger.warn({ err: (e as Error).message }, 'RTMP server module unavailable: RTMP publish is off');
    return undefined;
  }
  if (typeof mod.startRtmpServer !== 'function') return undefined;
  try {
    const srv = (await mod.startRtmpServer({
      host: ctx.server.host,
      port: ctx.server.rtmp,
      logger: ctx.logger.child({ part: 'rtmp' }),
      authorize: (app: string, stream: string, key?: string) => {
        let last: Verdict = { ok: false, reason: 'no stream' };
        for (const name of publishNameCandidates(app, stream)) {
          last = authorizePublish(ctx, name, key);
          if (last.ok) return last;
        }
        return last;
      },
      onPublish: (name: string, ts: Readable, remote?: string) => ingest(name, ts, remote ?? 'rtmp'),
    })) as { port?: number; close?: () => Promise<void> };
    return { port: srv.port ?? (ctx.server.rtmp as number), close: async () => srv.close?.() };
  } catch (e) {
    ctx.logger.error({ port: ctx.server.rtmp, err: (e as Error).message }, 'cannot start the RTMP listener');
    return undefined;
  }
}
