import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { InputError } from '../../core/errors.js';

export default class ConfigShow extends BaseCommand<typeof ConfigShow> {
  static override summary = 'Print the resolved config (templates applied, units normalized)';
  static override description = `Loads and validates the config, applies templates and defaults, normalizes units \
(durations in ms, sizes in bytes, bitrates in bit/s) and makes paths absolute: what the node and the stream \
supervisors receive. Prints YAML, or JSON with --json. An invalid config exits 3 with every problem on stderr.`;
  static override args = { file: Args.string({ description: 'config file (default: --config, $FLUX_CONFIG or ./flux.yaml)' }) };
  static override flags = {
    stream: Flags.string({ char: 's', description: 'print only this stream' }),
  };
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --json -c /etc/flux/flux.yaml', '<%= config.bin %> config show --stream cams/door'];

  async run(): Promise<void> {
    const { loadConfigFile } = await import('../../config/load.js');
    const loaded = await loadConfigFile(this.args.file ?? this.configPath());
    let result: unknown = loaded.resolved;
    if (this.flags.stream !== undefined) {
      result = loaded.resolved.streams[this.flags.stream];
      if (!result) throw new InputError(`stream "${this.flags.stream}" not found in ${loaded.file}`, { code: 'E_NOT_FOUND' });
    }
    const plain = JSON.parse(JSON.stringify(result));
    if (this.flags.json) {
      process.stdout.write(JSON.stringify(plain, null, 2) + '\n');
      return;
    }
    const { stringify } = await import('yaml');
    process.stdout.write(stringify(plain, { lineWidth: 0 }));
  }
}
