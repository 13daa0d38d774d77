import { Args, Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { InputError, UsageError } from '../../core/errors.js';

export default class DvrExport extends BaseCommand<typeof DvrExport> {
  static override summary = 'Export a time range of a stream archive to an .mp4 or .ts file (no re-encoding)';
  static override description = `Reads the archive on disk (config file → stream root, or --root); no node is needed.
Whole segments overlapping [from, to) are exported: .ts is their byte concatenation, .mp4 a remux by ffmpeg
(-c copy, +faststart). Gaps inside the range are skipped and reported. The output is written to a temp file
and renamed when complete, so it never exists half-written (also on ctrl-C). Exits 1 with a one-line
reason when nothing was recorded in the range (cron-friendly).

TIME is ISO-8601 (2026-11-24T23:00:00Z; local time without an offset), unix seconds, or relative to now
(-1h, -30m). A progress bar is drawn on stderr when it is a terminal.

${EXIT_CODE_HELP}`;
  static override args = { stream: Args.string({ description: 'stream name', required: true }) };
  static override flags = {
    from: Flags.string({ description: 'start (TIME)', required: true }),
    duration: Flags.string({ char: 'd', description: 'length (20s, 30m, 1h; a bare number is seconds)', exclusive: ['to'] }),
    to: Flags.string({ description: 'end (TIME)', exclusive: ['duration'] }),
    output: Flags.string({ char: 'o', description: 'output file (.mp4 or .ts)', required: true }),
    rendition: Flags.string({ char: 'r', description: 'rendition (default: the first, i.e. the highest quality)' }),
    root: Flags.string({ description: 'stream archive directory (instead of reading the config)' }),
    faststart: Flags.boolean({ description: 'mp4: put the moov atom first', default: true, allowNo: true }),
  };
  static override examples = [
    '<%= config.bin %> dvr export channel1 --from -1h --duration 10m -o last-hour.mp4',
    '<%= config.bin %> dvr export cams/door --from 2026-11-24T08:00:00Z --to 2026-11-24T08:30:00Z -o door.ts --json',
    '<%= config.bin %> dvr export channel1 --from 1764028800 -d 3600 -o /backup/ch1-$(date +%F).mp4',
  ];

  async run(): Promise<void> {
    const { exportArchive, formatOf } = await import('../../dvr/export.js');
    const { locateStream } = await import('../../dvr/locate.js');
    const { parseTime, parseDurationArg } = await import('../../dvr/time.js');
    const { progressBar, renderExport } = await import('../../dvr/listing.js');
    const f = this.flags;
    if (f.duration === undefined && f.to === undefined) throw new UsageError('give --duration or --to');
    if (!formatOf(f.output)) throw new InputError(`${f.output}: unknown output format, use a .ts or .mp4 file name`, { code: 'E_FORMAT' });
    const now = Date.now();
    const fromMs = parseTime(f.from, now);
    const toMs = f.to !== undefined ? parseTime(f.to, now) : fromMs + parseDurationArg(f.duration!);
    if (!(toMs > fromMs)) throw new InputError('--to must be after --from');
    const s = await locateStream({ stream: this.args.stream, config: this.configPath(), root: f.root });
    const rendition = f.rendition ?? s.renditions[0];
    if (!rendition) throw new InputError(`no recording of ${s.name} under ${s.root}`, { code: 'E_NO_RECORDING' });
    if (f.rendition && !s.renditions.includes(f.rendition)) {
      throw new InputError(`stream ${s.name} has no rendition ${f.rendition} (it has ${s.renditions.join(', ')})`);
    }
    const ffmpeg = formatOf(f.output) === 'mp4' ? (await import('../../dvr/remux.js')).ffmpegPath(s.ffmpeg) : undefined;
    const bar = process.stderr.isTTY ? progressBar(process.stderr) : undefined;
    const ac = new AbortController();
    const stop = () => ac.abort(Object.assign(new Error('interrupted'), { name: 'AbortError' }));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const result = await exportArchive({
        root: s.root,
        rendition,
        fromMs,
        toMs,
        output: f.output,
        ffmpeg: ffmpeg ? await ffmpeg : undefined,
        faststart: f.faststart,
        signal: ac.signal,
        onProgress: bar?.update,
      });
      bar?.done();
      if (!f.json) for (const g of result.gaps) this.info(`gap: ${new Date(g.fromMs).toISOString()} → ${new Date(g.toMs).toISOString()} (${g.reason}, ${(g.durationMs / 1000).toFixed(1)}s)`);
      if (!f.json && result.missing) this.info(`warning: ${result.missing} segments listed by the index were gone from disk`);
      this.output(
        {
          file: result.file,
          format: result.format,
          bytes: result.bytes,
          duration: result.durationMs / 1000,
          segments: result.segments,
          from: new Date(result.fromMs).toISOString(),
          to: new Date(result.toMs).toISOString(),
          gaps: result.gaps.map((g) => ({ from: new Date(g.fromMs).toISOString(), to: new Date(g.toMs).toISOString(), duration: g.durationMs / 1000, reason: g.reason })),
          missing: result.missing,
        },
        () => renderExport(result),
      );
    } catch (e) {
      bar?.done();
      if (ac.signal.aborted) {
        process.stderr.write('flux: export interrupted; no output written\n');
        this.exit(130);
      }
      throw e;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}
