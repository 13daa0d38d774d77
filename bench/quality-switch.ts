/**
 * Time from a black picture to the switch (failover_on black): a udp:// primary from one ffmpeg
 * encoder whose picture is black for 10 s of every 20 s (drawbox over the whole frame), a fake://
 * backup. failover_on { black: 2s }, return_after 2s, keyframe every 1 s, 320x180@25. Each round:
 * the picture turns black → the supervisor switches (measured from the onset, on the sender's clock
 * from its first byte) → the picture comes back → it returns. In-process Supervisor with the daemon's
 * own dependencies (real quality watch, HLS writer, src/ffmpeg arguments).
 *
 *   node --import tsx bench/quality-switch.ts   (or: npm run bench -- quality-switch; FLUX_BENCH_ROUNDS=1 for a quick check)
 *
 * Last stdout line: {"metrics":{"black_to_switch_median_ms":…,"black_to_switch_max_ms":…},"notes":"…"}
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
import { Supervisor } from '../src/daemons/stream/supervisor.js';

const ROUNDS = Number(process.env.FLUX_BENCH_ROUNDS ?? 20);
const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
const CYCLE_S = 20;
const BLACK_FROM_S = 10;
const THRESHOLD_MS = 2000;

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

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-qswitch-'));
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = await new Promise<number>((resolve) => {
    const probe = dgram.createSocket('udp4');
    probe.bind(0, '127.0.0.1', () => {
      const p = probe.address().port;
      probe.close(() => resolve(p));
    });
  });
  const video = `testsrc2=size=320x180:rate=25,drawbox=enable='gte(mod(t\\,${CYCLE_S})\\,${BLACK_FROM_S})':c=black:t=fill`;
  const src = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', video, '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mpegts', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let t0 = 0;
  let pending: Buffer = Buffer.alloc(0);
  src.stdout!.on('data', (c: Buffer) => {
    if (!t0) t0 = Date.now();
    pending = pending.length ? Buffer.concat([pending, c]) : c;
    while (pending.length >= 1316) {
      sock.send(pending.subarray(0, 1316), port, '127.0.0.1');
      pending = pending.subarray(1316);
    }
  });
  const cfg = {
    server: { data_dir: path.join(dir, 'data'), run_dir: path.join(dir, 'run') },
    streams: {
      bench: {
        inputs: [
          { url: `udp://127.0.0.1:${port}`, source_timeout: '3s', return_after: '2s', failover_on: { black: `${THRESHOLD_MS / 1000}s` } },
          { url: 'fake://testsrc?size=128x96&fps=15', priority: 2 },
        ],
        hls: { segment_duration: '1s', window: 10 },
      },
    },
  } as unknown as ConfigInput;
  const resolved = resolveConfig(cfg, path.join(dir, 'flux.yaml'));
  const stream = resolved.streams.bench!;
  const spec = { stream, server: resolved.server, specHash: specHashOf(stream), ffmpeg: FFMPEG };
  const sup = new Supervisor({ stream, server: resolved.server, specHash: spec.specHash }, await supervisorDeps(spec, silentLogger));
  await sup.start();
  const switches: number[] = [];
  try {
    await until('the primary active', () => t0 && sup.status().activeInput === 0, 20_000);
    for (let round = 0; round < ROUNDS; round++) {
      const onset = t0 + (round * CYCLE_S + BLACK_FROM_S) * 1000;
      await until('switch to the backup', () => sup.status().activeInput === 1, onset - Date.now() + 10_000);
      switches.push(Date.now() - onset);
      await until('return to the primary', () => sup.status().activeInput === 0, 20_000);
      process.stderr.write(`round ${round + 1}: switch ${switches.at(-1)} ms after the picture turned black\n`);
    }
  } finally {
    await sup.stop();
    src.kill('SIGKILL');
    sock.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      metrics: {
        black_to_switch_median_ms: { value: median(switches), unit: 'ms', better: 'lower' },
        black_to_switch_max_ms: { value: Math.max(...switches), unit: 'ms', better: 'lower' },
      },
      notes: `${ROUNDS} rounds; failover_on black 2 s (so ≥ 2000 ms by design), keyframe every 1 s, 320x180@25 udp primary black 10 s of every 20 s; onset on the sender's clock from its first byte; node ${process.version}`,
    }),
  );
}

await main();
