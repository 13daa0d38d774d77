/**
 * CPU per SRT ingest stream (issue #14: "same for SRT and UDP passthrough: CPU per stream and streams
 * per core"), for both ways SRT comes in:
 *  - publish: N callers publish to the node's one SRT port (`server.srt`, streamid `publish:sN`) into
 *    `publish://` streams: the agent's UDP relay + one ffmpeg listener per publisher (libsrt) + the TS
 *    piped into the supervisor;
 *  - listen: N `srt://127.0.0.1:P?mode=listener` inputs, each a supervisor's own ffmpeg (libsrt →
 *    MPEG-TS, stream copy), with a caller per stream.
 * Senders: `ffmpeg -re -stream_loop -1 -c copy -f mpegts srt://…` of a pre-encoded 720p25 ~4 Mbit/s
 * H.264 + AAC TS (the udp-passthrough bench's file); they are not counted. CPU = utime+stime over the
 * window of the agent and every descendant of it (supervisors and all ffmpeg children), from /proc;
 * per stream = total ÷ N in % of one core; streams_per_core = 100 ÷ that.
 *
 *   node --import tsx bench/srt-ingest.ts    (FLUX_BENCH_STREAMS=4, FLUX_BENCH_WINDOW=20; build first)
 *   npm run bench -- srt-ingest --runs 3
 *
 * Last stdout line: {"metrics":{…},"notes":"…"}
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { tsClip720p4M } from './clips.js';
import { freePort, freeUdpPort, sleep, startNode, tempDir, waitFor, type NodeHandle } from '../test/helpers/index.js';
import { CLK_TCK, cpuSeconds, procStat, treeTicks } from './proc-cpu.js';

const N = Number(process.env.FLUX_BENCH_STREAMS ?? 4);
const WINDOW_S = Number(process.env.FLUX_BENCH_WINDOW ?? 20);
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const log = (m: string) => process.stderr.write(`${m}\n`);


const senders: ChildProcess[] = [];
function send(src: string, url: string): void {
  const c = spawn('ffmpeg', ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', '-i', src, '-c', 'copy', '-f', 'mpegts', url], { stdio: 'ignore' });
  senders.push(c);
}

interface Streams {
  streams: { name: string; stats: { bitrate: number; inputs: { cc_errors: number }[] } }[];
}

async function measure(node: NodeHandle, what: string): Promise<{ perStream: number; agent: number; cc: number; kbps: number }> {
  await waitFor(async () => {
    const doc = (await node.api('GET', '/api/v3/streams')).json as Streams;
    return doc.streams.length === N && doc.streams.every((s) => s.stats.bitrate > 1_000_000);
  }, { timeoutMs: 90_000, message: `every ${what} stream receiving` });
  await sleep(4000);
  const [a, agentA] = [await treeTicks([node.pid]), await procStat(node.pid)];
  const t0 = Date.now();
  await sleep(WINDOW_S * 1000);
  const [b, agentB] = [await treeTicks([node.pid]), await procStat(node.pid)];
  const wall = (Date.now() - t0) / 1000;
  const doc = (await node.api('GET', '/api/v3/streams')).json as Streams;
  const total = cpuSeconds(a, b).seconds;
  const agent = agentA && agentB ? (agentB.ticks - agentA.ticks) / CLK_TCK : NaN;
  return {
    perStream: (total / N / wall) * 100,
    agent: (agent / wall) * 100,
    cc: doc.streams.reduce((n, s) => n + (s.stats.inputs[0]?.cc_errors ?? 0), 0),
    kbps: doc.streams.reduce((n, s) => n + s.stats.bitrate, 0) / N / 1000,
  };
}

async function stopSenders(): Promise<void> {
  for (const c of senders.splice(0)) c.kill('SIGKILL');
  await sleep(500);
}

try {
  const src = tsClip720p4M();
  const load0 = os.loadavg().map((l) => l.toFixed(2)).join(' ');

  // publish: one SRT port, the agent relays each caller to its own ffmpeg listener
  const dir1 = await tempDir(t, 'flux-bench-srt-');
  const srtPort = await freeUdpPort();
  const pubStreams = Object.fromEntries(Array.from({ length: N }, (_, i) => [`p${i}`, { inputs: [{ url: 'publish://' }], hls: { segment_duration: '2s' } }]));
  const node1 = await startNode(t, { dir: dir1, server: { srt: srtPort, rtmp: await freePort() }, streams: pubStreams });
  await waitFor(async () => Object.keys(await node1.supervisorPids()).length === N, { timeoutMs: 60_000, message: 'supervisors' });
  for (let i = 0; i < N; i++) send(src, `srt://127.0.0.1:${srtPort}?streamid=publish:p${i}&pkt_size=1316`);
  const pub = await measure(node1, 'publish');
  log(`publish: ${pub.perStream.toFixed(2)} % per stream (agent ${pub.agent.toFixed(2)} %), ${pub.kbps.toFixed(0)} kbit/s, cc ${pub.cc}`);
  await stopSenders();
  await node1.stop();

  // listen: each stream's supervisor runs ffmpeg as the SRT listener
  const dir2 = await tempDir(t, 'flux-bench-srt-');
  const ports = await Promise.all(Array.from({ length: N }, () => freeUdpPort()));
  const lisStreams = Object.fromEntries(ports.map((p, i) => [`l${i}`, { inputs: [{ url: `srt://127.0.0.1:${p}`, srt_mode: 'listener' }], hls: { segment_duration: '2s' } }]));
  const node2 = await startNode(t, { dir: dir2, streams: lisStreams });
  await waitFor(async () => Object.keys(await node2.supervisorPids()).length === N, { timeoutMs: 60_000, message: 'supervisors' });
  await sleep(3000); // the listeners are up before the callers dial
  for (const p of ports) send(src, `srt://127.0.0.1:${p}?mode=caller&pkt_size=1316`);
  const lis = await measure(node2, 'listen');
  log(`listen: ${lis.perStream.toFixed(2)} % per stream (agent ${lis.agent.toFixed(2)} %), ${lis.kbps.toFixed(0)} kbit/s, cc ${lis.cc}`);
  await stopSenders();
  await node2.stop();

  const load1 = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const m = (value: number, unit: string, better: 'lower' | 'higher') => ({ value: +value.toFixed(2), unit, better });
  console.log(JSON.stringify({
    metrics: {
      srt_publish_cpu_pct_per_stream: m(pub.perStream, '% of a core', 'lower'),
      srt_publish_streams_per_core: m(100 / pub.perStream, 'streams', 'higher'),
      srt_publish_agent_cpu_pct: m(pub.agent, '% of a core', 'lower'),
      srt_listen_cpu_pct_per_stream: m(lis.perStream, '% of a core', 'lower'),
      srt_listen_streams_per_core: m(100 / lis.perStream, 'streams', 'higher'),
    },
    notes: `${N} streams each way, ${WINDOW_S} s window after every stream passed 1 Mbit/s + 4 s; CPU = agent + supervisors + all their ffmpeg children (senders not counted); ~${pub.kbps.toFixed(0)} / ${lis.kbps.toFixed(0)} kbit/s per stream, cc errors ${pub.cc} / ${lis.cc} (publish / listen); load ${load0} → ${load1}; no peer (srt-live-transmit does not segment)`,
  }));
} finally {
  await stopSenders();
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
}
