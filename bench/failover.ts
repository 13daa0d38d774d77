/**
 * Failover time of the stream supervisor: a udp:// primary (an ffmpeg test source relayed to a
 * UDP port) and a fake:// backup (started on demand). 20 times: the primary goes silent → time
 * until the first complete HLS segment from the backup is on disk (the playlist names it); then
 * the primary comes back and the supervisor returns to it (return_after 1 s) before the next round.
 * source_timeout 1 s, segment_duration 1 s, 160x120@15 sources. In-process Supervisor with the
 * daemon's own dependencies (real HlsWriter, src/ffmpeg arguments, demux monitor).
 *
 *   node --import tsx bench/failover.ts        (or: npm run bench -- failover)
 *
 * Last stdout line: {"metrics":{"failover_median_ms":…,"failover_max_ms":…,"switch_median_ms":…},"notes":"…"}
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../src/config/resolve.js';
import type { ConfigInput } from '../src/config/schema.js';
import { silentLogger } from '../src/core/logger.js';
import { supervisorDeps } from '../src/daemons/stream/main.js';
import { specHashOf } from '../src/daemons/stream/spec.js';
import { Supervisor, type SegmentLike } from '../src/daemons/stream/supervisor.js';

const ROUNDS = Number(process.env.FLUX_BENCH_ROUNDS ?? 20);
const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-failover-'));
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = await new Promise<number>((resolve) => {
    const probe = dgram.createSocket('udp4');
    probe.bind(0, '127.0.0.1', () => {
      const p = probe.address().port;
      probe.close(() => resolve(p));
    });
  });

  // the primary: one ffmpeg encoder for the whole run; "killing" the primary stops the relay
  const src = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p', '-f', 'mpegts', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let primaryOn = true;
  let pending: Buffer = Buffer.alloc(0);
  src.stdout!.on('data', (c: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, c]) : c;
    while (pending.length >= 1316) {
      if (primaryOn) sock.send(pending.subarray(0, 1316), port, '127.0.0.1');
      pending = pending.subarray(1316);
    }
  });

  const cfg = {
    server: { data_dir: path.join(dir, 'data'), run_dir: path.join(dir, 'run') },
    streams: {
      bench: {
        inputs: [
          { url: `udp://127.0.0.1:${port}`, source_timeout: '1s', return_after: '1s' },
          { url: 'fake://testsrc?size=128x96&fps=15', priority: 2, source_timeout: '1s' },
        ],
        hls: { segment_duration: '1s', window: 10 },
      },
    },
  } as unknown as ConfigInput;
  const resolved = resolveConfig(cfg, path.join(dir, 'flux.yaml'));
  const stream = resolved.streams.bench!;
  const spec = { stream, server: resolved.server, specHash: specHashOf(stream), ffmpeg: FFMPEG };
  const sup = new Supervisor({ stream, server: resolved.server, specHash: spec.specHash }, await supervisorDeps(spec, silentLogger));
  const segs: { at: number; seg: SegmentLike }[] = [];
  sup.segmentListeners.add((seg) => segs.push({ at: Date.now(), seg }));
  await sup.start();

  const failover: number[] = [];
  const detect: number[] = [];
  const returns: number[] = [];
  try {
    await until('primary segments', () => segs.length >= 2 && sup.status().activeInput === 0, 20_000);
    for (let round = 0; round < ROUNDS; round++) {
      // steady on the primary: at least one segment after the last return
      const mark = segs.length;
      await until('a primary segment', () => segs.length > mark && sup.status().activeInput === 0, 15_000);
      primaryOn = false;
      const t0 = Date.now();
      const n0 = segs.length;
      await until('switch', () => sup.status().activeInput === 1, 10_000);
      detect.push(Date.now() - t0);
      const first = await until('first backup segment', () => segs.slice(n0).find((s) => s.seg.discontinuity), 15_000);
      failover.push(first.at - t0);
      await sleep(300);
      primaryOn = true;
      const t1 = Date.now();
      await until('return to the primary', () => sup.status().activeInput === 0, 15_000);
      returns.push(Date.now() - t1);
      process.stderr.write(`round ${round + 1}: switch ${detect.at(-1)} ms, first backup segment ${failover.at(-1)} ms, return ${returns.at(-1)} ms\n`);
    }
  } finally {
    await sup.stop();
    src.kill('SIGKILL');
    sock.close();
    await rm(dir, { recursive: true, force: true });
  }
  const st = sup.status();
  console.log(`${ROUNDS} failovers: first backup segment median ${median(failover)} ms, max ${Math.max(...failover)} ms; switch decided median ${median(detect)} ms; return median ${median(returns)} ms; restarts ${st.restarts}`);
  console.log(
    JSON.stringify({
      metrics: {
        failover_median_ms: { value: median(failover), unit: 'ms', better: 'lower' },
        failover_max_ms: { value: Math.max(...failover), unit: 'ms', better: 'lower' },
        switch_median_ms: { value: median(detect), unit: 'ms', better: 'lower' },
      },
      notes: `${ROUNDS} rounds: udp primary silenced → first complete 1 s HLS segment from the on-demand fake:// backup (ffmpeg start + encode + segment); source_timeout 1 s, return_after 1 s, 160x120@15; switch = supervisor decision time; node ${process.version}`,
    }),
  );
}

await main();
