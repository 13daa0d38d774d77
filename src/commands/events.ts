import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { FluxClient } from '../client/index.js';
import { followEvents, formatEvent, listEvents, type EventDoc } from '../client/events.js';

export default class Events extends BaseCommand<typeof Events> {
  static override summary = 'Print the node\'s events (stream_started, source_switched, push_failed …); --follow keeps printing';
  static override description = `The node keeps its last 10,000 events. With --json every event is one JSON line (NDJSON) with the stable fields event_id, event, utc_ms, node, stream, reason (and input, from, to, url, message where they apply).

--follow prints the last --limit events (default 10), then each new one as it happens, until interrupted; exit 4 when the node goes away.

${EXIT_CODE_HELP}`;
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'keep printing new events as they happen', default: false }),
    stream: Flags.string({ char: 's', description: 'only this stream\'s events' }),
    limit: Flags.integer({ char: 'n', description: 'print at most the newest N (default: all kept; 10 with --follow)', min: 0 }),
    since: Flags.integer({ description: 'only events after this event_id', min: 0 }),
  };
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events --follow --stream cam1',
    '<%= config.bin %> events --json | jq -c \'select(.event == "source_switched")\'',
  ];

  async run(): Promise<void> {
    const f = this.flags;
    const client = FluxClient.forConfig(f.config);
    const print = (e: EventDoc) => process.stdout.write((f.json ? JSON.stringify(e) : formatEvent(e)) + '\n');
    try {
      if (!f.follow) {
        const page = await listEvents(client, { stream: f.stream, since: f.since, limit: f.limit });
        for (const e of page.events) print(e);
        if (!f.json && !page.events.length) process.stderr.write('no events\n');
        return;
      }
      // fails with exit 4 when no node answers, before the stream starts
      await client.node();
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await followEvents(client.socketPath, { stream: f.stream, since: f.since, limit: f.since === undefined ? (f.limit ?? 10) : f.limit }, print, ac.signal);
    } finally {
      await client.close();
    }
  }
}
