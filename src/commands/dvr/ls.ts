import { Args, Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';

export default class DvrLs extends BaseCommand<typeof DvrLs> {
  static override summary = 'List the recorded ranges, gaps and disk use of a stream archive';
  static override description = `Reads the archive on disk (config file → stream root, or --root); no node is needed.
A gap is a discontinuity or missing time (the next segment starts more than 1.5× the previous one's duration
after it). TIME is ISO-8601 (local time without an offset), unix seconds, or relative to now (-1h, -30m).

${EXIT_CODE_HELP}`;
  static override args = { stream: Args.string({ description: 'stream name', required: true }) };
  static override flags = {
    from: Flags.string({ description: 'start of the window (TIME)' }),
    to: Flags.string({ description: 'end of the window (TIME, default now)' }),
    rendition: Flags.string({ char: 'r', description: 'only this rendition' }),
    root: Flags.string({ description: 'stream archive directory (instead of reading the config)' }),
  };
  static override examples = [
    '<%= config.bin %> dvr ls channel1',
    '<%= config.bin %> dvr ls channel1 --from -6h --json',
    '<%= config.bin %> dvr ls cams/door --from 2026-11-24T00:00:00Z --to 2026-11-25T00:00:00Z',
  ];

  async run(): Promise<void> {
    const { listArchive, renderListing } = await import('../../dvr/listing.js');
    const { locateStream } = await import('../../dvr/locate.js');
    const { parseTime } = await import('../../dvr/time.js');
    const now = Date.now();
    const s = await locateStream({ stream: this.args.stream, config: this.configPath(), root: this.flags.root });
    const fromMs = this.flags.from !== undefined ? parseTime(this.flags.from, now) : undefined;
    const toMs = this.flags.to !== undefined ? parseTime(this.flags.to, now) : fromMs !== undefined ? now : undefined;
    const result = await listArchive(s, { fromMs, toMs, rendition: this.flags.rendition });
    this.output(result, () => renderListing(result, { color: !!process.stdout.isTTY }));
  }
}
