/**
 * Shared by the CLI benches (not a benchmark itself): wall time of a command, measured with
 * hyperfine when it is installed (`-N`, no shell, JSON export), else with spawn timings.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
  tool: 'hyperfine' | 'spawn';
  /** mean user+system CPU per invocation (hyperfine only): less sensitive to a busy machine than wall time */
  cpuMs?: number;
}

function hasHyperfine(): boolean {
  try {
    execFileSync('hyperfine', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Fails with the fix when the CLI is not built. */
export function assertBuilt(): void {
  for (const f of ['dist/commands/validate.js', 'oclif.manifest.json']) {
    if (!existsSync(path.join(ROOT, f))) {
      process.stderr.write(`${f} is missing: run \`npm run build\` first\n`);
      process.exit(1);
    }
  }
}

/** `argv` is run directly (no shell); it must exit 0. */
export function timeCommand(argv: string[], opts: { runs?: number; warmup?: number } = {}): Timing {
  const runs = opts.runs ?? 10;
  const warmup = opts.warmup ?? 2;
  const check = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`${argv.join(' ')} exited ${check.status}: ${check.stderr}`);
  if (hasHyperfine()) {
    const dir = mkdtempSync(path.join(tmpdir(), 'flux-bench-'));
    try {
      const json = path.join(dir, 'hf.json');
      const quoted = argv.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
      execFileSync('hyperfine', ['-N', '--style', 'none', '--warmup', String(warmup), '--runs', String(runs), '--export-json', json, quoted], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const r = JSON.parse(readFileSync(json, 'utf8')).results[0] as { times: number[]; median: number; min: number; max: number; user: number; system: number };
      return { medianMs: r.median * 1000, minMs: r.min * 1000, maxMs: r.max * 1000, runs: r.times.length, tool: 'hyperfine', cpuMs: (r.user + r.system) * 1000 };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (let i = 0; i < warmup; i++) spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: 'ignore' });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  }
  return { medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), runs, tool: 'spawn' };
}

/** Node's own start-up (`node -e 0`): the floor under any CLI time on this machine right now. */
export function nodeFloor(runs = 10): Timing {
  return timeCommand([process.execPath, '-e', '0'], { runs, warmup: 2 });
}
