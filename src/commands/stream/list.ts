import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { NodeUnreachableError } from '../../core/errors.js';
import { FluxClient, configFileFor, type StreamList } from '../../client/index.js';
import { STREAM_HEAD, streamRows, table } from '../../client/format.js';

export default class StreamListCommand extends BaseCommand<typeof StreamListCommand> {
  static override summary = 'List streams with their live state (name, status, input, bitrate, uptime, restarts)';
  static override description = `--json prints the API document {"streams":[…],"estimated_count":N}. Without a running node the config file is listed (status "stopped").\n\n${EXIT_CODE_HELP}`;
  static override aliases = ['stream:ls'];
  static override flags = {
    prefix: Flags.string({ description: 'only streams whose name starts with this' }),
  };
  static override examples = ['<%= config.bin %> stream list', '<%= config.bin %> stream list --json | jq ".streams[].name"'];

  async run(): Promise<void> {
    const client = FluxClient.forConfig(this.flags.config);
    let list: StreamList;
    try {
      list = await client.listStreams({ prefix: this.flags.prefix });
    } catch (e) {
      if (!(e instanceof NodeUnreachableError)) throw e;
      const file = configFileFor(this.flags.config);
      list = await (await import('../../client/offline.js')).offlineList(file);
      if (this.flags.prefix) {
        list.streams = list.streams.filter((s) => s.name.startsWith(this.flags.prefix!));
        list.estimated_count = list.streams.length;
      }
      process.stderr.write(`no node running: streams of ${file}` + '\n');
    } finally {
      await client.close();
    }
    this.output(list, () => (list.streams.length ? table(STREAM_HEAD, streamRows(list.streams)) : 'no streams'));
  }
}
