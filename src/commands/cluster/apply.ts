import { Args, Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { configFileFor } from '../../client/index.js';
import { InputError } from '../../core/errors.js';
import { applySharedStreams, parseEndpoints, readClusterSection, type EtcdTarget } from '../../services/cluster.js';
import { table } from '../../client/format.js';
import type { Result } from '../../protocol/results.js';

export default class ClusterApply extends BaseCommand<typeof ClusterApply> {
  static override summary = 'Store the cluster\'s shared streams (validated) in etcd; every node runs them';
  static override description = `FILE is a flux.yaml holding streams: (and the templates: and dvr: storages they use). It is validated first with the same file:line:col errors as "flux validate" (exit 3, nothing written). Then etcd's shared streams become exactly the file's streams, in one transaction: streams missing from the file are removed from the cluster. Every node watches them and reconciles as on a local config change; a node's own flux.yaml streams of the same name win on that node.

A stream with cluster_ingest: true is captured by one live node only (capture_at: NODE prefers a node); other nodes redirect its players there.

etcd comes from --etcd or the cluster: section of --config.

${EXIT_CODE_HELP}`;
  static override args = { file: Args.string({ description: 'YAML file with the shared streams', required: true }) };
  static override flags = {
    etcd: Flags.string({ description: 'etcd endpoint URLs, comma-separated (default: the config\'s cluster.etcd)' }),
    'dry-run': Flags.boolean({ description: 'validate and show what would change; write nothing', default: false }),
  };
  static override examples = ['<%= config.bin %> cluster apply shared.yaml', '<%= config.bin %> cluster apply shared.yaml --dry-run --json'];

  async run(): Promise<void> {
    const f = this.flags;
    let target: EtcdTarget;
    if (f.etcd) target = { etcd: parseEndpoints(f.etcd) };
    else {
      const file = configFileFor(f.config);
      const { cluster } = await readClusterSection(file).catch((e: Error) => {
        throw new InputError(`no --etcd and cannot read the cluster: section of ${file}: ${e.message.split('\n')[0]}`, { code: 'E_NO_CLUSTER' });
      });
      if (!cluster) throw new InputError(`no --etcd and ${file} has no cluster: section (see "flux cluster join")`, { code: 'E_NO_CLUSTER' });
      target = { etcd: cluster.etcd, keyPrefix: cluster.key_prefix, username: cluster.username, password: cluster.password };
    }
    const r = await applySharedStreams(this.args.file, target, { dryRun: f['dry-run'] });
    this.output({ ...r, dry_run: f['dry-run'] } satisfies Result<'cluster apply'>, () => {
      const rows = [...r.added.map((n) => [n, 'added']), ...r.changed.map((n) => [n, 'changed']), ...r.removed.map((n) => [n, 'removed']), ...r.unchanged.map((n) => [n, 'unchanged'])];
      return (f['dry-run'] ? 'dry run: nothing written\n' : '') + (rows.length ? table(['STREAM', 'CHANGE'], rows) : 'no shared streams');
    });
  }
}
