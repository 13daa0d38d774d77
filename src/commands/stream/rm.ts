import { Args } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { InputError, NodeUnreachableError, ApiError } from '../../core/errors.js';
import { FluxClient, configFileFor } from '../../client/index.js';

export default class StreamRm extends BaseCommand<typeof StreamRm> {
  static override summary = 'Remove a stream (stops it when a node runs; edits the config file otherwise)';
  static override description = `Exit 1 when there is no such stream.\n\n${EXIT_CODE_HELP}`;
  static override aliases = ['stream:remove'];
  static override args = { name: Args.string({ description: 'stream name', required: true }) };
  static override examples = ['<%= config.bin %> stream rm cam1'];

  async run(): Promise<void> {
    const name = this.args.name;
    const client = FluxClient.forConfig(this.flags.config);
    let live = true;
    try {
      await client.deleteStream(name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new InputError(`stream "${name}" not found`, { code: 'E_NOT_FOUND' });
      if (e instanceof ApiError && e.status === 400) throw new InputError(e.message, { code: 'E_INVALID_NAME' });
      if (!(e instanceof NodeUnreachableError)) throw e;
      live = false;
      const file = configFileFor(this.flags.config);
      await (await import('../../client/offline.js')).offlineRemove(file, name);
      process.stderr.write(`no node running: removed "${name}" from ${file}` + '\n');
    } finally {
      await client.close();
    }
    this.output({ removed: name, applied: live }, () => `stream "${name}" removed${live ? ' and stopped' : ''}`);
  }
}
