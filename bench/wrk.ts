/**
 * One wrk slice, shared by the HTTP benches (hls-serve, auth-playlist, scale): runs wrk through the
 * core runner, refuses a run with non-2xx answers, reports socket errors, and adds the requests and
 * the measured duration to a tally (req/s = requests / seconds over all slices). With `latency`, wrk
 * runs with --latency and the slice also returns its latency percentiles (50/75/90/99, in ms); with
 * `failOnSocketErrors`, any connect/read/write error or timeout fails the slice instead of a note.
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
  /** run with --latency and parse the latency distribution */
  latency?: boolean;
  /** throw when wrk counts any socket error (timeouts included) */
  failOnSocketErrors?: boolean;
}

export interface SocketErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  socketErrors: SocketErrors;
  /** percentile ("50", "75", "90", "99") → ms; only with `latency` */
  latencyMs?: Record<string, number>;
}

const UNIT = { us: 1e-6, ms: 1e-3, s: 1, m: 60 } as const;
type Unit = keyof typeof UNIT;

/** wrk's --latency block: `     99%  12.34ms` lines → { "99": 12.34 } (ms). Pure, for tests. */
export function parseLatencyDistribution(out: string): Record<string, number> {
  const block = /Latency Distribution\n([\s\S]*?)(?:\n\s*\d+ requests in|$)/.exec(out)?.[1] ?? '';
  const pct: Record<string, number> = {};
  for (const m of block.matchAll(/^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m)\s*$/gm)) pct[m[1]!] = (Number(m[2]) * UNIT[m[3] as Unit]) / UNIT.ms;
  return pct;
}

export async function wrkSlice(url: string, tally: Tally, o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, ...(o.latency ? ['--latency'] : []), url];
  const r = await runCommand(o.bin ?? process.env.FLUX_WRK ?? 'wrk', args, { timeoutMs: (o.seconds + 30) * 1000 });
  const out = r.stdout.toString('utf8');
  if (r.code !== 0) throw new Error(`wrk failed (${r.code ?? r.spawnError ?? r.signal}): ${r.stderr || out}`);
  const m = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(out);
  if (!m) throw new Error(`cannot read wrk output:\n${out}`);
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`errors during the run of ${url}:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors: SocketErrors = { connect: Number(sock?.[1] ?? 0), read: Number(sock?.[2] ?? 0), write: Number(sock?.[3] ?? 0), timeout: Number(sock?.[4] ?? 0) };
  if (sock && o.failOnSocketErrors) throw new Error(`socket errors during the run of ${url} (wrk -c${o.connections}):\n${out}`);
  if (sock && socketErrors.connect + socketErrors.read + socketErrors.write > 0) o.log?.(`note: socket errors for ${url}: ${sock[0]}`);
  const result: WrkResult = { requests: Number(m[1]), seconds: Number(m[2]) * UNIT[m[3] as Unit], socketErrors };
  if (o.latency) {
    result.latencyMs = parseLatencyDistribution(out);
    if (result.latencyMs['99'] === undefined) throw new Error(`cannot read wrk's latency distribution:\n${out}`);
  }
  tally.requests += result.requests;
  tally.seconds += result.seconds;
  return result;
}
