/**
 * `flux stream args NAME`: the ffmpeg command lines a stream runs (see services/stream-args.ts).
 */
import { Args, Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { FluxClient } from '../../client/index.js';
import { configFileFor } from '../../protocol/locate.js';
import { argsFromConfig, argsFromNode, renderArgs } from '../../services/stream-args.js';

export type { ArgsLine, ArgsResult } from '../../services/stream-args.js';

export default class StreamArgs extends BaseCommand<typeof StreamArgs> {
  static override summary = 'Print the ffmpeg command lines a stream runs (per input and push target)';
  static override description = `Built from the config file with the same builders the supervisor uses; --live asks the node API for the command lines the running supervisor reports.
An input that needs no ffmpeg (udp, tshttp, publish without a transcoder) is shown as native.
Command lines are shell-quoted for reading and pasting; Flux itself never uses a shell.

${EXIT_CODE_HELP}`;
  static override args = { name: Args.string({ description: 'stream name', required: true }) };
  static override flags = {
    live: Flags.boolean({ description: 'print the command lines of the running supervisor (needs a running node)', default: false }),
  };
  static override examples = ['<%= config.bin %> stream args cam1', '<%= config.bin %> stream args tv/news --json', '<%= config.bin %> stream args cam1 --live'];

  async run(): Promise<void> {
    const name = this.args.name;
    if (this.flags.live) {
      const client = FluxClient.forConfig(this.flags.config);
      try {
        const result = await argsFromNode(client, name);
        this.output(result, () => renderArgs(result));
      } finally {
        await client.close();
      }
      return;
    }
    const result = await argsFromConfig(configFileFor(this.flags.config), name, (line) => this.info(line));
    this.output(result, () => renderArgs(result));
    if (result.lines.some((l) => l.error)) process.exitCode = 1;
  }
}
