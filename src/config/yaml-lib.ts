/**
 * The `yaml` library, loaded on first use. Validating a correct config (the fast path) never needs
 * it, and loading it costs start-up time on every `flux validate`; positions, comments and edits do.
 * `yaml` is a CommonJS package, so it can be required synchronously when the need arises.
 */
import { createRequire } from 'node:module';

type YamlModule = typeof import('yaml');
let lib: YamlModule | undefined;

export function yamlLib(): YamlModule {
  lib ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return lib;
}
