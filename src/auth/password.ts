/**
 * API users: scrypt password hashes in the form `scrypt$N$r$p$saltB64$hashB64`, and HTTP Basic auth.
 * Verification is constant-time; successful verifications are cached briefly (scrypt is slow on
 * purpose, the API should not be). Verifications run one at a time (they share the libuv thread
 * pool with playback's file I/O) and failures are throttled per client address (throttle.ts).
 */
import { scrypt as scryptCb, randomBytes, timingSafeEqual, createHash, type ScryptOptions } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FailureThrottle, Semaphore, type ThrottleOptions } from './throttle.js';

const scrypt = (pw: string | Buffer, salt: Buffer, len: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));

export const SCRYPT_DEFAULTS = { N: 16384, r: 8, p: 1, keyLen: 32, saltLen: 16 } as const;

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Parse `scrypt$N$r$p$saltB64$hashB64`; undefined when malformed. */
export function parsePasswordHash(s: string): ParsedHash | undefined {
  const parts = s.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((x) => Number(x)) as [number, number, number];
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0)) return undefined;
  if (N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 20 || r > 64 || p > 16) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 128) return undefined;
  return { N, r, p, salt, hash };
}

/** Hash a password for `auth.users[].password_hash`. */
export async function hashPassword(password: string, opts: Partial<{ N: number; r: number; p: number }> = {}): Promise<string> {
  const N = opts.N ?? SCRYPT_DEFAULTS.N;
  const r = opts.r ?? SCRYPT_DEFAULTS.r;
  const p = opts.p ?? SCRYPT_DEFAULTS.p;
  const salt = randomBytes(SCRYPT_DEFAULTS.saltLen);
  const key = await scrypt(password.normalize('NFC'), salt, SCRYPT_DEFAULTS.keyLen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** One scrypt verification at a time in this process: the rest wait here, not in the thread pool. */
const verifyGate = new Semaphore(1);

/** Constant-time check of a password against a stored hash. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parsePasswordHash(stored);
  if (!h) return false;
  const key = await verifyGate.run(() => scrypt(password.normalize('NFC'), h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 }));
  return timingSafeEqual(key, h.hash);
}

export interface ApiUser {
  name: string;
  passwordHash: string;
  role: 'admin' | 'read';
}

/** `Authorization: Basic …` → {user, password}; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

const CACHE_MS = 5 * 60_000;

export interface AuthResult {
  user?: ApiUser;
  /** set when the address is over its failure budget: seconds to wait */
  retryAfterS?: number;
}

const DUMMY_HASH = `scrypt$${SCRYPT_DEFAULTS.N}$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}=`;

/** Authenticates Basic credentials against a user list (replaceable on config reload). */
export class BasicAuthenticator {
  private cache = new Map<string, number>();
  private readonly throttle: FailureThrottle;
  constructor(private users: ApiUser[], throttle: ThrottleOptions = {}) {
    this.throttle = new FailureThrottle(throttle);
  }

  setUsers(users: ApiUser[]): void {
    this.users = users;
    this.cache.clear();
  }

  get enabled(): boolean {
    return this.users.length > 0;
  }

  /** The authenticated user, or undefined. */
  async authenticate(header: string | undefined): Promise<ApiUser | undefined> {
    return (await this.check(header, undefined)).user;
  }

  /**
   * Like authenticate(), throttled per client address: a recently verified credential answers at
   * once; otherwise an address over its failure budget gets `retryAfterS` and no scrypt runs.
   */
  async check(header: string | undefined, address: string | undefined): Promise<AuthResult> {
    const cred = parseBasicAuth(header);
    if (!cred) return {};
    const user = this.users.find((u) => u.name === cred.user);
    const key = user && createHash('sha256').update(`${user.name}\0${cred.password}\0${user.passwordHash}`).digest('base64');
    if (key) {
      const until = this.cache.get(key);
      if (until && until > Date.now()) return { user: user! };
    }
    const addr = address ?? '';
    const wait = this.throttle.begin(addr);
    if (wait > 0) return { retryAfterS: wait };
    let ok = false;
    try {
      // unknown users cost a comparable verification, so timing does not reveal user names
      ok = (await verifyPassword(cred.password, user?.passwordHash ?? DUMMY_HASH).catch(() => false)) && user !== undefined;
    } finally {
      this.throttle.done(addr, ok);
    }
    if (!ok) return {};
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(key!, Date.now() + CACHE_MS);
    return { user: user! };
  }
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d+\.\d+\.\d+$/.test(v4);
}

export function remoteAddress(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress;
}
