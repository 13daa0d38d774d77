/**
 * `flux auth sign`: a play URL carrying a Flussonic securetoken, signed with the secret the node
 * would check it against (the stream's own securetoken, or auth.securetoken for a stream with
 * secure_link: true), read from the config file.
 */
import type { SignedLink } from '../protocol/api.js';
import { isIP } from 'node:net';
import { InputError, UsageError } from '../core/errors.js';
import type { ResolvedConfig } from '../config/model.js';
import { signToken } from '../auth/securetoken.js';


export type { SignedLink } from '../protocol/api.js';

export function signLink(cfg: ResolvedConfig, o: { stream: string; ttlMs: number; ip?: string; baseUrl?: string; nowMs?: number; path?: string }): SignedLink {
  const s = cfg.streams[o.stream];
  if (!s) throw new InputError(`stream "${o.stream}" not found in ${cfg.file ?? 'the config'}`, { code: 'E_NOT_FOUND' });
  const secret = s.auth.securetoken ?? (s.auth.secureLink ? cfg.auth.secureLinkKey : undefined);
  if (!secret) throw new InputError(`stream "${o.stream}" takes no signed links: set its auth.securetoken, or auth.securetoken and its auth.secure_link: true`, { code: 'E_NO_SECRET' });
  if (o.ip !== undefined && !isIP(o.ip)) throw new UsageError(`--ip ${o.ip} is not an IP address`);
  if (!(o.ttlMs >= 1000)) throw new UsageError('--ttl must be at least 1s');
  const start = Math.floor((o.nowMs ?? Date.now()) / 1000);
  const end = start + Math.round(o.ttlMs / 1000);
  const token = signToken({ stream: o.stream, secret, ip: o.ip, start, end });
  const host = cfg.server.host === '0.0.0.0' || cfg.server.host === '::' ? '127.0.0.1' : cfg.server.host;
  const base = (o.baseUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${cfg.server.http}`).replace(/\/+$/, '');
  const streamPath = o.stream.split('/').map(encodeURIComponent).join('/');
  const url = `${base}/${streamPath}/${o.path ?? 'index.m3u8'}?token=${encodeURIComponent(token)}`;
  return { stream: o.stream, url, token, ip: o.ip ?? null, start, end };
}
