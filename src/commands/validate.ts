import { Args, Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { validateFile } from '../config/load.js';
import { formatIssue, type ConfigIssue, isFluxError } from '../core/errors.js';

export default class Validate extends BaseCommand<typeof Validate> {
  static override summary = 'Validate config files; print every problem as file:line:col: message';
  static override description = `Exit 0 when every file is valid, 1 when any is invalid, 2 on a usage error.\n\n${EXIT_CODE_HELP}`;
  static override strict = false;
  static override args = { file: Args.string({ description: 'config files (default: $FLUX_CONFIG or ./flux.yaml)' }) };
  static override flags = {
    format: Flags.string({ description: 'output format', options: ['text', 'github'], default: 'text' }),
  };
  static override examples = ['<%= config.bin %> validate flux.yaml', '<%= config.bin %> validate --json a.yaml b.yaml', '<%= config.bin %> validate --format github flux.yaml'];

  async run(): Promise<void> {
    const { argv } = await this.parse(Validate);
    const files = (argv as string[]).length ? (argv as string[]) : [this.configPath()];
    const issues: ConfigIssue[] = [];
    for (const file of files) {
      try {
        const r = await validateFile(file);
        issues.push(...r.issues);
      } catch (e) {
        if (!isFluxError(e)) throw e;
        issues.push({ file, line: 0, col: 0, message: e.message.replace(`${file}: `, ''), path: '' });
      }
    }
    if (this.flags.json) process.stdout.write(JSON.stringify(issues, null, 2) + '\n');
    else if (this.flags.format === 'github') {
      for (const i of issues) process.stdout.write(`::error file=${i.file},line=${i.line},col=${i.col}::${i.message}\n`);
    } else {
      for (const i of issues) process.stderr.write((i.line ? formatIssue(i) : `${i.file}: ${i.message}`) + '\n');
      if (!issues.length) process.stderr.write(`${files.join(', ')}: valid\n`);
    }
    this.exit(issues.length ? 1 : 0);
  }
}
