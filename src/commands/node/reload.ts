import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { ApiError, ConfigError, InputError, type ConfigIssue } from '../../core/errors.js';
import { FluxClient, type PositionedError } from '../../client/index.js';
import type { Result } from '../../protocol/results.js';

export default class NodeReload extends BaseCommand<typeof NodeReload> {
  static override summary = 'Tell the running node to re-read its config file and apply it';
  static override description = `The node also re-reads the file by itself when it changes (and on SIGHUP); this command does it now and prints what changed: streams started, stopped, restarted (only changed streams restart).

An invalid file is refused with file:line:col errors (exit 3) and the running config is kept. A file that is empty, or that has lost every stream while streams run, is not applied (exit 1): it looks like a file caught while being written. A stream-less file is applied by the node once it stays unchanged for 5 s; --force applies either at once (every stream stops). A reload never removes the API users (auth.users) of a running node: restart it to turn API auth off.

Exit 4 when no node runs.

${EXIT_CODE_HELP}`;
  static override flags = {
    force: Flags.boolean({ description: 'apply an empty or stream-less config too (stops every stream)', default: false }),
  };
  static override examples = ['<%= config.bin %> node reload', '<%= config.bin %> node reload --force --json'];

  async run(): Promise<void> {
    const client = FluxClient.forConfig(this.flags.config);
    try {
      let r;
      try {
        r = await client.reloadConfig({ force: this.flags.force });
      } catch (e) {
        if (e instanceof ApiError && e.status === 400) {
          const body = e.body as { errors?: PositionedError[] } | undefined;
          if (body?.errors?.length) {
            const file = (await client.node().catch(() => undefined))?.config_file ?? this.configPath();
            const issues: ConfigIssue[] = body.errors.map((x) => ({ file, line: x.line, col: x.col, message: x.error, path: x.path }));
            throw new ConfigError(issues);
          }
        }
        if (e instanceof ApiError && e.status === 409) throw new InputError(e.message, { code: 'E_SUSPECT_CONFIG' });
        throw e;
      }
      const c = r.changes;
      this.output({ reloaded: true, forced: this.flags.force, changes: c } satisfies Result<'node reload'>, () => {
        const parts = [
          c.started.length ? `started ${c.started.join(', ')}` : '',
          c.stopped.length ? `stopped ${c.stopped.join(', ')}` : '',
          c.restarted.length ? `restarted ${c.restarted.join(', ')}` : '',
          `${c.unchanged.length + c.adopted.length} unchanged`,
        ].filter(Boolean);
        return `config reloaded${this.flags.force ? ' (forced)' : ''}: ${parts.join('; ')}`;
      });
    } finally {
      await client.close();
    }
  }
}
