/**
 * Where is the node socket? `$FLUX_SOCKET`, else `<run_dir>/node.sock` from the config file
 * (server.run_dir, relative to the file's directory, default ./run), else ./run/node.sock (the
 * embedded demo's run dir). Reads the YAML without validating it (fast, and works on a file
 * being edited): nothing is parsed unless the file mentions run_dir, then the plain-subset parser
 * (core/fast-yaml.ts) reads it, and the `yaml` library only when that parser is not sure. Every
 * client command locates the node: the library's cold parse of a 50-stream config was 20 ms of
 * `flux stream list`'s 280.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseFastYaml } from '../core/fast-yaml.js';

export const DEFAULT_CONFIG = 'flux.yaml';

/** The embedded demo's directories (relative to the working directory). */
export const DEMO_DIRS = { data: './data', run: './run' } as const;

export interface Located {
  socketPath: string;
  runDir: string;
  /** the config file, when it exists */
  configFile: string | undefined;
}

/** `explicit` is --config; FLUX_CONFIG and ./flux.yaml are the fallbacks. */
export function configFileFor(explicit?: string): string {
  return explicit ?? process.env.FLUX_CONFIG ?? DEFAULT_CONFIG;
}

/** True when the config file was named (--config or FLUX_CONFIG), not the ./flux.yaml default. */
export function configFileNamed(explicit?: string): boolean {
  return explicit !== undefined || !!process.env.FLUX_CONFIG;
}

export function locateNode(explicitConfig?: string): Located {
  const file = path.resolve(configFileFor(explicitConfig));
  const exists = existsSync(file);
  let runDir = path.resolve(DEMO_DIRS.run);
  if (exists) {
    let runDirSetting: unknown;
    try {
      const text = readFileSync(file, 'utf8');
      if (text.includes('run_dir')) {
        const fast = parseFastYaml(text);
        const data = (fast ? fast.value : (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text)) as { server?: { run_dir?: unknown } } | null;
        runDirSetting = data?.server?.run_dir;
      }
    } catch {
      runDirSetting = undefined;
    }
    runDir = path.resolve(path.dirname(file), typeof runDirSetting === 'string' ? runDirSetting : './run');
  }
  const socketPath = process.env.FLUX_SOCKET ? path.resolve(process.env.FLUX_SOCKET) : path.join(runDir, 'node.sock');
  return { socketPath, runDir: process.env.FLUX_SOCKET ? path.dirname(socketPath) : runDir, configFile: exists ? file : undefined };
}
