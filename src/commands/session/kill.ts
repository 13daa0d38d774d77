import { Args } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { ApiError, InputError } from '../../core/errors.js';
import { FluxClient } from '../../client/index.js';
import type { Result } from '../../protocol/results.js';

export default class SessionKill extends BaseCommand<typeof SessionKill> {
  static override summary = 'Close a play session: its next request is refused (403)';
  static override description = `Exit 1 when there is no such session.\n\n${EXIT_CODE_HELP}`;
  static override args = { id: Args.string({ description: 'session id (from flux session ls)', required: true }) };
  static override examples = ['<%= config.bin %> session kill 3q2-Xk1aQ0Wm9c2d'];

  async run(): Promise<void> {
    const id = this.args.id;
    const client = FluxClient.forConfig(this.flags.config);
    try {
      await client.killSession(id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new InputError(`session "${id}" not found`, { code: 'E_NOT_FOUND' });
      throw e;
    } finally {
      await client.close();
    }
    this.output({ killed: id } satisfies Result<'session kill'>, () => `session ${id} closed`);
  }
}
