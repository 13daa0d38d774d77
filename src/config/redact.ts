/**
 * Secrets out of config-shaped documents, for API users with the read role: they may see every
 * stream and setting, not the keys that would let them publish, sign play links, join the cluster
 * or log in (publish passwords, securetoken, cluster_key, password hashes, SRT passphrases,
 * credentials inside source and push URLs). Admins get the document as it is: they edit it, and a
 * redacted value written back would replace the real secret.
 */

export const REDACTED = '<redacted>';

/** Config keys whose value is a secret, wherever they appear. */
const SECRET_KEYS = new Set(['publish_password', 'securetoken', 'secure_link_key', 'cluster_key', 'password', 'password_hash', 'srt_passphrase', 'passphrase', 'secret', 'token']);
/** Query parameters of URLs that carry a secret (SRT passphrase, tokens and keys in pull/push URLs). */
const SECRET_PARAMS = /^(passphrase|password|pass|pwd|token|key|secret|sig|signature)$/i;

/** A URL with its password and secret query parameters replaced; other strings unchanged. */
export function redactUrl(s: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(s);
  if (!m) return s;
  let [, scheme, authority, rest] = m;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) authority = `${userinfo.slice(0, colon)}:${REDACTED}${authority.slice(at)}`;
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    const hash = rest.indexOf('#', q);
    const query = rest.slice(q + 1, hash < 0 ? undefined : hash);
    const redacted = query
      .split('&')
      .map((kv) => {
        const eq = kv.indexOf('=');
        return eq > 0 && SECRET_PARAMS.test(kv.slice(0, eq)) ? `${kv.slice(0, eq)}=${REDACTED}` : kv;
      })
      .join('&');
    rest = rest.slice(0, q + 1) + redacted + (hash < 0 ? '' : rest.slice(hash));
  }
  return scheme + authority + rest;
}

/** A deep copy of `doc` with secret keys and URL credentials redacted. */
export function redactSecrets<T>(doc: T): T {
  return walk(doc) as T;
}

function walk(v: unknown): unknown {
  if (typeof v === 'string') return v.includes('://') ? redactUrl(v) : v;
  if (Array.isArray(v)) return v.map(walk);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEYS.has(k) && x !== null && x !== undefined && typeof x !== 'object' && typeof x !== 'boolean' ? REDACTED : walk(x);
    return out;
  }
  return v;
}
