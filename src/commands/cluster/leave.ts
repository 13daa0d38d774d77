import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { FluxClient, configFileFor } from '../../client/index.js';
import { InputError, NodeUnreachableError } from '../../core/errors.js';
import { leaveConfig } from '../../services/cluster.js';
import type { Result } from '../../protocol/results.js';

export default class ClusterLeave extends BaseCommand<typeof ClusterLeave> {
  static override summary = 'Leave the cluster: remove the cluster: section and tell the running node';
  static override description = `The running node revokes its lease: it leaves every node's list at once and the streams it captured for the cluster move to other nodes. Shared streams stop on this node; its own streams keep running.

${EXIT_CODE_HELP}`;
  static override examples = ['<%= config.bin %> cluster leave'];

  async run(): Promise<void> {
    const file = configFileFor(this.flags.config);
    if (!(await leaveConfig(file))) throw new InputError(`${file} has no cluster: section: this node is not in a cluster`, { code: 'E_NO_CLUSTER' });
    const client = FluxClient.forConfig(this.flags.config);
    let applied = true;
    try {
      await client.reloadConfig();
    } catch (e) {
      if (!(e instanceof NodeUnreachableError)) throw e;
      applied = false;
    } finally {
      await client.close();
    }
    this.output({ left: true, config_file: file, applied } satisfies Result<'cluster leave'>, () => (applied ? 'left the cluster' : `removed the cluster: section from ${file}`));
  }
}
