/**
 * The agent's hook into WebRTC: a playback sub-handler for `/<stream>/whep[/<id>]` and `/<stream>/whip[/<id>]`. werift (the
 * WebRTC stack) is imported on the first WHEP request only, so a node that never serves WebRTC
 * starts as fast as before. The counters for /metrics live here, outside the gateway, so that a
 * scrape does not load werift either.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedStream } from '../config/model.js';
import type { WebrtcGateway, WebrtcGatewayOptions, WebrtcRequestContext } from './gateway.js';
import { WebrtcStats, type WebrtcStreamStats } from './stats.js';

export type { WebrtcStreamStats } from './stats.js';
export type { PlaySessionKeeper } from './gateway.js';

export interface WebrtcHandler {
  (req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, rest: string, ctx?: WebrtcRequestContext): Promise<boolean>;
  /** the gateway once loaded (tests, status) */
  gateway(): WebrtcGateway | null;
  /** per-stream counters of streams that have had WebRTC sessions (/metrics) */
  stats(): WebrtcStreamStats[];
  close(): Promise<void>;
}

export function createWebrtcHandler(opts: Omit<WebrtcGatewayOptions, 'stats'>): WebrtcHandler {
  let gw: WebrtcGateway | null = null;
  let loading: Promise<WebrtcGateway> | null = null;
  const stats = new WebrtcStats();
  const handler = async (req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, rest: string, ctx?: WebrtcRequestContext): Promise<boolean> => {
    if (rest !== 'whep' && !rest.startsWith('whep/') && rest !== 'whip' && !rest.startsWith('whip/')) return false;
    loading ??= import('./gateway.js').then((m) => (gw = new m.WebrtcGateway({ ...opts, stats })));
    return (await loading).handle(req, res, stream, rest, ctx);
  };
  return Object.assign(handler, {
    gateway: () => gw,
    stats: () => stats.snapshot(),
    close: async () => {
      if (loading) await (await loading).close();
    },
  });
}
