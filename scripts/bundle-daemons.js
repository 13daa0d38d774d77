#!/usr/bin/env node
/**
 * Bundles the daemons (the node agent, the stream supervisor, the agent's playback worker) from tsc's dist/ into
 * dist/bundle/ with esbuild: `npm run build` runs it after tsc.
 *
 * Why: a Node process pays for every module it loads one by one, and most for CommonJS packages
 * loaded from ESM (pino, commander: the CJS loader and its export scanner). One ESM file per daemon
 * takes an idle supervisor from ~55 MB to ~49 MB of RSS and the agent by as much (README,
 * "Where reality changed the design"). Code splitting keeps what the daemons import lazily
 * (`await import()`: DASH, VOD, WebRTC, metrics …) in chunks loaded only when used; packages that
 * are only ever imported lazily and are large stay outside (node_modules, loaded when needed).
 *
 * Every module keeps its own `import.meta.url` (rewritten to the URL of its file in dist/), so paths
 * resolved from it (templates, the config worker, the supervisor's bin, createRequire) are the same
 * bundled or not.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
export const OUT = path.join(DIST, 'bundle');

/** Entry points: dist/bundle/<name>.js */
export const ENTRIES = {
  'flux-node': path.join(DIST, 'daemons/node/main.js'),
  'flux-stream': path.join(DIST, 'daemons/stream/cli.js'),
  // forked by the agent when server.http_workers > 0 (src/daemons/node/playback-workers.ts)
  'playback-worker': path.join(DIST, 'daemons/playback-worker/main.js'),
};

/**
 * Loaded only through `await import()` (or in a worker) and large: left to Node's loader. The
 * structural test (test/unit/architecture/daemon-imports.test.ts) checks none of these is reached
 * by a static import from a daemon's entry.
 */
export const EXTERNAL = ['werift', 'etcd3', 'prom-client', 'zod', 'yaml', 'chokidar', 'ink', 'react', 'pino-pretty', 'hls.js'];

// pino starts its transport worker (pretty logs in the foreground) from files next to its own
// sources; in a bundle they are found through these overrides (pino's documented bundler hook).
const BANNER = `import { createRequire as __fluxCreateRequire } from 'node:module';
const require = __fluxCreateRequire(import.meta.url);
globalThis.__bundlerPathsOverrides ??= {
  get 'thread-stream-worker'() { return require.resolve('thread-stream/lib/worker.js', { paths: [require.resolve('pino')] }); },
  get 'pino-worker'() { return require.resolve('pino/lib/worker.js'); },
};`;

/** `import.meta.url` of a dist module, as seen from a file in dist/bundle/. */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(DIST + path.sep)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'js' };
      const rel = path.relative(OUT, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

export async function bundleDaemons() {
  await rm(OUT, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: ENTRIES,
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: BANNER },
    chunkNames: '[name]-[hash]',
    plugins: [ownUrl],
    logLevel: 'error',
    // names stay readable in stack traces and logs
    minify: false,
    metafile: true,
  });
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleDaemons();
}
