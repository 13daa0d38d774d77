import { Args, Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { UsageError } from '../../core/errors.js';

export default class AuthSign extends BaseCommand<typeof AuthSign> {
  static override summary = 'Print a signed play URL (Flussonic securetoken) for a stream';
  static override description = `The token is \`sha1(stream + ip + start + end + secret + salt)-salt-end-start\`, signed with the \
stream's auth.securetoken (or auth.securetoken for a stream with secure_link: true) from the config file. Without --ip the link \
plays from any address; with --ip only from that one. The node accepts it from start to end, with 30 s of clock skew.\n\n${EXIT_CODE_HELP}`;
  static override args = { stream: Args.string({ description: 'stream name', required: true }) };
  static override flags = {
    ttl: Flags.string({ description: 'how long the link plays, e.g. 1h, 90m', default: '1h' }),
    ip: Flags.string({ description: 'bind the link to this client address' }),
    'base-url': Flags.string({ description: 'scheme://host:port players use (default: from server.host and server.http)' }),
  };
  static override examples = [
    '<%= config.bin %> auth sign live --ttl 1h',
    '<%= config.bin %> auth sign cams/door --ttl 10m --ip 203.0.113.7 --json',
  ];

  async run(): Promise<void> {
    const { parseDuration, UnitError } = await import('../../config/units.js');
    let ttlMs: number;
    try {
      ttlMs = parseDuration(this.flags.ttl);
    } catch (e) {
      throw new UsageError(`--ttl: ${e instanceof UnitError ? e.message : String(e)}`);
    }
    const { configFileFor } = await import('../../protocol/locate.js');
    const { loadConfigFile } = await import('../../config/load.js');
    const { signLink } = await import('../../services/sign.js');
    const cfg = await loadConfigFile(configFileFor(this.flags.config));
    const link = signLink(cfg.resolved, { stream: this.args.stream, ttlMs, ip: this.flags.ip, baseUrl: this.flags['base-url'] });
    this.output(link, () => link.url);
  }
}
