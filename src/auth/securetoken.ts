/**
 * Signed play links, Flussonic's securetoken formula:
 *   hash  = sha1(stream + ip + start + end + secret + salt)      (hex)
 *   token = `${hash}-${salt}-${end}-${start}`                    (unix seconds)
 * A link signed without an IP (ip = '') plays from anywhere; one signed with the client's IP only
 * from there. Checks allow `skewS` seconds of clock difference on both ends of the window.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEFAULT_SKEW_S = 30;

export function signToken(o: { stream: string; secret: string; ip?: string; start: number; end: number; salt?: string }): string {
  const salt = o.salt ?? randomBytes(8).toString('hex');
  const hash = createHash('sha1').update(`${o.stream}${o.ip ?? ''}${o.start}${o.end}${o.secret}${salt}`).digest('hex');
  return `${hash}-${salt}-${o.end}-${o.start}`;
}

export type TokenCheck = { ok: true; end: number } | { ok: false; reason: string };

/** Check `token` for `stream` from client `ip` at `nowS`. */
export function verifyToken(token: string | null | undefined, o: { stream: string; secret: string; ip: string | undefined; nowS: number; skewS?: number }): TokenCheck {
  if (!token) return { ok: false, reason: 'no token' };
  const m = /^([0-9a-f]{40})-([A-Za-z0-9]{1,64})-(\d{1,12})-(\d{1,12})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed token' };
  const [, hash, salt, endS, startS] = m as unknown as [string, string, string, string, string];
  const start = Number(startS);
  const end = Number(endS);
  const skew = o.skewS ?? DEFAULT_SKEW_S;
  const given = Buffer.from(hash, 'hex');
  const ip = o.ip?.startsWith('::ffff:') ? o.ip.slice(7) : (o.ip ?? '');
  // bound to the client's address, or signed for any address
  const match = [ip, ''].some((cand) => {
    const want = createHash('sha1').update(`${o.stream}${cand}${startS}${endS}${o.secret}${salt}`).digest();
    return timingSafeEqual(want, given);
  });
  if (!match) return { ok: false, reason: 'bad signature (wrong stream, address or secret)' };
  if (o.nowS > end + skew) return { ok: false, reason: `token expired at ${end}` };
  if (o.nowS + skew < start) return { ok: false, reason: `token not valid before ${start}` };
  return { ok: true, end };
}
