/**
 * Process helpers for pid files and supervision (Linux-first, portable fallbacks).
 */
import { readFile, unlink } from 'node:fs/promises';

/** True when a process with this pid exists and is not a zombie. */
export async function isAlive(pid: number | undefined): Promise<boolean> {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ..." — comm may contain spaces/parens: the state follows the last ')'
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** The command line of a process (argv joined by spaces), or undefined when unknown. */
export async function commandLine(pid: number): Promise<string | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/** Read a pid file: a decimal pid on the first line. undefined when absent or garbage. */
export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    const pid = Number.parseInt(text.trim().split(/\s/)[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function unlinkQuiet(file: string): Promise<void> {
  await unlink(file).catch(() => {});
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until the process is gone; true when it exited within the timeout. */
export async function waitForExit(pid: number, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await isAlive(pid))) return true;
    await sleep(stepMs);
  }
  return !(await isAlive(pid));
}

/** Send a signal; false when there is no such process. Never throws. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Signal a whole process group (a detached child leads its own); falls back to the pid. */
export function signalGroup(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return signal(pid, sig);
  }
}
