/**
 * CPU and memory of processes from /proc, for the benchmarks: utime+stime of a process or of a whole
 * process tree (a node agent, its supervisors and their ffmpeg children), and RSS.
 */
import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* 100 */
}
/** clock ticks per second of /proc/<pid>/stat times */
export const CLK_TCK = clkTck;

export interface ProcStat {
  ppid: number;
  ticks: number;
  comm: string;
}

export async function procStat(pid: number): Promise<ProcStat | null> {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const close = s.lastIndexOf(')');
  if (close < 0) return null;
  const f = s.slice(close + 2).split(' ');
  // after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), comm: s.slice(s.indexOf('(') + 1, close) };
}

/** `roots` and all their descendants (one /proc scan), with their CPU ticks. */
export async function treeTicks(roots: number[]): Promise<Map<number, ProcStat>> {
  const all = new Map<number, ProcStat>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = await procStat(Number(e));
    if (st) all.set(Number(e), st);
  }
  const out = new Map<number, ProcStat>();
  const queue = roots.filter((p) => all.has(p));
  while (queue.length) {
    const pid = queue.pop()!;
    if (out.has(pid)) continue;
    out.set(pid, all.get(pid)!);
    for (const [child, st] of all) if (st.ppid === pid && !out.has(child)) queue.push(child);
  }
  return out;
}

/** CPU seconds between two samples: processes present at the end count from 0 when new; gone ones are lost (counted). */
export function cpuSeconds(a: Map<number, ProcStat>, b: Map<number, ProcStat>): { seconds: number; lost: number; procs: string[] } {
  let ticks = 0;
  for (const [pid, st] of b) ticks += st.ticks - (a.get(pid)?.ticks ?? 0);
  let lost = 0;
  for (const pid of a.keys()) if (!b.has(pid)) lost++;
  const comms = new Map<string, number>();
  for (const st of b.values()) comms.set(st.comm, (comms.get(st.comm) ?? 0) + 1);
  return { seconds: ticks / CLK_TCK, lost, procs: [...comms].map(([c, n]) => `${n}×${c}`) };
}

export async function rssMb(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? NaN) / 1024;
}
