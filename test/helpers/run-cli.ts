/** Run the BUILT CLI (`./bin/run.js`) as a subprocess, for end-to-end CLI tests. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './config-fixtures.js';

export const BIN = path.join(REPO, 'bin/run.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Fails early with the fix when the CLI was not built. */
export function assertBuilt(): void {
  for (const f of ['dist/commands/validate.js', 'oclif.manifest.json']) {
    if (!existsSync(path.join(REPO, f))) throw new Error(`${f} is missing: run \`npm run build\` before the CLI tests`);
  }
}

export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, FLUX_DEBUG: '', NO_COLOR: '1', ...opts.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flux ${args.join(' ')}: no exit after ${opts.timeoutMs ?? 30_000} ms (hang)\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** No stack trace, no internal error text: what a user sees must be clean. */
export function assertNoStack(r: CliResult): void {
  for (const s of [r.stdout, r.stderr]) {
    if (/^\s+at .+[(:]\d+/m.test(s) || /internal error|TypeError|ReferenceError/.test(s)) {
      throw new Error(`output has a stack trace or internal error:\n${s}`);
    }
  }
}
