/**
 * Keeps one etcd lease alive over etcd's HTTP/JSON gateway (`POST /v3/lease/keepalive`), with
 * node:http only: small enough for a stream supervisor, which must not load the gRPC client.
 *
 * Ownership of a cluster_ingest stream is bound to a lease of its own (a "capture lease"): the agent
 * keeps it alive, and so does the supervisor that captures the stream. So the ownership lives as
 * long as the capture does: an agent crash leaves it with the still-running supervisor, and the
 * restarted agent finds it again; the death of the machine (agent and capture) lets it expire.
 *
 * A keepalive answered without a TTL means the lease is gone (expired or revoked): the keeper stops
 * and reports it. Errors (etcd away) are retried on the next endpoint; the lease is left to etcd.
 */
import http from 'node:http';
import https from 'node:https';

export interface LeaseSpec {
  etcd: string[];
  /** lease ID as etcd prints it (decimal string) */
  id: string;
  ttlMs: number;
  username?: string;
  password?: string;
}

function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const text = JSON.stringify(body);
    const req = mod.request(u, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`etcd ${res.statusCode}: ${String(j.error ?? j.message ?? '')}`));
          else resolve(j);
        } catch (e) {
          reject(e as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('etcd keepalive timed out')));
    req.on('error', reject);
    req.end(text);
  });
}

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private endpoint = 0;
  private token: string | undefined;
  private stopped = false;
  lastOkAt = 0;
  lastError: string | null = null;
  /** the lease is gone (keepalive answered without TTL) */
  lost = false;

  constructor(
    readonly spec: LeaseSpec,
    private readonly onLost: (spec: LeaseSpec) => void = () => {},
  ) {}

  start(): this {
    void this.beat();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), ms);
    this.timer.unref();
  }

  private async auth(base: string): Promise<Record<string, string>> {
    if (!this.spec.username) return {};
    if (!this.token) {
      const r = await postJson(`${base}/v3/auth/authenticate`, { name: this.spec.username, password: this.spec.password ?? '' }, {}, 2000);
      this.token = String(r.token ?? '');
    }
    return { authorization: this.token };
  }

  /** One keepalive now; true when the lease is alive. */
  async beat(): Promise<boolean> {
    if (this.stopped) return false;
    const every = Math.max(200, Math.floor(this.spec.ttlMs / 3));
    const base = this.spec.etcd[this.endpoint % this.spec.etcd.length]!.replace(/\/+$/, '');
    try {
      const r = await postJson(`${base}/v3/lease/keepalive`, { ID: this.spec.id }, await this.auth(base), Math.min(2000, every));
      const result = (r.result ?? {}) as { TTL?: string };
      if (!result.TTL || Number(result.TTL) <= 0) {
        this.lost = true;
        this.stop();
        this.onLost(this.spec);
        return false;
      }
      this.lastOkAt = Date.now();
      this.lastError = null;
      this.schedule(every);
      return true;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.token = undefined;
      this.endpoint++;
      this.schedule(Math.min(every, 500));
      return false;
    }
  }
}
