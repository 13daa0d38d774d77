/**
 * This node's membership of a Flux cluster, through etcd v3 (keys under `key_prefix`, default /flux/):
 *
 *   <prefix>nodes/<name>     heartbeat document, bound to this node's lease (gone lease_ttl after death)
 *   <prefix>streams/<name>   shared stream definitions (`flux cluster apply`), JSON
 *   <prefix>owners/<stream>  owner (node name) of a cluster_ingest stream, bound to a capture lease:
 *                            one per owned stream, kept alive by this agent and by the stream's
 *                            supervisor (lease-keeper.ts), so ownership lives as long as the capture
 *
 * One loop, every `pollMs`: (re)register when there is no live lease, read the whole prefix in one
 * range request, refresh the heartbeat every lease_ttl/3, take or hand back ownerships, and give the
 * agent the snapshot. Reads are polled rather than watched so that one failed request is one clear
 * signal: while etcd does not answer, the member is `degraded`, keeps the last snapshot and hands
 * the agent nothing (fail-static: no stream is started or stopped on stale information).
 *
 * Names are unique: registration is a transaction on Create == 0 of the node key. A key left by this
 * same node (same host and run dir: an agent killed and restarted before its lease ran out) is taken
 * over. Owner keys of this node whose capture lease is still alive (its supervisor kept it) are
 * adopted by the restarted agent: ownership follows the supervisors, which it re-adopts.
 */
import { hostname, cpus } from 'node:os';
import { Etcd3, type Lease } from 'etcd3';
import type { Logger } from '../core/logger.js';
import { planOwnership, type IngestStream, type PeerView } from './ownership.js';
import { LeaseKeeper, type LeaseSpec } from './lease-keeper.js';
import type { ClusterNodeDoc, ClusterStatusDoc } from '../protocol/api.js';

export interface ClusterSettings {
  etcd: string[];
  nodeName: string;
  advertise: string;
  keyPrefix: string;
  leaseTtlMs: number;
  returnAfterMs: number;
  clusterKey?: string;
  /** output capacity (bit/s) for the balancer's usage mode */
  maxBitrate?: number;
  username?: string;
  password?: string;
}

/** The heartbeat document under <prefix>nodes/<name>: a wire document, defined in src/protocol/api.ts. */
export type NodeDoc = ClusterNodeDoc;

export interface ClusterSnapshot {
  nodes: Record<string, NodeDoc>;
  streams: Record<string, Record<string, unknown>>;
  owners: Record<string, string>;
  /** capture lease ID of each owner key */
  ownerLeases: Record<string, string>;
  at: number;
}

export interface MemberHooks {
  version: string;
  instance: string;
  /** live load figures and the cluster_ingest streams this node can capture */
  load(): { streams_captured: number; clients: number; output_bitrate: number; ingest: IngestStream[] };
  /** the shared stream definitions of a fresh read, before ownership is settled on it */
  sharedStreams(streams: ClusterSnapshot['streams']): void;
  /** a fresh snapshot (only after a successful read); the agent reconciles on it */
  onSnapshot(snap: ClusterSnapshot): Promise<void>;
}

export type MemberState = ClusterStatusDoc['state'];

export class DuplicateNodeError extends Error {
  readonly code = 'E_CLUSTER_DUPLICATE';
}

const CALL_TIMEOUT_MS = 2000;

export class ClusterMember {
  private client: Etcd3;
  private lease: Lease | undefined;
  private leaseId: string | undefined;
  private leaseAlive = false;
  private memberSince = 0;
  private lastHeartbeat = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private cpuPrev = cpuTimes();
  private cpuPct = 0;
  private readonly startedAt = Date.now();
  /** capture leases of the streams this node owns, by stream */
  private captures = new Map<string, LeaseKeeper>();
  state: MemberState = 'joining';
  lastError: string | null = null;
  snapshot: ClusterSnapshot | undefined;
  readonly pollMs: number;

  constructor(
    readonly settings: ClusterSettings,
    private readonly hooks: MemberHooks,
    private readonly logger: Logger,
  ) {
    // a tenth of the lease: a dead owner's stream is seen free soon after its lease runs out
    this.pollMs = Math.max(200, Math.min(1000, Math.floor(settings.leaseTtlMs / 10)));
    this.client = new Etcd3({
      hosts: settings.etcd,
      dialTimeout: CALL_TIMEOUT_MS,
      ...(settings.username ? { auth: { username: settings.username, password: settings.password ?? '' } } : {}),
      // unary calls only (this module does not watch): a dead etcd fails a call, never hangs it
      defaultCallOptions: () => ({ deadline: Date.now() + CALL_TIMEOUT_MS }),
    });
  }

  get name(): string {
    return this.settings.nodeName;
  }

  private key(kind: 'nodes' | 'streams' | 'owners', name = ''): string {
    return `${this.settings.keyPrefix}${kind}/${name}`;
  }

  /**
   * First registration. Resolves once registered or once etcd proved unreachable (then the node runs
   * degraded and keeps trying); rejects with DuplicateNodeError when another node holds the name.
   */
  async start(): Promise<void> {
    this.running = true;
    await this.tick();
    if (this.state === 'refused') throw new DuplicateNodeError(this.lastError ?? `node name "${this.name}" is taken`);
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule();
      });
      // a refused name is retried slowly: its holder may leave, but usually an operator must act
    }, this.state === 'refused' ? 10_000 : this.pollMs);
  }

  private degrade(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    if (this.state !== 'degraded') this.logger.warn({ err: msg }, 'cluster degraded: etcd unreachable; keeping what runs (fail-static)');
    this.state = 'degraded';
    this.lastError = msg;
  }

  private async tick(): Promise<void> {
    try {
      if (!this.leaseAlive) {
        const ok = await this.register();
        if (!ok) return;
      }
      const snap = await this.read();
      this.hooks.sharedStreams(snap.streams);
      if (performance.now() - this.lastHeartbeat >= this.settings.leaseTtlMs / 3) await this.heartbeat(snap);
      const changed = await this.settleOwnership(snap);
      const fresh = changed ? await this.read() : snap;
      if (this.state !== 'ok') this.logger.info({ node: this.name, peers: Object.keys(fresh.nodes).length }, 'cluster member ok');
      this.state = 'ok';
      this.lastError = null;
      this.snapshot = fresh;
      if (!this.running) return;
      await this.hooks.onSnapshot(fresh);
    } catch (e) {
      this.degrade(e);
    }
  }

  private doc(): NodeDoc {
    const load = this.hooks.load();
    const now = cpuTimes();
    const busy = now.busy - this.cpuPrev.busy;
    const total = now.total - this.cpuPrev.total;
    if (total > 0) this.cpuPct = Math.round((busy / total) * 1000) / 10;
    this.cpuPrev = now;
    return {
      name: this.name,
      address: this.settings.advertise,
      role: load.streams_captured > 0 ? 'origin' : 'edge',
      version: this.hooks.version,
      instance: this.hooks.instance,
      pid: process.pid,
      started_at: this.startedAt,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      cpu: this.cpuPct,
      streams_captured: load.streams_captured,
      clients: load.clients,
      output_bitrate: load.output_bitrate,
      max_bitrate: this.settings.maxBitrate ?? null,
      last_heartbeat: Date.now(),
      member_for_ms: this.memberSince ? Math.round(performance.now() - this.memberSince) : 0,
      ingest: load.ingest.map((s) => s.name),
    };
  }

  /** Grant a lease and take the node key; false when refused (duplicate name). */
  private async register(): Promise<boolean> {
    this.dropLease();
    const ttlS = Math.max(1, Math.round(this.settings.leaseTtlMs / 1000));
    const lease = this.client.lease(ttlS, { autoKeepAlive: true });
    lease.on('lost', (err) => {
      if (this.lease !== lease) return;
      this.leaseAlive = false;
      this.logger.warn({ err: err.message }, 'cluster lease lost');
    });
    this.lease = lease;
    const id = await lease.grant();
    const nodeKey = this.key('nodes', this.name);
    const doc = { ...this.doc(), member_for_ms: 0 };
    const r = await this.client
      .if(nodeKey, 'Create', '==', 0)
      .then(this.client.put(nodeKey).value(JSON.stringify(doc)).lease(id))
      .else(this.client.get(nodeKey))
      .commit();
    if (!r.succeeded) {
      const kv = r.responses[0]?.response_range?.kvs?.[0];
      let holder: Partial<NodeDoc> = {};
      try {
        holder = JSON.parse(kv?.value?.toString() ?? '{}') as NodeDoc;
      } catch {
        /* not ours */
      }
      if (holder.instance !== this.hooks.instance || !kv) {
        this.state = 'refused';
        this.lastError = `node name "${this.name}" is already used by another node (${holder.address ?? 'unknown address'}); give this node another --name`;
        this.logger.error({ node: this.name, holder: holder.address }, 'cluster join refused: duplicate node name');
        await lease.revoke().catch(() => {});
        this.dropLease();
        return false;
      }
      // our own key from a previous agent on this run dir: take it, only if it did not change meanwhile
      const t = await this.client
        .if(nodeKey, 'Mod', '==', Number(kv.mod_revision))
        .then(this.client.put(nodeKey).value(JSON.stringify(doc)).lease(id))
        .commit();
      if (!t.succeeded) throw new Error('node key changed while re-registering; retrying');
      this.logger.info({ node: this.name }, 'cluster: took over the node key of a previous agent on this run dir');
    }
    this.leaseId = id;
    this.leaseAlive = true;
    this.memberSince = performance.now();
    this.lastHeartbeat = performance.now();
    this.logger.info({ node: this.name, lease: id, etcd: this.settings.etcd }, 'joined the cluster');
    return true;
  }

  private dropLease(): void {
    if (this.lease) {
      this.lease.removeAllListeners('lost');
      this.lease.on('lost', () => {});
      this.lease.release();
    }
    this.lease = undefined;
    this.leaseId = undefined;
    this.leaseAlive = false;
  }

  private async read(): Promise<ClusterSnapshot> {
    const res = await this.client.getAll().prefix(this.settings.keyPrefix).exec();
    const snap: ClusterSnapshot = { nodes: {}, streams: {}, owners: {}, ownerLeases: {}, at: Date.now() };
    const p = this.settings.keyPrefix;
    for (const kv of res.kvs) {
      const k = kv.key.toString();
      const v = kv.value.toString();
      const rest = k.slice(p.length);
      const slash = rest.indexOf('/');
      const kind = rest.slice(0, slash);
      const name = rest.slice(slash + 1);
      if (!name) continue;
      try {
        if (kind === 'nodes') snap.nodes[name] = JSON.parse(v) as NodeDoc;
        else if (kind === 'streams') snap.streams[name] = JSON.parse(v) as Record<string, unknown>;
        else if (kind === 'owners') {
          snap.owners[name] = v;
          snap.ownerLeases[name] = String(kv.lease);
        }
      } catch {
        this.logger.warn({ key: k }, 'cluster: ignoring a key that is not valid JSON');
      }
    }
    return snap;
  }

  private async heartbeat(snap: ClusterSnapshot): Promise<void> {
    const doc = this.doc();
    await this.client.put(this.key('nodes', this.name)).value(JSON.stringify(doc)).lease(this.leaseId!);
    this.lastHeartbeat = performance.now();
    snap.nodes[this.name] = doc;
  }

  private leaseSpec(id: string): LeaseSpec {
    const { etcd, leaseTtlMs, username, password } = this.settings;
    return { etcd, id, ttlMs: leaseTtlMs, ...(username ? { username, password } : {}) };
  }

  private keep(stream: string, id: string): void {
    this.captures.get(stream)?.stop();
    const k = new LeaseKeeper(this.leaseSpec(id), () => {
      if (this.captures.get(stream) === k) this.captures.delete(stream);
      this.logger.warn({ stream, lease: id }, 'cluster: the capture lease of the stream is gone');
    });
    this.captures.set(stream, k.start());
  }

  private async revokeCapture(id: string): Promise<void> {
    await this.client.leaseClient.leaseRevoke({ ID: id }).catch(() => {});
  }

  /**
   * Adopt capture leases of owner keys naming this node (a previous agent's, kept alive by the
   * supervisors), drop keepers of streams no longer ours, take unowned streams (a new capture lease
   * each, transaction on Create == 0) and hand back preferred ones. true when anything changed.
   */
  private async settleOwnership(snap: ClusterSnapshot): Promise<boolean> {
    for (const [s, owner] of Object.entries(snap.owners)) {
      const id = snap.ownerLeases[s]!;
      if (owner === this.name && this.captures.get(s)?.spec.id !== id) {
        this.keep(s, id);
        this.logger.info({ stream: s, lease: id }, 'cluster: adopted the capture lease of a stream this node owns');
      }
    }
    for (const [s, k] of this.captures) {
      if (snap.owners[s] !== this.name || snap.ownerLeases[s] !== k.spec.id) {
        k.stop();
        this.captures.delete(s);
      }
    }
    const ingest = this.hooks.load().ingest;
    const peers: PeerView[] = Object.values(snap.nodes).map((n) => ({ name: n.name, ingest: n.ingest ?? [], member_for_ms: n.member_for_ms ?? 0 }));
    const plan = planOwnership(this.name, ingest, peers, snap.owners, this.settings.returnAfterMs);
    // a stream removed (or no longer cluster_ingest) here: let its ownership go
    const mine = new Set(ingest.map((i) => i.name));
    for (const [s, owner] of Object.entries(snap.owners)) if (owner === this.name && !mine.has(s)) plan.release.push(s);
    let changed = false;
    const ttlS = Math.max(1, Math.round(this.settings.leaseTtlMs / 1000));
    for (const s of plan.take) {
      const k = this.key('owners', s);
      const id = String((await this.client.leaseClient.leaseGrant({ TTL: ttlS })).ID);
      const r = await this.client.if(k, 'Create', '==', 0).then(this.client.put(k).value(this.name).lease(id)).commit();
      if (r.succeeded) {
        this.keep(s, id);
        this.logger.info({ stream: s, lease: id }, 'cluster: took ownership of the stream');
      } else await this.revokeCapture(id);
      changed = true;
    }
    for (const s of plan.release) {
      const k = this.key('owners', s);
      const r = await this.client.if(k, 'Value', '==', this.name).then(this.client.delete().key(k)).commit();
      if (r.succeeded) this.logger.info({ stream: s }, 'cluster: handed the stream back to its preferred node');
      const keeper = this.captures.get(s);
      if (keeper) {
        keeper.stop();
        this.captures.delete(s);
        await this.revokeCapture(keeper.spec.id);
      }
      changed = true;
    }
    return changed;
  }

  /** The capture lease of a stream this node owns (sent to its supervisor). */
  captureLease(stream: string): LeaseSpec | undefined {
    return this.captures.get(stream)?.spec;
  }

  /** Is this node (by the last fresh snapshot) the owner of `stream`? */
  owns(stream: string): boolean {
    return this.snapshot?.owners[stream] === this.name;
  }

  /** The advertised URL of the node that captures `stream`, when that is another live node. */
  ownerAddress(stream: string): string | undefined {
    const owner = this.snapshot?.owners[stream];
    if (!owner || owner === this.name) return undefined;
    return this.snapshot?.nodes[owner]?.address;
  }

  status(): ClusterStatusDoc {
    return {
      node: this.name,
      state: this.state,
      cluster: this.state === 'ok' ? 'ok' : 'degraded',
      error: this.lastError,
      etcd: this.settings.etcd,
      key_prefix: this.settings.keyPrefix,
      lease_ttl_ms: this.settings.leaseTtlMs,
      lease: this.leaseAlive ? (this.leaseId ?? null) : null,
      advertise: this.settings.advertise,
      snapshot_at: this.snapshot?.at ?? null,
      peers: this.peers(),
      owners: this.snapshot?.owners ?? {},
      shared_streams: Object.keys(this.snapshot?.streams ?? {}).sort(),
    };
  }

  peers(): NodeDoc[] {
    return Object.values(this.snapshot?.nodes ?? {}).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Leave: revoke the lease (the node key and owner keys go with it); bounded when etcd is away. */
  /** Stop the loop (no more snapshots, takes or hand-backs); leases are still kept alive. */
  async halt(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking?.catch(() => {});
  }

  async stop(opts: { revoke: boolean } = { revoke: true }): Promise<void> {
    await this.halt();
    const lease = this.lease;
    const captures = [...this.captures.values()];
    for (const k of captures) k.stop();
    this.captures.clear();
    if (lease && opts.revoke && this.leaseAlive) {
      // leaving: the captures stop with the node, their ownerships go at once
      const all = Promise.all([lease.revoke({ deadline: Date.now() + CALL_TIMEOUT_MS }).catch(() => {}), ...captures.map((k) => this.revokeCapture(k.spec.id))]);
      await Promise.race([all, new Promise((r) => setTimeout(r, CALL_TIMEOUT_MS + 200))]);
    }
    this.dropLease();
    this.state = 'stopped';
    this.client.close();
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

export function defaultInstance(runDir: string): string {
  return `${hostname()}:${runDir}`;
}
