import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { FluxClient } from '../../client/index.js';
import { ago, bitrate, duration, table } from '../../client/format.js';
import type { ClusterStatusDoc } from '../../protocol/api.js';

export default class ClusterStatus extends BaseCommand<typeof ClusterStatus> {
  static override summary = 'List the cluster\'s nodes: role, address, version, uptime, CPU, captures, clients, output bitrate, last heartbeat';
  static override description = `Asks the local node (its view of etcd). "cluster: degraded" means the node cannot reach etcd and keeps running what it runs.

Exit 4 when no node runs; 1 when the node is not in a cluster.

${EXIT_CODE_HELP}`;
  static override examples = ['<%= config.bin %> cluster status', '<%= config.bin %> cluster status --json'];

  async run(): Promise<void> {
    const client = FluxClient.forConfig(this.flags.config);
    try {
      const st = await client.request<ClusterStatusDoc>('GET', '/api/v3/cluster/status');
      this.output(st, () => {
        const head = `node ${st.node}: cluster ${st.cluster}${st.error ? ` (${st.error})` : ''}; etcd ${st.etcd.join(',')}`;
        const rows = st.peers.map((n) => [
          n.name + (n.name === st.node ? ' *' : ''),
          n.role,
          n.address,
          n.version,
          duration(n.uptime * 1000),
          `${n.cpu}%`,
          n.streams_captured,
          n.clients,
          bitrate(n.output_bitrate),
          ago(n.last_heartbeat),
        ]);
        const owners = Object.entries(st.owners).sort(([a], [b]) => (a < b ? -1 : 1));
        return [
          head,
          table(['NODE', 'ROLE', 'ADDRESS', 'VERSION', 'UPTIME', 'CPU', 'CAPTURES', 'CLIENTS', 'OUTPUT', 'HEARTBEAT'], rows),
          ...(owners.length ? ['', table(['STREAM', 'CAPTURED BY'], owners)] : []),
        ].join('\n');
      });
    } finally {
      await client.close();
    }
  }
}
