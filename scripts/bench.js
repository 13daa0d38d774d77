#!/usr/bin/env node
/**
 * Benchmark runner: `npm run bench -- NAME [--runs N] [--dry-run] [-- ARGS...]`
 * (--bench-dir DIR and --results FILE point elsewhere than bench/ and bench/RESULTS.md: for tests)
 *
 * Runs `node --import tsx bench/NAME.ts ARGS...` N times (default 5), one after the other. Each run
 * prints, as its LAST stdout line, `{"metrics": {"<name>": {"value": n, "unit": "ms", "better":
 * "lower"|"higher"}}, "notes": "..."}`. The runner prints min/median/max per metric and appends a
 * section to bench/RESULTS.md (date, machine, bench name, a table, notes) unless --dry-run.
 */
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench/RESULTS.md');
const HEADER = `# Flux benchmark results

Appended by \`npm run bench -- NAME [--runs N]\` (scripts/bench.js): each section is one invocation of the
runner, which ran \`node --import tsx bench/NAME.ts\` N times and reports the median, min and max of every
metric over those runs, with the machine it ran on. Numbers from a loaded or shared machine are noisy:
compare sections from the same machine, and read the notes.
`;

function usage(msg) {
  process.stderr.write(`bench: ${msg}\nusage: npm run bench -- NAME [--runs N] [--dry-run] [-- ARGS...]\n`);
  process.exit(2);
}

export function parseArgs(argv) {
  const opts = { name: undefined, runs: 5, dryRun: false, pass: [], benchDir: path.join(ROOT, 'bench'), results: RESULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      opts.pass = argv.slice(i + 1);
      break;
    } else if (a === '--runs' || a === '-n') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 1000) usage(`--runs needs a whole number 1..1000, got ${JSON.stringify(argv[i])}`);
      opts.runs = n;
    } else if (a.startsWith('--runs=')) {
      const n = Number(a.slice(7));
      if (!Number.isInteger(n) || n < 1 || n > 1000) usage(`--runs needs a whole number 1..1000, got ${JSON.stringify(a.slice(7))}`);
      opts.runs = n;
    } else if (a === '--dry-run') opts.dryRun = true;
    else if (a === '--bench-dir') opts.benchDir = path.resolve(argv[++i] ?? usage('--bench-dir needs a directory'));
    else if (a === '--results') opts.results = path.resolve(argv[++i] ?? usage('--results needs a file'));
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (opts.name === undefined) opts.name = a;
    else opts.pass.push(a);
  }
  if (!opts.name) usage('which benchmark? (a file bench/NAME.ts)');
  if (!/^[A-Za-z0-9._-]+$/.test(opts.name)) usage(`bad benchmark name ${JSON.stringify(opts.name)}`);
  return opts;
}

function runOnce(file, pass) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...pass], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

/** The last non-empty stdout line as the result object, or an error string. */
export function parseResult(out) {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1];
  if (!last) return { error: 'printed nothing on stdout' };
  let obj;
  try {
    obj = JSON.parse(last);
  } catch {
    return { error: `last stdout line is not JSON: ${last.slice(0, 200)}` };
  }
  if (!obj || typeof obj.metrics !== 'object' || obj.metrics === null || !Object.keys(obj.metrics).length) return { error: 'last line has no "metrics" object' };
  for (const [k, m] of Object.entries(obj.metrics)) {
    if (!m || typeof m.value !== 'number' || !Number.isFinite(m.value)) return { error: `metric ${k}: value is not a finite number` };
    if (m.better !== 'lower' && m.better !== 'higher') return { error: `metric ${k}: better must be "lower" or "higher"` };
  }
  return { metrics: obj.metrics, notes: typeof obj.notes === 'string' ? obj.notes : '' };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return String(+v.toFixed(1));
  if (a >= 1) return String(+v.toFixed(2));
  return String(+v.toPrecision(3));
}

function machine() {
  let uname = `${os.type()} ${os.release()} ${os.arch()}`;
  try {
    uname = execFileSync('uname', ['-srm'], { encoding: 'utf8' }).trim();
  } catch {
    /* keep os.* */
  }
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    /* not Linux */
  }
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return { uname, cpu, cores, node: process.version, load };
}

/** The RESULTS.md section for one runner invocation. */
export function renderSection({ name, runs, date, mach, rows, notes, command }) {
  const lines = [
    '',
    `## ${name} (${date})`,
    '',
    `- machine: ${mach.uname}; ${mach.cpu}; ${mach.cores} cores; node ${mach.node}; load average at start ${mach.load}`,
    `- command: \`${command}\``,
    '',
    '| metric | median | min | max | unit | runs |',
    '|---|---:|---:|---:|---|---:|',
    ...rows.map((r) => `| ${r.metric} (${r.better} is better) | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.unit} | ${r.runs} |`),
    '',
  ];
  if (notes) lines.push(`Notes: ${notes}`, '');
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const file = path.join(opts.benchDir, `${opts.name}.ts`);
  if (!existsSync(file)) usage(`no such benchmark: ${path.relative(process.cwd(), file)}`);
  const mach = machine();
  const date = new Date().toISOString();
  const samples = new Map();
  const notes = [];
  for (let i = 1; i <= opts.runs; i++) {
    process.stderr.write(`bench ${opts.name}: run ${i}/${opts.runs}\n`);
    const r = await runOnce(file, opts.pass);
    if (r.code !== 0) {
      process.stderr.write(`bench ${opts.name}: run ${i} failed (${r.signal ?? `exit ${r.code}`}); nothing recorded\n`);
      process.exit(1);
    }
    const res = parseResult(r.out);
    if (res.error) {
      process.stderr.write(`bench ${opts.name}: run ${i} ${res.error}; nothing recorded\n`);
      process.exit(1);
    }
    for (const [k, m] of Object.entries(res.metrics)) {
      if (!samples.has(k)) samples.set(k, { unit: m.unit ?? '', better: m.better, values: [] });
      samples.get(k).values.push(m.value);
    }
    if (res.notes && !notes.includes(res.notes)) notes.push(res.notes);
  }
  const rows = [...samples].map(([metric, s]) => ({
    metric,
    unit: s.unit,
    better: s.better,
    runs: s.values.length,
    median: median(s.values),
    min: Math.min(...s.values),
    max: Math.max(...s.values),
  }));
  const w = Math.max(6, ...rows.map((r) => r.metric.length));
  process.stdout.write(`${'metric'.padEnd(w)}  ${'median'.padStart(10)}  ${'min'.padStart(10)}  ${'max'.padStart(10)}  unit  runs\n`);
  for (const r of rows) {
    process.stdout.write(`${r.metric.padEnd(w)}  ${fmt(r.median).padStart(10)}  ${fmt(r.min).padStart(10)}  ${fmt(r.max).padStart(10)}  ${r.unit}  ${r.runs}\n`);
  }
  if (opts.dryRun) return;
  const command = `npm run bench -- ${opts.name} --runs ${opts.runs}${opts.pass.length ? ` -- ${opts.pass.join(' ')}` : ''}`;
  if (!existsSync(opts.results)) writeFileSync(opts.results, HEADER);
  appendFileSync(opts.results, renderSection({ name: opts.name, runs: opts.runs, date, mach, rows, notes: notes.join(' / '), command }));
  process.stderr.write(`bench ${opts.name}: appended to ${path.relative(process.cwd(), opts.results)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`bench: ${e?.message ?? e}\n`);
    process.exit(1);
  });
}
