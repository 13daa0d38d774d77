import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { FluxClient } from '../../client/index.js';
import { ago, table } from '../../client/format.js';

export default class SessionLs extends BaseCommand<typeof SessionLs> {
  static override summary = 'List play sessions of the running node (id, stream, address, protocol, user, age)';
  static override description = `--json prints the API document {"sessions":[…],"estimated_count":N} (GET /api/v3/sessions).\n\n${EXIT_CODE_HELP}`;
  static override aliases = ['session:list'];
  static override flags = {
    stream: Flags.string({ description: 'only sessions of this stream' }),
  };
  static override examples = ['<%= config.bin %> session ls', '<%= config.bin %> session ls --stream live --json'];

  async run(): Promise<void> {
    const client = FluxClient.forConfig(this.flags.config);
    try {
      const list = await client.listSessions({ name: this.flags.stream });
      this.output(list, () =>
        list.sessions.length
          ? table(
              ['ID', 'STREAM', 'IP', 'PROTO', 'USER', 'TOKEN', 'OPENED', 'REQUESTS'],
              list.sessions.map((s) => [s.id, s.name, s.ip, s.proto, s.user_id ?? '-', s.token ? '…' + s.token.slice(-6) : '-', ago(s.opened_at), s.requests]),
            )
          : 'no sessions',
      );
    } finally {
      await client.close();
    }
  }
}
