#!/usr/bin/env node
// `flux --version` is asked by scripts and health checks: answer it without loading oclif.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  // @oclif/core checks the running node against its own engines field with semver at every start:
  // ~40 ms of CPU per command, for a check npm already made at install (package.json engines)
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
