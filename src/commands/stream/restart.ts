import { Args } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { ApiError, InputError } from '../../core/errors.js';
import { FluxClient } from '../../client/index.js';

export default class StreamRestart extends BaseCommand<typeof StreamRestart> {
  static override summary = 'Restart a stream\'s inputs and ffmpeg children (needs a running node)';
  static override description = `Exit 4 when no node runs.\n\n${EXIT_CODE_HELP}`;
  static override args = { name: Args.string({ description: 'stream name', required: true }) };
  static override examples = ['<%= config.bin %> stream restart cam1'];

  async run(): Promise<void> {
    const name = this.args.name;
    const client = FluxClient.forConfig(this.flags.config);
    try {
      const r = await client.restartStream(name);
      this.output(r, () => `stream "${name}" restarted`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new InputError(`stream "${name}" not found`, { code: 'E_NOT_FOUND' });
      throw e;
    } finally {
      await client.close();
    }
  }
}
