import { BaseCommand } from '../../cli/base.js';

export default class ConfigSchemaCmd extends BaseCommand<typeof ConfigSchemaCmd> {
  static override summary = 'Print the JSON Schema of flux.yaml (draft 2020-12)';
  static override description = `Prints the JSON Schema (draft 2020-12) of the config file, with a description of every key, \
for editors and CI. Point yaml-language-server at it with a first line \`# yaml-language-server: $schema=./flux.schema.json\`. \
Value checks the schema cannot express (unit syntax, references, ports) are done by \`flux validate\`.`;
  static override examples = ['<%= config.bin %> config schema > flux.schema.json'];

  async run(): Promise<void> {
    const { configJsonSchema } = await import('../../config/schema.js');
    process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
  }
}
