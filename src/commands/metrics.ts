import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { FluxClient } from '../client/index.js';
import { metricsText } from '../client/events.js';
import type { Result } from '../protocol/results.js';

export default class Metrics extends BaseCommand<typeof Metrics> {
  static override summary = 'Print the node\'s Prometheus metrics (what /metrics serves on the HTTP port)';
  static override description = `Reads them over the node's socket (no HTTP credentials needed). --json prints {"text": …}.\n\n${EXIT_CODE_HELP}`;
  static override examples = ['<%= config.bin %> metrics | grep flux_stream_up'];

  async run(): Promise<void> {
    const client = FluxClient.forConfig(this.flags.config);
    try {
      const text = await metricsText(client);
      this.output({ text } satisfies Result<'metrics'>, () => text);
    } finally {
      await client.close();
    }
  }
}
