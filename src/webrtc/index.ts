/**
 * The agent's hook into WebRTC: a playback sub-handler for `/<stream>/whep[/<id>]` and `/<stream>/whip[/<id>]`. werift (the
 * WebRTC stack) is imported on the first WHEP request only, so a node that never serves WebRTC
 * starts as fast as before.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedStream } from '../config/model.js';
import type { WebrtcGateway, WebrtcGatewayOptions } from './gateway.js';

export interface WebrtcHandler {
  (req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, rest: string): Promise<boolean>;
  /** the gateway once loaded (tests, status) */
  gateway(): WebrtcGateway | null;
  close(): Promise<void>;
}

export function createWebrtcHandler(opts: WebrtcGatewayOptions): WebrtcHandler {
  let gw: WebrtcGateway | null = null;
  let loading: Promise<WebrtcGateway> | null = null;
  const handler = async (req: IncomingMessage, res: ServerResponse, stream: ResolvedStream, rest: string): Promise<boolean> => {
    if (rest !== 'whep' && !rest.startsWith('whep/') && rest !== 'whip' && !rest.startsWith('whip/')) return false;
    loading ??= import('./gateway.js').then((m) => (gw = new m.WebrtcGateway(opts)));
    return (await loading).handle(req, res, stream, rest);
  };
  return Object.assign(handler, {
    gateway: () => gw,
    close: async () => {
      if (loading) await (await loading).close();
    },
  });
}
