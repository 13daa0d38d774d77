import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { FluxClient } from '../client/index.js';
import { NodeUnreachableError } from '../core/errors.js';
import { TopPoller, clientSource, plainFrame } from '../ui/top/model.js';
import type { TopLine } from '../protocol/results.js';

export default class Top extends BaseCommand<typeof Top> {
  static override summary = 'Live status board of the node: streams, inputs, bitrates, clients, events (interactive)';
  static override description = `On a terminal: an interactive screen refreshed every --interval. Keys: ↑/↓ (or j/k) select a stream, Enter shows its inputs, failover history and ffmpeg command lines (Esc back), r restarts the selected stream, / filters by name, q quits. When the node goes away the header says so and the screen reconnects by itself.

Not on a terminal (or with --plain): prints the same table as plain text at every refresh (--json: one JSON document per refresh, NDJSON), --iterations times (default: until interrupted). Exit 4 when the node cannot be reached at the last refresh.

${EXIT_CODE_HELP}`;
  static override flags = {
    interval: Flags.string({ char: 'i', description: 'refresh period in seconds', default: '1' }),
    plain: Flags.boolean({ description: 'plain text output even on a terminal', default: false }),
    iterations: Flags.integer({ char: 'n', description: 'plain output: stop after N refreshes', min: 1 }),
    filter: Flags.string({ description: 'only streams whose name contains this' }),
  };
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --plain -n 1', '<%= config.bin %> status --watch'];

  async run(): Promise<void> {
    await runTopCommand(this.flags);
  }
}

export async function runTopCommand(flags: { config?: string; interval: string; plain: boolean; iterations?: number; filter?: string; json: boolean }): Promise<void> {
  const seconds = Number(flags.interval);
  if (!Number.isFinite(seconds) || seconds < 0.2 || seconds > 3600) {
    const { UsageError } = await import('../core/errors.js');
    throw new UsageError(`--interval must be a number of seconds between 0.2 and 3600, got "${flags.interval}"`);
  }
  const client = FluxClient.forConfig(flags.config, { timeoutMs: 5000 });
  const poller = new TopPoller(clientSource(client));
  try {
    if (process.stdout.isTTY && process.stdin.isTTY && !flags.plain && !flags.json) {
      // ink and react load only here: every other command stays fast
      const { runTop } = await import('../ui/top/app.js');
      await runTop({ poller, intervalMs: seconds * 1000, initialFilter: flags.filter });
      return;
    }
    let stop = false;
    const onSig = () => (stop = true);
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    for (let i = 0; !stop && (flags.iterations === undefined || i < flags.iterations); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, seconds * 1000));
      const snap = await poller.poll();
      if (flags.json) {
        process.stdout.write(JSON.stringify({ node: snap.node, error: snap.error, streams: snap.streams.map((s) => s.doc), events: snap.events.slice(-20) } satisfies TopLine) + '\n');
      } else process.stdout.write((i > 0 ? '\n' : '') + plainFrame(snap, flags.filter ?? ''));
      if (flags.iterations !== undefined && i === flags.iterations - 1 && !snap.node) throw new NodeUnreachableError(`no node answers on ${client.socketPath}`);
    }
  } finally {
    await client.close();
  }
}
