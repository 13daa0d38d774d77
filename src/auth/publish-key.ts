/**
 * May a publisher with this key publish into this stream? The stream-level checks every publish
 * protocol shares (RTMP, SRT, WHIP): a safe name, a configured and enabled stream with a publish://
 * input, and its publish_password compared in constant time. The publish backend comes after
 * (auth/publish-gate.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ResolvedStream } from '../config/model.js';
import { streamNameProblem } from '../core/paths.js';

export type PublishKeyVerdict = { ok: true; name: string } | { ok: false; reason: string };

/** Constant-time comparison of a given secret with the expected one (digests: lengths may differ). */
export function secretEquals(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Can `name` (with `key`) be published? */
export function authorizePublish(ctx: { getStream(name: string): ResolvedStream | undefined }, name: string, key: string | undefined): PublishKeyVerdict {
  const problem = streamNameProblem(name);
  if (problem) return { ok: false, reason: `invalid stream name ${JSON.stringify(name)}: ${problem}` };
  const s = ctx.getStream(name);
  if (!s) return { ok: false, reason: `no stream "${name}" is configured` };
  if (s.disabled) return { ok: false, reason: `stream "${name}" is disabled` };
  if (!s.inputs.some((i) => i.scheme === 'publish')) return { ok: false, reason: `stream "${name}" has no publish:// input` };
  const password = s.auth.publishPassword;
  if (password && !secretEquals(key, password)) return { ok: false, reason: `wrong or missing publish key for "${name}"` };
  return { ok: true, name };
}
