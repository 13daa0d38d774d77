/**
 * Cluster tests: one real etcd and N real nodes on one machine, each in its own temp dir (config,
 * run dir, data dir) with its own HTTP port, all members of the etcd's cluster.
 */
import { startNode, tempDir, waitFor, type Cleanup, type NodeHandle } from '../helpers/index.js';
import { startEtcd, type EtcdHandle } from '../helpers/etcd.js';

export interface ClusterNode extends NodeHandle {
  name: string;
  /** GET /api/v3/cluster/status through the socket */
  clusterStatus(): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function startEtcdCluster(t: Cleanup): Promise<{ etcd: EtcdHandle; dir: string }> {
  const dir = await tempDir(t, 'fluxc-');
  const etcd = await startEtcd(t, dir);
  return { etcd, dir };
}

export interface ClusterNodeOptions {
  streams?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  leaseTtl?: string;
}

export async function startClusterNode(t: Cleanup, etcd: EtcdHandle, name: string, opts: ClusterNodeOptions = {}): Promise<ClusterNode> {
  const dir = await tempDir(t, `fx${name}-`);
  const node = await startNode(t, {
    dir,
    streams: opts.streams ?? {},
    extra: { cluster: { etcd: [etcd.url], node_name: name, lease_ttl: opts.leaseTtl ?? '3s', return_after: '3s', ...opts.cluster }, ...opts.extra },
  });
  return Object.assign(node, {
    name,
    clusterStatus: async () => (await node.api('GET', '/api/v3/cluster/status')).json,
  });
}

/** Wait until `node` sees exactly `names` as live peers. */
export async function waitPeers(node: ClusterNode, names: string[], timeoutMs = 15_000): Promise<void> {
  const want = [...names].sort().join(',');
  await waitFor(
    async () => {
      const st = await node.clusterStatus();
      return st?.cluster === 'ok' && (st.peers as { name: string }[]).map((p) => p.name).sort().join(',') === want;
    },
    { timeoutMs, message: `${node.name} to see peers ${want}` },
  );
}
