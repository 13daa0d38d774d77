import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { formatIssue, isFluxError, type ConfigIssue } from '../core/errors.js';

/** Files that could not be read at all: the argument does not name a config file (exit 2). */
const USAGE_CODES = new Set(['E_NOENT', 'E_ISDIR', 'E_NOTFILE']);

/** GitHub workflow command escaping (data and property values). */
const ghData = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const ghProp = (s: string) => ghData(s).replaceAll(':', '%3A').replaceAll(',', '%2C');

export default class Validate extends BaseCommand<typeof Validate> {
  static override summary = 'Validate config files; print every problem as file:line:col: message';
  static override description = `Checks each file against the config schema and the semantic rules (stream names, \
duplicate names, dvr storage references, listener ports, input URL schemes) and reports every problem at once, \
one line each, pointing at the offending key or value. Unknown keys get a "did you mean" hint.

An empty file is a valid config with no streams. Files larger than 8 MiB, binary files and invalid UTF-8 are refused with one line.

Text output goes to stderr; --json prints a list of {file, line, col, message, path} on stdout ([] when valid); \
--format github prints GitHub Actions annotations (::error file=…,line=…,col=…::message) on stdout. \
A file that cannot be read is reported with line 0, col 0.

EXIT CODES
  0  every file is valid
  1  at least one file is invalid
  2  usage error (unknown flag, a file that does not exist or is a directory)`;
  static override strict = false;
  static override args = { file: Args.string({ description: 'config files (default: --config, $FLUX_CONFIG or ./flux.yaml)' }) };
  static override flags = {
    format: Flags.string({ description: 'output format of the problems', options: ['text', 'github'], default: 'text' }),
  };
  static override examples = [
    '<%= config.bin %> validate flux.yaml',
    '<%= config.bin %> validate --json a.yaml b.yaml',
    '<%= config.bin %> validate --format github flux.yaml',
  ];

  async run(): Promise<void> {
    const { validateFile } = await import('../config/load.js');
    const { argv } = await this.parse(Validate);
    const files = (argv as string[]).length ? (argv as string[]) : [this.configPath()];
    const issues: ConfigIssue[] = [];
    const summaries: string[] = [];
    let usage = false;
    for (const file of files) {
      try {
        const r = await validateFile(file);
        issues.push(...r.issues);
        if (!r.issues.length) {
          const n = Object.keys(r.input?.streams ?? {}).length;
          summaries.push(`${file}: valid (${n} stream${n === 1 ? '' : 's'})`);
        }
      } catch (e) {
        if (!isFluxError(e)) throw e;
        if (USAGE_CODES.has(e.code)) usage = true;
        issues.push({ file, line: 0, col: 0, message: e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message, path: '' });
      }
    }
    if (this.flags.json) {
      process.stdout.write(JSON.stringify(issues, null, 2) + '\n');
    } else if (this.flags.format === 'github') {
      const lines = issues.map((i) =>
        i.line
          ? `::error file=${ghProp(i.file)},line=${i.line},col=${i.col}::${ghData(i.message)}`
          : `::error file=${ghProp(i.file)}::${ghData(i.message)}`,
      );
      if (lines.length) process.stdout.write(lines.join('\n') + '\n');
      for (const s of summaries) process.stderr.write(s + '\n');
    } else {
      const lines = issues.map((i) => (i.line ? formatIssue(i) : `${i.file}: ${i.message}`));
      for (const s of summaries) lines.push(s);
      if (issues.length > 1) {
        const bad = new Set(issues.map((i) => i.file)).size;
        lines.push(`${issues.length} problem${issues.length === 1 ? '' : 's'} in ${bad} file${bad === 1 ? '' : 's'}`);
      }
      process.stderr.write(lines.join('\n') + '\n');
    }
    this.exit(usage ? 2 : issues.length ? 1 : 0);
  }
}
