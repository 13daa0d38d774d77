import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { FluxClient } from '../client/index.js';
import { STREAM_HEAD, duration, streamRows, table } from '../client/format.js';

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Node and streams at a glance';
  static override description = `One snapshot: the node line and the stream table (--watch: the live board of \`flux top\`). --json gives {"node":…, "streams":…}. Exit 4 when no node runs.\n\n${EXIT_CODE_HELP}`;
  static override flags = {
    watch: Flags.boolean({ char: 'w', description: 'keep watching: opens `flux top` (the live board)', default: false }),
  };
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --watch'];

  async run(): Promise<void> {
    if (this.flags.watch) {
      const { runTopCommand } = await import('./top.js');
      return runTopCommand({ config: this.flags.config, interval: '1', plain: false, json: this.flags.json });
    }
    const client = FluxClient.forConfig(this.flags.config);
    try {
      const [node, list] = await Promise.all([client.node(), client.listStreams()]);
      const alive = list.streams.filter((s) => s.stats?.alive).length;
      this.output({ node, streams: list }, () =>
        [
          `node ${node.name} (pid ${node.pid}) up ${duration(node.uptime_ms)}, flux ${node.version}, ${node.http.url}`,
          `${list.estimated_count} streams, ${alive} alive, ${node.supervisor_restarts} supervisor restarts`,
          '',
          list.streams.length ? table(STREAM_HEAD, streamRows(list.streams)) : 'no streams',
        ].join('\n'),
      );
    } finally {
      await client.close();
    }
  }
}
