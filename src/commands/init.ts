import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { BugError, InputError } from '../core/errors.js';

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Write a commented sample config (flux.yaml) and its JSON Schema';
  static override description = `Writes FILE (default: --config, $FLUX_CONFIG or ./flux.yaml) from the commented sample: \
a comment on every key, a test-pattern stream that runs anywhere, and disabled examples of publish, RTSP, multicast, \
transcoding, DVR and restreaming. Its first line points editors (yaml-language-server) at flux.schema.json, written \
next to it (unless --no-schema, or it already exists and --force is not given).

Refuses to overwrite an existing FILE unless --force is given (exit 1).`;
  static override args = { file: Args.string({ description: 'config file to write (default: --config, $FLUX_CONFIG or ./flux.yaml)' }) };
  static override flags = {
    force: Flags.boolean({ char: 'f', description: 'overwrite FILE (and flux.schema.json) when they exist', default: false }),
    schema: Flags.boolean({ description: 'also write flux.schema.json next to FILE', default: true, allowNo: true }),
  };
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init /etc/flux/flux.yaml', '<%= config.bin %> init --force --no-schema flux.yaml'];

  async run(): Promise<void> {
    const path = await import('node:path');
    const { readFile, stat, mkdir } = await import('node:fs/promises');
    const { writeFileAtomic } = await import('../core/atomic-write.js');
    const file = this.args.file ?? this.configPath();
    const exists = async (f: string) => stat(f).then(() => true, () => false);
    const st = await stat(file).catch(() => undefined);
    if (st?.isDirectory()) throw new InputError(`${file} is a directory; give a file name, e.g. ${path.join(file, 'flux.yaml')}`, { code: 'E_ISDIR' });
    if (st && !this.flags.force) {
      throw new InputError(`${file} already exists; use --force to overwrite it`, { code: 'E_EXISTS' });
    }
    const templateFile = path.join(this.config.root, 'templates', 'flux.yaml');
    const template = await readFile(templateFile, 'utf8').catch((e: unknown) => {
      throw new BugError(`the sample config ${templateFile} is missing from this installation`, { cause: e });
    });
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFileAtomic(file, template, { mode: 0o644 });
    let schemaFile: string | undefined;
    if (this.flags.schema) {
      const target = path.join(path.dirname(file), 'flux.schema.json');
      if (!(await exists(target)) || this.flags.force) {
        const { configJsonSchema } = await import('../config/schema.js');
        await writeFileAtomic(target, JSON.stringify(configJsonSchema(), null, 2) + '\n', { mode: 0o644 });
        schemaFile = target;
      }
    }
    this.output({ file, schema: schemaFile ?? null }, () => {
      process.stderr.write(`wrote ${file}${schemaFile ? ` and ${schemaFile}` : ''}\nnext: edit it, then run \`flux validate ${file}\`\n`);
    });
  }
}
