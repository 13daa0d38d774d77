/**
 * One wrk slice, shared by the HTTP benches (hls-serve, auth-playlist): runs wrk through the core
 * runner, refuses a run with non-2xx answers, reports socket errors, and adds the requests and the
 * measured duration to a tally (req/s = requests / seconds over all slices).
 */
import { runCommand } from '../src/core/run.js';

export interface Tally {
  requests: number;
  seconds: number;
}

export interface WrkOptions {
  threads: number;
  connections: number;
  seconds: number;
  /** the wrk binary (default $FLUX_WRK or wrk) */
  bin?: string;
  log?: (msg: string) => void;
}

const UNIT = { us: 1e-6, ms: 1e-3, s: 1, m: 60 } as const;

export async function wrkSlice(url: string, tally: Tally, o: WrkOptions): Promise<void> {
  const r = await runCommand(o.bin ?? process.env.FLUX_WRK ?? 'wrk', [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, url], { timeoutMs: (o.seconds + 30) * 1000 });
  const out = r.stdout.toString('utf8');
  if (r.code !== 0) throw new Error(`wrk failed (${r.code ?? r.spawnError ?? r.signal}): ${r.stderr || out}`);
  const m = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(out);
  if (!m) throw new Error(`cannot read wrk output:\n${out}`);
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`errors during the run of ${url}:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock && Number(sock[1]) + Number(sock[2]) + Number(sock[3]) > 0) o.log?.(`note: socket errors for ${url}: ${sock[0]}`);
  tally.requests += Number(m[1]);
  tally.seconds += Number(m[2]) * UNIT[m[3] as keyof typeof UNIT];
}
