import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { FluxClient, configFileFor, locateNode } from '../../client/index.js';
import { InputError, NodeUnreachableError } from '../../core/errors.js';
import { joinConfig, parseEndpoints } from '../../services/cluster.js';
import { sleep } from '../../protocol/proc.js';
import type { ClusterStatusDoc } from '../../protocol/api.js';
import type { Result } from '../../protocol/results.js';

export default class ClusterJoin extends BaseCommand<typeof ClusterJoin> {
  static override summary = 'Join a cluster: write the cluster: section of the config and tell the running node';
  static override description = `Checks that etcd answers and that the node name is free first: an unreachable etcd exits 4 and a taken name exits 1, with the config unchanged. The config is edited atomically with its comments kept; a running node joins at once (without one, at the next "flux node start").

${EXIT_CODE_HELP}`;
  static override flags = {
    etcd: Flags.string({ description: 'etcd endpoint URLs, comma-separated (http://10.0.0.1:2379,http://10.0.0.2:2379)', required: true }),
    name: Flags.string({ description: 'this node\'s name in the cluster (default: the config\'s node_name, else the hostname)' }),
    advertise: Flags.string({ description: 'URL other nodes and players use to reach this node (default http://<host>:<http port>)' }),
  };
  static override examples = [
    '<%= config.bin %> cluster join --etcd http://127.0.0.1:2379 --name n1',
    '<%= config.bin %> cluster join --etcd http://10.0.0.1:2379,http://10.0.0.2:2379 --name edge1 --advertise http://edge1.example.com:8080',
  ];

  async run(): Promise<void> {
    const f = this.flags;
    const etcd = parseEndpoints(f.etcd);
    if (f.advertise && !/^https?:\/\/[^/]+/.test(f.advertise)) throw new InputError(`--advertise: "${f.advertise}" is not an http:// or https:// URL`, { code: 'E_USAGE', exitCode: 2 });
    const file = configFileFor(f.config);
    const section = await joinConfig({ file, etcd, name: f.name, advertise: f.advertise }, locateNode(f.config).runDir);
    const client = FluxClient.forConfig(f.config);
    let status: ClusterStatusDoc | undefined;
    try {
      await client.reloadConfig();
      // the node joins in the background of the reload: wait for its verdict
      const until = Date.now() + 10_000;
      for (;;) {
        status = await client.request<ClusterStatusDoc>('GET', '/api/v3/cluster/status').catch(() => undefined);
        if (status && (status.state === 'ok' || status.state === 'refused')) break;
        if (Date.now() > until) break;
        await sleep(200);
      }
    } catch (e) {
      if (!(e instanceof NodeUnreachableError)) throw e;
      this.info(`no node running: ${file} now has the cluster: section; the node joins with the next "flux node start"`);
    } finally {
      await client.close();
    }
    if (status?.state === 'refused') throw new InputError(`the node could not join: ${status.error}`, { code: 'E_CLUSTER_DUPLICATE' });
    this.output({ joined: true, node: section.node_name!, etcd, config_file: file, applied: status !== undefined, cluster: status?.cluster ?? null, peers: status?.peers.map((p) => p.name) ?? [] } satisfies Result<'cluster join'>, () =>
      status
        ? `node "${section.node_name}" joined the cluster (${status.cluster}): ${status.peers.map((p) => p.name).join(', ') || 'no peers yet'}`
        : `node "${section.node_name}" will join the cluster at ${etcd.join(',')}`,
    );
  }
}
