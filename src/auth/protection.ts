/**
 * The node agent's one hook into protection: built from the resolved config (and rebuilt on each
 * reload), it answers the HTTP server's questions (which Host names are ours; may this playback
 * request go on) so agent.ts and http.ts only hold a reference to it.
 */
import type { ResolvedConfig } from '../config/model.js';
import type { Logger } from '../core/logger.js';
import { ownHostNames } from './api-guard.js';

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

function hostOfUrl(u: string | undefined): string | undefined {
  if (!u) return undefined;
  try {
    return new URL(u).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

export class Protection {
  hostNames: Set<string> = ownHostNames();

  constructor(private readonly logger: Logger) {}

  apply(cfg: ResolvedConfig): void {
    const host = cfg.server.host;
    this.hostNames = ownHostNames([WILDCARD_HOSTS.has(host) ? undefined : host, ...(cfg.server.names ?? []), hostOfUrl(cfg.cluster?.advertise)]);
    this.logger.debug({ names: [...this.hostNames] }, 'API host names');
  }
}
