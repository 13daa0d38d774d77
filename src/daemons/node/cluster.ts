/**
 * The node agent's side of the cluster (src/cluster does etcd): which streams this node runs given
 * the cluster's shared streams and ownerships, the 302 to the owner for a stream captured elsewhere,
 * the balancer, and the load figures the heartbeat publishes.
 *
 * What runs here = enabled local streams + enabled shared streams (a local stream of the same name
 * wins), except that a `cluster_ingest` stream runs only on its owner. Fail-static: without a fresh
 * snapshot (etcd away) nothing is started or stopped; a running ingest stream whose owner key is
 * gone keeps running until another owner is confirmed.
 */
import path from 'node:path';
import { secretEquals } from '../../auth/publish-key.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import { DEFAULTS, type ResolvedConfig, type ResolvedStream } from '../../config/model.js';
import type { ConfigInput, StreamInput } from '../../config/schema.js';
import { linkMosaicInputs, resolveStream } from '../../config/resolve.js';
import { ClusterMember, defaultInstance, type ClusterSettings, type ClusterSnapshot, type NodeDoc } from '../../cluster/member.js';
import { pickBalanced, BALANCE_MODES, type BalanceMode } from '../../cluster/balancer.js';

export interface NodeClusterHost {
  logger: Logger;
  version: string;
  runDir: string;
  config(): { input: ConfigInput; resolved: ResolvedConfig };
  /** is a supervisor running this stream here */
  running(name: string): boolean;
  /** pid and control socket of this stream's running supervisor */
  supervisor(name: string): { pid: number; sock: string } | undefined;
  /** PUT a JSON body on a supervisor's control socket; resolves with the HTTP status */
  putToSupervisor(sock: string, path: string, body: unknown): Promise<number>;
  /** re-run the reconciler (serialized by the agent); `first`: also stop orphaned supervisors */
  reconcile(first: boolean): Promise<void>;
}

/** Sliding-window load of this node's playback: distinct clients and bytes sent. */
class LoadMeter {
  private readonly windowMs = 10_000;
  private clients = new Map<string, number>();
  private bytes: { at: number; n: number }[] = [];

  record(ip: string, n: number): void {
    const now = Date.now();
    this.clients.set(ip, now);
    if (n > 0) this.bytes.push({ at: now, n });
  }

  read(): { clients: number; output_bitrate: number } {
    const cut = Date.now() - this.windowMs;
    for (const [ip, at] of this.clients) if (at < cut) this.clients.delete(ip);
    while (this.bytes.length && this.bytes[0]!.at < cut) this.bytes.shift();
    const total = this.bytes.reduce((s, b) => s + b.n, 0);
    return { clients: this.clients.size, output_bitrate: Math.round((total * 8) / (this.windowMs / 1000)) };
  }
}

export class NodeCluster {
  readonly member: ClusterMember;
  private shared: Record<string, ResolvedStream> = {};
  private sharedRaw: Record<string, StreamInput> = {};
  private sharedJson = '';
  private lastPlan = '';
  private peerAddrs = new Map<string, string>();
  private waitingPeers = new Set<string>();
  readonly meter = new LoadMeter();

  readonly settings: ClusterSettings;

  constructor(
    private readonly host: NodeClusterHost,
    /** the resolved cluster: section this is built from (a change restarts the membership) */
    readonly settingsSource: NonNullable<ResolvedConfig['cluster']>,
    defaultAdvertise: string,
  ) {
    const cc = settingsSource;
    const settings: ClusterSettings = {
      etcd: cc.etcd,
      nodeName: cc.nodeName,
      advertise: cc.advertise ?? defaultAdvertise,
      keyPrefix: cc.keyPrefix ?? DEFAULTS.clusterKeyPrefix,
      leaseTtlMs: cc.leaseTtlMs ?? DEFAULTS.clusterLeaseTtlMs,
      returnAfterMs: cc.returnAfterMs ?? DEFAULTS.clusterReturnAfterMs,
      clusterKey: cc.clusterKey,
      maxBitrate: cc.maxBitrate,
      username: cc.username,
      password: cc.password,
    };
    this.settings = settings;
    this.member = new ClusterMember(
      settings,
      {
        version: host.version,
        instance: defaultInstance(host.runDir),
        load: () => ({
          ...this.meter.read(),
          streams_captured: this.ingestStreams().filter((s) => host.running(s.name)).length,
          ingest: this.ingestStreams(),
        }),
        sharedStreams: (streams) => this.updateShared(streams),
        onSnapshot: (snap) => this.onSnapshot(snap),
      },
      host.logger.child({ part: 'cluster' }),
    );
  }

  start(): Promise<void> {
    return this.member.start();
  }

  stop(opts: { revoke: boolean }): Promise<void> {
    return this.member.stop(opts);
  }

  /** enabled local + shared streams, by name (local wins) */
  private allStreams(): Record<string, ResolvedStream> {
    const out: Record<string, ResolvedStream> = {};
    for (const [n, s] of Object.entries(this.shared)) if (!s.disabled) out[n] = s;
    for (const [n, s] of Object.entries(this.host.config().resolved.streams)) {
      if (s.disabled) delete out[n];
      else out[n] = s;
    }
    return out;
  }

  private ingestStreams(): { name: string; captureAt?: string }[] {
    return Object.values(this.allStreams())
      .filter((s) => s.cluster?.ingest)
      .map((s) => ({ name: s.name, ...(s.cluster!.captureAt ? { captureAt: s.cluster!.captureAt } : {}), ...(this.sharedStream(s.name) === s ? { shared: true } : {}) }));
  }

  /** The streams this node should run now. */
  desired(): Record<string, ResolvedStream> {
    const snap = this.member.state === 'ok' ? this.member.snapshot : undefined;
    const out: Record<string, ResolvedStream> = {};
    for (const [n, s0] of Object.entries(this.allStreams())) {
      const s = this.withPeerInputs(s0);
      if (!s) continue;
      if (!s.cluster?.ingest) {
        out[n] = s;
        continue;
      }
      if (!snap) {
        if (this.host.running(n)) out[n] = s; // fail-static
        continue;
      }
      const owner = snap.owners[n];
      if (owner === this.member.name || (owner === undefined && this.host.running(n))) out[n] = s;
    }
    return out;
  }

  /**
   * `peer://NODE[/STREAM]` inputs → `tshttp://<NODE's advertised host>/<STREAM>/mpegts`, with the
   * cluster key. The last known address is kept while etcd is away; a stream whose peer was never
   * seen waits (undefined) rather than running on a made-up address.
   */
  private withPeerInputs(s: ResolvedStream): ResolvedStream | undefined {
    if (!s.inputs.some((i) => i.scheme === 'peer')) return s;
    const inputs = [];
    for (const i of s.inputs) {
      if (i.scheme !== 'peer') {
        inputs.push(i);
        continue;
      }
      const m = /^peer:\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(i.url);
      const node = m?.[1];
      const addr = node ? this.member.snapshot?.nodes[node]?.address ?? this.peerAddrs.get(node) : undefined;
      if (!node || !addr) {
        if (!this.waitingPeers.has(s.name)) this.host.logger.warn({ stream: s.name, input: i.url }, 'cluster: peer input waits for its node to appear in the cluster');
        this.waitingPeers.add(s.name);
        return undefined;
      }
      this.peerAddrs.set(node, addr);
      const remote = (m![2] ?? '').replace(/^\/+|\/+$/g, '') || s.name;
      const base = addr.replace(/^http(s?):\/\//i, 'tshttp$1://').replace(/\/+$/, '');
      const url = `${base}/${remote.split('/').map(encodeURIComponent).join('/')}/mpegts`;
      const headers = this.settings.clusterKey ? { ...i.headers, [CLUSTER_KEY_HEADER]: this.settings.clusterKey } : i.headers;
      inputs.push({ ...i, url, scheme: url.startsWith('tshttps') ? 'tshttps' : 'tshttp', ...(headers ? { headers } : {}) });
    }
    this.waitingPeers.delete(s.name);
    return { ...s, inputs };
  }

  /**
   * Node-to-node requests carry the cluster key; one with a wrong key (or to a node without one) is
   * refused with 403 and logged. Compared in constant time. Requests without the header are players.
   */
  checkPeerKey(req: IncomingMessage, res: ServerResponse): boolean {
    const got = req.headers[CLUSTER_KEY_HEADER];
    if (got === undefined) return true;
    const want = this.settings.clusterKey;
    if (want !== undefined && secretEquals(String(got), want)) return true;
    this.host.logger.warn({ from: req.socket.remoteAddress, url: req.url }, 'cluster: node-to-node request with a wrong cluster key refused');
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('wrong cluster key\n');
    return false;
  }

  sharedStream(name: string): ResolvedStream | undefined {
    return Object.prototype.hasOwnProperty.call(this.shared, name) ? this.shared[name] : undefined;
  }

  /** The shared streams as stored (for the API's stream documents). */
  sharedInputs(): Record<string, StreamInput> {
    return this.sharedRaw;
  }

  /** Shared stream names (for listings). */
  sharedNames(): string[] {
    return Object.keys(this.shared).sort();
  }

  /** (supervisor pid, lease) pairs already handed over */
  private leasesSent = new Map<string, string>();

  /**
   * Hand each owned stream's capture lease to its supervisor, which keeps it alive too: the
   * ownership then survives a crash of this agent as long as the capture runs.
   */
  private async syncSupervisorLeases(): Promise<void> {
    for (const name of Object.keys(this.member.snapshot?.owners ?? {})) {
      const spec = this.member.captureLease(name);
      const sup = this.host.supervisor(name);
      if (!spec || !sup) {
        this.leasesSent.delete(name);
        continue;
      }
      const tag = `${sup.pid}:${spec.id}`;
      if (this.leasesSent.get(name) === tag) continue;
      const status = await this.host.putToSupervisor(sup.sock, '/lease', spec).catch(() => 0);
      if (status === 200) this.leasesSent.set(name, tag);
    }
  }

  private updateShared(streams: ClusterSnapshot['streams']): void {
    const json = JSON.stringify(streams);
    if (json === this.sharedJson) return;
    this.sharedJson = json;
    this.sharedRaw = streams as Record<string, StreamInput>;
    this.shared = this.resolveShared(streams);
    this.host.logger.info({ streams: Object.keys(this.shared) }, 'cluster: shared streams changed');
  }

  private async onSnapshot(snap: ClusterSnapshot): Promise<void> {
    this.updateShared(snap.streams);
    await this.syncSupervisorLeases();
    const want = this.desired();
    const plan = JSON.stringify(Object.keys(want).sort()) + JSON.stringify(Object.fromEntries(Object.entries(this.shared).map(([n, s]) => [n, s])));
    if (plan === this.lastPlan) return;
    const first = this.lastPlan === '';
    this.lastPlan = plan;
    // not awaited: the agent serializes reconciles, and a reconcile may be waiting on this member's start
    this.host.reconcile(first).catch((e: Error) => this.host.logger.error({ err: e.message }, 'cluster: reconcile failed'));
  }

  private resolveShared(streams: Record<string, Record<string, unknown>>): Record<string, ResolvedStream> {
    const { input, resolved } = this.host.config();
    const ctx = {
      baseDir: resolved.file ? path.dirname(resolved.file) : process.cwd(),
      dataDir: resolved.server.dataDir,
      storages: resolved.storages,
    };
    const out: Record<string, ResolvedStream> = {};
    for (const [n, raw] of Object.entries(streams)) {
      try {
        out[n] = resolveStream(input, n, raw as StreamInput, ctx);
      } catch (e) {
        this.host.logger.error({ stream: n, err: (e as Error).message }, 'cluster: shared stream definition unusable; skipped');
      }
    }
    // a shared mosaic's tiles may be shared streams or the node's own (which win on a name clash)
    linkMosaicInputs({ ...out, ...resolved.streams }, ctx.dataDir, out);
    return out;
  }

  /** The cluster stream a playback path belongs to (longest name that prefixes it). */
  private streamOfPath(p: string): string | undefined {
    const snap = this.member.snapshot;
    if (!snap) return undefined;
    let best: string | undefined;
    for (const n of Object.keys(snap.owners)) {
      if (p.startsWith('/' + n + '/') && (!best || n.length > best.length)) best = n;
    }
    return best;
  }

  /**
   * Cluster playback routes, before the local playback handler: `/balance/<stream>/<path>` and the
   * 302 to the owner for a cluster_ingest stream this node does not capture. true = answered.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const p = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q);
    if (p.startsWith('/balance/')) {
      const rest = p.slice('/balance'.length);
      const mode = (new URLSearchParams(search.slice(1)).get('mode') ?? 'clients') as BalanceMode;
      if (!BALANCE_MODES.includes(mode)) {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`unknown balancer mode "${mode}": expected ${BALANCE_MODES.join(', ')}\n`);
        return true;
      }
      const name = this.streamOfPath(rest) ?? Object.keys(this.allStreams()).filter((n) => rest.startsWith('/' + n + '/')).sort((a, b) => b.length - a.length)[0];
      if (!name) return notFound(res, 'no such stream in the cluster');
      const target = pickBalanced(this.candidates(name), mode);
      if (!target) return notFound(res, `no live node can serve "${name}"`);
      redirect(res, joinUrl(target.address, rest + search));
      return true;
    }
    const name = this.streamOfPath(p);
    if (!name || this.host.running(name)) return false;
    const addr = this.member.ownerAddress(name);
    if (!addr) return false;
    redirect(res, joinUrl(addr, url));
    return true;
  }

  /** Nodes that can serve a stream: its owner for an ingest stream, else every node that runs it. */
  private candidates(name: string): NodeDoc[] {
    const peers = this.member.peers();
    const owner = this.member.snapshot?.owners[name];
    if (owner) return peers.filter((n) => n.name === owner);
    const shared = name in this.shared;
    return shared ? peers : peers.filter((n) => n.name === this.member.name);
  }
}

export { CLUSTER_KEY_HEADER } from '../../protocol/cluster-key.js';
import { CLUSTER_KEY_HEADER } from '../../protocol/cluster-key.js';

function joinUrl(base: string, pathAndQuery: string): string {
  return base.replace(/\/+$/, '') + pathAndQuery;
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-cache', 'content-length': 0 });
  res.end();
}

function notFound(res: ServerResponse, msg: string): true {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(msg + '\n');
  return true;
}
