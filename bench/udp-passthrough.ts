/**
 * CPU of one passthrough 4 Mbps UDP stream (issue: native TS passthrough, no ffmpeg in Flux).
 * A node with N `udp://127.0.0.1:PORT` streams; ffmpeg sends a pre-encoded ~4 Mbps H.264/AAC TS to
 * each (`-re -c copy`, 1316-byte datagrams). After a warm-up, the supervisors' CPU (utime+stime from
 * /proc) over the window is divided by N and by wall time: % of one core per stream.
 * The sender's CPU is not counted. One run = one node started, measured, stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tsClip720p4M } from './clips.js';
import { freePort, sleep, startNode, tempDir, waitFor } from '../test/helpers/index.js';

const N = Number(process.env.BENCH_STREAMS ?? 4);
const WINDOW_S = Number(process.env.BENCH_WINDOW ?? 20);
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const TICK = 100; // USER_HZ on Linux


async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}

const senders: ChildProcess[] = [];
try {
  const src = tsClip720p4M();
  const dir = await tempDir(t, 'flux-bench-udp-');
  const ports = await Promise.all(Array.from({ length: N }, () => freePort()));
  const streams = Object.fromEntries(ports.map((p, i) => [`u${i}`, { inputs: [{ url: `udp://127.0.0.1:${p}` }], hls: { segment_duration: '2s' } }]));
  const node = await startNode(t, { dir, streams });
  const pidsDir = path.join(node.runDir, 'streams');
  await waitFor(() => readdirSync(pidsDir).filter((f) => f.endsWith('.pid')).length === N, { timeoutMs: 60_000, message: 'supervisors' });
  for (const p of ports) {
    const c = spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', '-i', src, '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${p}?pkt_size=1316`], { stdio: 'ignore' });
    senders.push(c);
  }
  await waitFor(async () => {
    const doc = (await node.api('GET', '/api/v3/streams')).json as { streams: { stats: { bitrate: number } }[] };
    return doc.streams.length === N && doc.streams.every((s) => s.stats.bitrate > 1_000_000);
  }, { timeoutMs: 60_000, message: 'every stream receiving' });
  await sleep(4000);
  const pids = Object.values(await node.supervisorPids()) as number[];
  const before = await Promise.all(pids.map(cpuTicks));
  const nodeBefore = await cpuTicks(node.pid);
  const t0 = Date.now();
  await sleep(WINDOW_S * 1000);
  const wall = (Date.now() - t0) / 1000;
  const after = await Promise.all(pids.map(cpuTicks));
  const nodeAfter = await cpuTicks(node.pid);
  const doc = (await node.api('GET', '/api/v3/streams')).json as { streams: { stats: { bitrate: number; inputs: { cc_errors: number }[] } }[] };
  const bitrate = doc.streams.reduce((a, s) => a + s.stats.bitrate, 0) / N;
  const cc = doc.streams.reduce((a, s) => a + (s.stats.inputs[0]?.cc_errors ?? 0), 0);
  const supCpuS = after.reduce((a, v, i) => a + v - before[i]!, 0) / TICK;
  const perStreamPct = (supCpuS / N / wall) * 100;
  const nodePct = ((nodeAfter - nodeBefore) / TICK / wall) * 100;
  console.log(JSON.stringify({
    metrics: {
      cpu_pct_per_stream: { value: +perStreamPct.toFixed(2), unit: '% of a core', better: 'lower' },
      node_agent_cpu_pct: { value: +nodePct.toFixed(2), unit: '% of a core', better: 'lower' },
      input_bitrate_per_stream: { value: Math.round(bitrate / 1000), unit: 'kbit/s', better: 'higher' },
      streams_per_core: { value: +(100 / perStreamPct).toFixed(0), unit: 'streams', better: 'higher' },
    },
    notes: `${N} udp passthrough streams (${WINDOW_S} s window after warm-up), supervisors' utime+stime; sender ffmpeg not counted; cc errors seen ${cc}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  }));
} finally {
  for (const c of senders) c.kill('SIGKILL');
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
}
