/**
 * A node with 50 idle streams (publish:// inputs: 50 supervisors, no ffmpeg):
 *  - `flux stream list` wall time (median of 7 runs after 1 warm-up; target < 400 ms),
 *  - GET /api/v3/streams on the node socket (median of 30),
 *  - RSS of the node agent and of one supervisor without ffmpeg (median over supervisors; target < 60 MB each).
 * One measurement run = one node started, measured, stopped.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { CLI, publishStream, sleep, startNode, tempDir, waitFor } from '../test/helpers/index.js';

const N = Number(process.env.BENCH_STREAMS ?? 50);
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function rssMb(pid: number, field = 'Rss'): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
  return kb / 1024;
}

try {
  const dir = await tempDir(t, 'flux-bench-');
  const streams = Object.fromEntries(Array.from({ length: N }, (_, i) => [`ch${String(i).padStart(2, '0')}`, publishStream()]));
  const t0 = performance.now();
  const node = await startNode(t, { dir, streams });
  const started = performance.now() - t0;
  await waitFor(async () => Object.keys(await node.supervisorPids()).length === N, { timeoutMs: 120_000, message: `${N} supervisors` });
  await waitFor(
    async () => ((await node.api('GET', '/api/v3/streams')).json as { streams: { stats: { supervisor: { state: string } | null } }[] }).streams.every((s) => s.stats.supervisor?.state === 'running'),
    { timeoutMs: 120_000, message: 'every supervisor answering' },
  );
  await sleep(3000); // let start-up settle

  const cli = () => {
    const a = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'stream', 'list', '--config', node.configFile], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`stream list failed: ${r.stderr}`);
    if (r.stdout.trim().split('\n').length !== N + 1) throw new Error('stream list: unexpected output');
    return performance.now() - a;
  };
  const version = () => {
    const a = performance.now();
    spawnSync(process.execPath, [CLI, '--version'], { cwd: dir });
    return performance.now() - a;
  };
  cli();
  version();
  // interleaved, so that machine load hits both alike
  const samples = Array.from({ length: 7 }, () => [cli(), version()] as const);
  const listMs = median(samples.map((s) => s[0]));
  const versionMs = median(samples.map((s) => s[1]));

  const api: number[] = [];
  for (let i = 0; i < 30; i++) {
    const a = performance.now();
    const r = await node.api('GET', '/api/v3/streams');
    if (r.status !== 200) throw new Error(`GET /streams ${r.status}`);
    api.push(performance.now() - a);
  }
  const nodePid = (await node.info()).pid;
  await sleep(Number(process.env.FLUX_CONFIG_WORKER_IDLE_MS ?? 10_000) + 1000); // steady state: the config worker has exited
  const nodeRss = await rssMb(nodePid);
  const nodeAnon = await rssMb(nodePid, 'Anonymous');
  const supPids = Object.values(await node.supervisorPids());
  const supRss = median(await Promise.all(supPids.map((p) => rssMb(p))));
  const supAnon = median(await Promise.all(supPids.map((p) => rssMb(p, 'Anonymous'))));
  console.log(
    JSON.stringify({
      metrics: {
        stream_list_ms: { value: +listMs.toFixed(1), unit: 'ms', better: 'lower' },
        version_ms: { value: +versionMs.toFixed(1), unit: 'ms', better: 'lower' },
        over_version_ms: { value: +(listMs - versionMs).toFixed(1), unit: 'ms', better: 'lower' },
        api_streams_ms: { value: +median(api).toFixed(2), unit: 'ms', better: 'lower' },
        node_rss_mb: { value: +nodeRss.toFixed(1), unit: 'MB', better: 'lower' },
        supervisor_rss_mb: { value: +supRss.toFixed(1), unit: 'MB', better: 'lower' },
        node_anon_mb: { value: +nodeAnon.toFixed(1), unit: 'MB', better: 'lower' },
        supervisor_anon_mb: { value: +supAnon.toFixed(1), unit: 'MB', better: 'lower' },
        node_start_ms: { value: +started.toFixed(0), unit: 'ms', better: 'lower' },
      },
      notes: `${N} publish:// streams (idle supervisors, no ffmpeg); stream_list = wall time of ./bin/run.js stream list (median of 7, target < 400 ms), version = ./bin/run.js --version interleaved with it (oclif start-up floor); api = GET /api/v3/streams on node.sock (median of 30); RSS from /proc smaps_rollup at steady state (supervisor: median over all ${N}), target < 60 MB each; *_anon = its private anonymous part (the rest is node's shared binary pages, ~40 MB for a bare node); node_start = flux node start until it answered`,
    }),
  );
} finally {
  for (const fn of cleanups) await fn();
}
