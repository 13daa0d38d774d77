import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { FluxClient } from '../../client/index.js';
import { duration, kv } from '../../client/format.js';

export default class NodeStatus extends BaseCommand<typeof NodeStatus> {
  static override summary = 'Show the running node: uptime, version, config, streams, ffmpeg';
  static override description = `Exit 4 when no node runs.\n\n${EXIT_CODE_HELP}`;
  static override examples = ['<%= config.bin %> node status', '<%= config.bin %> node status --json'];

  async run(): Promise<void> {
    const client = FluxClient.forConfig(this.flags.config);
    try {
      const n = await client.node();
      this.output(n, () =>
        kv([
          ['node', `${n.name} (pid ${n.pid})`],
          ['version', n.version],
          ['uptime', duration(n.uptime_ms)],
          ['config', n.config_file ?? 'embedded demo (no config file)'],
          ['streams', `${n.streams_count} configured, ${n.streams_running} running${n.streams_disabled ? `, ${n.streams_disabled} disabled` : ''}`],
          ['restarts', `${n.supervisor_restarts} supervisor restarts`],
          ['ffmpeg', `${n.ffmpeg.path} (${n.ffmpeg.source})${n.ffmpeg.version ? ` — ${n.ffmpeg.version}` : ''}`],
          ['http', n.http.url],
          ['api', `${n.api_url} (${n.auth.users ? `${n.auth.users} users, Basic auth` : 'loopback only'})`],
          ['rtmp', n.rtmp ?? 'off'],
          ['srt', n.srt ?? 'off'],
          ['socket', n.socket],
          ['data', n.data_dir],
          ['log', n.log_file ?? 'stdout'],
          ['cluster', n.cluster ?? undefined],
          ['reloads', `${n.reloads.ok} ok, ${n.reloads.failed} refused${n.reloads.last_error ? ` (last: ${n.reloads.last_error.split('\n')[0]})` : ''}`],
        ]),
      );
    } finally {
      await client.close();
    }
  }
}
