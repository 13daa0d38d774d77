/**
 * Observability cost at N idle streams (default 200 publish:// inputs: N supervisors, no ffmpeg):
 *  - GET /metrics on the HTTP port: median and p95 of 30 scrapes (target < 100 ms at 200 streams),
 *  - the node agent's CPU (% of one core) and RSS over a quiet window, first without sinks or
 *    scrapes, then with one webhook sink (a loopback HTTP server) and a scrape every 2 s, while a
 *    few streams are restarted to make events flow.
 * The supervisors' event long polls run in both windows (they are always on). One run = one node.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { publishStream, sleep, startNode, tempDir, waitFor } from '../test/helpers/index.js';

const N = Number(process.env.BENCH_STREAMS ?? 200);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 20);
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ = 100
}

async function rssMb(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) / 1024;
}

async function window(pid: number, during: () => Promise<void>): Promise<{ cpu: number; rss: number }> {
  const c0 = await cpuSeconds(pid);
  const a = performance.now();
  await during();
  const c1 = await cpuSeconds(pid);
  return { cpu: ((c1 - c0) / ((performance.now() - a) / 1000)) * 100, rss: await rssMb(pid) };
}

try {
  const dir = await tempDir(t, 'flux-bench-');
  let received = 0;
  const sink = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received += (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  t.after(() => sink.close());
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;

  const streams = Object.fromEntries(Array.from({ length: N }, (_, i) => [`ch${String(i).padStart(3, '0')}`, publishStream()]));
  const node = await startNode(t, { dir, streams });
  await waitFor(async () => Object.keys(await node.supervisorPids()).length === N, { timeoutMs: 300_000, message: `${N} supervisors` });
  await waitFor(
    async () => ((await node.api('GET', '/api/v3/streams')).json as { streams: { stats: { supervisor: { state: string } | null } }[] }).streams.every((s) => s.stats.supervisor?.state === 'running'),
    { timeoutMs: 300_000, message: 'every supervisor answering' },
  );
  await sleep(5000); // let start-up settle
  const pid = (await node.info()).pid;

  const scrape = async () => {
    const a = performance.now();
    const r = await fetch(`${node.baseUrl}/metrics`);
    const text = await r.text();
    if (r.status !== 200 || !text.includes('flux_stream_up')) throw new Error(`/metrics ${r.status}`);
    return performance.now() - a;
  };
  await scrape(); // first scrape loads prom-client
  const lat: number[] = [];
  for (let i = 0; i < 30; i++) lat.push(await scrape());

  const quiet = await window(pid, () => sleep(WINDOW_S * 1000));

  const yaml = await readFile(node.configFile, 'utf8');
  await writeFile(node.configFile, `${yaml}\nevents:\n  sinks:\n    - url: ${sinkUrl}\n`);
  await node.api('POST', '/api/v3/config/reload');
  const names = Object.keys(streams);
  const busy = await window(pid, async () => {
    for (let s = 0; s < WINDOW_S; s += 2) {
      await Promise.all([scrape(), node.api('POST', `/api/v3/streams/${names[(s / 2) % names.length]}/restart`), sleep(2000)]);
    }
  });
  if (received === 0) throw new Error('the sink received no events');

  console.log(
    JSON.stringify({
      metrics: {
        metrics_scrape_ms: { value: +median(lat).toFixed(1), unit: 'ms', better: 'lower' },
        metrics_scrape_p95_ms: { value: +p95(lat).toFixed(1), unit: 'ms', better: 'lower' },
        agent_cpu_pct_quiet: { value: +quiet.cpu.toFixed(2), unit: '%', better: 'lower' },
        agent_cpu_pct_sink_scrape: { value: +busy.cpu.toFixed(2), unit: '%', better: 'lower' },
        agent_rss_mb_quiet: { value: +quiet.rss.toFixed(1), unit: 'MB', better: 'lower' },
        agent_rss_mb_sink_scrape: { value: +busy.rss.toFixed(1), unit: 'MB', better: 'lower' },
      },
      notes: `${N} publish:// streams (idle supervisors); scrape = GET /metrics over HTTP (30 after a warm-up; target < 100 ms); CPU = agent utime+stime over a ${WINDOW_S} s window, quiet (no sink, no scrape) vs one webhook sink + a scrape and a stream restart every 2 s (${received} events delivered); RSS at the end of each window`,
    }),
  );
} finally {
  for (const fn of cleanups) await fn();
}
