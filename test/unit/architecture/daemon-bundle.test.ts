/**
 * The daemons' memory budget (agent ≤ 60 MB with 50 streams, supervisor ≤ 50 MB idle) depends on
 * what they load at start. The large libraries are loaded only where used (`await import()`, the
 * config worker process): this walks the static import graph of each daemon's entry, as the
 * build's bundler sees it (scripts/bundle-daemons.js), and fails when one of them creeps back in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import * as esbuild from 'esbuild';
import { REPO_ROOT } from '../../helpers/index.js';

const LAZY = ['werift', 'etcd3', 'prom-client', 'zod', 'yaml', 'chokidar', 'ink', 'react', 'hls.js'];

async function staticPackages(entry: string): Promise<{ packages: Set<string>; computedImports: string[] }> {
  const r = await esbuild.build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    outdir: '/nonexistent',
    splitting: true,
    external: LAZY,
    logLevel: 'silent',
  });
  const inputs = r.metafile.inputs;
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imp of inputs[file]?.imports ?? []) {
      if (imp.kind !== 'import-statement' && imp.kind !== 'require-call') continue; // dynamic imports are the point
      if (imp.external) packages.add(imp.path.split('/')[0]!);
      else walk(imp.path);
    }
  };
  walk(path.relative(process.cwd(), path.join(REPO_ROOT, entry)).split(path.sep).join('/'));
  assert.ok(seen.size > 20, `the walk found the daemon's modules (${seen.size})`);
  // import(variable) is left alone by the bundler and then resolves against dist/bundle/, not the
  // module's own directory: such a module is silently missing in the built daemon
  const computedImports = r.outputFiles.flatMap((f) => [...f.text.matchAll(/\bimport\((?!\s*["'`])[^)]*\)/g)].map((m) => m[0]));
  return { packages, computedImports };
}

for (const entry of ['src/daemons/node/main.ts', 'src/daemons/stream/cli.ts', 'src/daemons/playback-worker/main.ts']) {
  test(`${entry}: no large library in the static import graph, no computed dynamic import`, async () => {
    const { packages, computedImports } = await staticPackages(entry);
    const found = [...packages].filter((p) => LAZY.includes(p));
    assert.deepEqual(found, [], `statically imported: ${found.join(', ')} (load them with await import() where used)`);
    assert.deepEqual(computedImports, [], 'dynamic imports take a string literal');
  });
}

test('every daemon entry checked here is one of the bundle\'s entries (scripts/bundle-daemons.js)', async () => {
  const text = await readFile(path.join(REPO_ROOT, 'scripts', 'bundle-daemons.js'), 'utf8');
  for (const e of ['daemons/node/main.js', 'daemons/stream/cli.js', 'daemons/playback-worker/main.js']) assert.ok(text.includes(`'${e}'`), `${e} is bundled`);
});
