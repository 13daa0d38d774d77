import type { FlussonicImportResult } from '../../protocol/api.js';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { ConfigError, EXIT_CODES, InputError, UsageError } from '../../core/errors.js';

export default class ImportFlussonic extends BaseCommand<typeof ImportFlussonic> {
  static override summary = 'Translate a Flussonic config (flussonic.conf) into flux.yaml';
  static override description = `Reads Flussonic's config format (stream/template blocks with input, dvr, push, transcoder, \
auth/on_play, prefix; http, rtmp and srt ports; dvr storages) and writes an equivalent flux.yaml with a comment naming \
the source line of each stream. Directives Flux cannot translate (cluster_key, peer, source, edit_auth, unknown ones) \
are listed with file:line and left out; the output is checked by the same validator as \`flux validate\`.

Without -o the YAML goes to stdout. --json prints {output, streams, skipped: [{file, line, directive, reason}], yaml}.

EXIT CODES
  0  everything was translated
  2  usage error (no such file)
  3  syntax error in the Flussonic config (file:line:col), or the translation is not a valid flux.yaml
  5  written, but some directives were not translated (listed on stderr)`;
  static override args = { file: Args.string({ description: 'Flussonic config file (flussonic.conf)', required: true }) };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'write flux.yaml here (default: stdout)' }),
    force: Flags.boolean({ char: 'f', description: 'overwrite the output file when it exists', default: false }),
  };
  static override examples = ['<%= config.bin %> import flussonic /etc/flussonic/flussonic.conf -o flux.yaml', '<%= config.bin %> import flussonic flussonic.conf --json'];

  async run(): Promise<void> {
    const { readConfigText } = await import('../../config/load.js');
    const { importFlussonic, FlussonicSyntaxError } = await import('../../services/import/index.js');
    const { writeFileAtomic } = await import('../../core/atomic-write.js');
    const { stat } = await import('node:fs/promises');
    const file = this.args.file;
    const out = this.flags.output;
    let text: string;
    try {
      text = await readConfigText(file);
    } catch (e) {
      if (e instanceof InputError && (e.code === 'E_NOENT' || e.code === 'E_ISDIR' || e.code === 'E_NOTFILE')) throw new UsageError(e.message);
      throw e;
    }
    if (out && !this.flags.force && (await stat(out).then(() => true, () => false))) {
      throw new InputError(`${out} already exists; use --force to overwrite it`, { code: 'E_EXISTS' });
    }
    let result;
    try {
      result = importFlussonic(text, file, out ?? 'flux.yaml');
    } catch (e) {
      if (e instanceof FlussonicSyntaxError) throw new ConfigError([{ file: e.file, line: e.line, col: e.col, message: e.reason, path: '' }]);
      throw e;
    }
    if (result.issues.length) throw new ConfigError(result.issues.map((i) => ({ ...i, message: `translated config: ${i.message}` })));
    if (out) await writeFileAtomic(out, result.yaml, { mode: 0o644 });
    if (this.flags.json) {
      const doc: FlussonicImportResult = { output: out ?? null, streams: result.streams, skipped: result.skipped, yaml: result.yaml };
      process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    } else {
      if (!out) process.stdout.write(result.yaml);
      for (const s of result.skipped) process.stderr.write(`${s.file}:${s.line}: not translated: ${s.directive} (${s.reason})\n`);
      process.stderr.write(`${out ? `wrote ${out}: ` : ''}${result.streams} stream${result.streams === 1 ? '' : 's'}, ${result.skipped.length} directive${result.skipped.length === 1 ? '' : 's'} not translated\n`);
    }
    this.exit(result.skipped.length ? EXIT_CODES.partial : EXIT_CODES.ok);
  }
}
