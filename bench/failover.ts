/**
 * Failover time of the stream supervisor, four scenarios in one run: a udp:// primary (an ffmpeg
 * test source relayed to a UDP port) fails over onto
 *  - fake:     a fake:// backup (ffmpeg lavfi + libx264), started on demand;
 *  - fake_warm: the same with `warm: true` (running before the failover);
 *  - transcoded: a udp:// backup of a transcoded stream (one 160x120 libx264 profile): on demand, a
 *    transcoder starts on the backup's bytes (probing 1 s, LIVE_PROBE) at the failover;
 *  - transcoded_warm: the same with `warm: true` (its transcoder runs beside the primary's).
 * ROUNDS times each (FLUX_BENCH_ROUNDS, default 10): the primary goes silent → time until the first
 * complete HLS segment from the backup is on disk (the playlist names it); then the primary comes back
 * and the supervisor returns to it (return_after 1 s) before the next round. source_timeout 1 s,
 * segment_duration 1 s, 160x120@15 sources. In-process Supervisor with the daemon's own dependencies
 * (real HlsWriter, src/ffmpeg arguments, demux monitor). Target (issue #14): the first backup segment
 * ≤ source_timeout + 1.5 s = 2.5 s.
 *
 *   node --import tsx bench/failover.ts        (or: npm run bench -- failover)
 *
 * Last stdout line: {"metrics":{"<scenario>_failover_median_ms":…,"<scenario>_failover_max_ms":…,"<scenario>_switch_median_ms":…},"notes":"…"}
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

const ROUNDS = Number(process.env.FLUX_BENCH_ROUNDS ?? 10);
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

interface Scenario {
  name: string;
  backup: (backupPort: number) => Record<string, unknown>;
  transcoder?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'fake', backup: () => ({ url: 'fake://testsrc?size=128x96&fps=15', priority: 2, source_timeout: '1s' }) },
  { name: 'fake_warm', backup: () => ({ url: 'fake://testsrc?size=128x96&fps=15', priority: 2, source_timeout: '1s', warm: true }) },
  { name: 'transcoded', backup: (p) => ({ url: `udp://127.0.0.1:${p}`, priority: 2, source_timeout: '1s' }), transcoder: true },
  { name: 'transcoded_warm', backup: (p) => ({ url: `udp://127.0.0.1:${p}`, priority: 2, source_timeout: '1s', warm: true }), transcoder: true },
];

async function freeUdpPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = dgram.createSocket('udp4');
    probe.bind(0, '127.0.0.1', () => {
      const p = probe.address().port;
      probe.close(() => resolve(p));
    });
  });
}

interface ScenarioResult {
  failover: number[];
  detect: number[];
  returns: number[];
  restarts: number;
}

async function runScenario(sc: Scenario, relay: { primaryPort: number; backupPort: number; setPrimary: (on: boolean) => void }): Promise<ScenarioResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-bench-failover-'));
  const cfg = {
    server: { data_dir: path.join(dir, 'data'), run_dir: path.join(dir, 'run') },
    streams: {
      bench: {
        inputs: [{ url: `udp://127.0.0.1:${relay.primaryPort}`, source_timeout: '1s', return_after: '1s' }, sc.backup(relay.backupPort)],
        hls: { segment_duration: '1s', window: 10 },
        ...(sc.transcoder ? { transcoder: { video: [{ bitrate: '300k', size: '160x120', preset: 'ultrafast' }] } } : {}),
      },
    },
  } as unknown as ConfigInput;
  const resolved = resolveConfig(cfg, path.join(dir, 'flux.yaml'));
  const stream = resolved.streams.bench!;
  const spec = { stream, server: resolved.server, specHash: specHashOf(stream), ffmpeg: FFMPEG };
  const sup = new Supervisor({ stream, server: resolved.server, specHash: spec.specHash }, await supervisorDeps(spec, silentLogger));
  const segs: { at: number; seg: SegmentLike }[] = [];
  sup.segmentListeners.add((seg) => segs.push({ at: Date.now(), seg }));
  relay.setPrimary(true);
  await sup.start();
  const r: ScenarioResult = { failover: [], detect: [], returns: [], restarts: 0 };
  try {
    await until('primary segments', () => segs.length >= 2 && sup.status().activeInput === 0, 30_000);
    for (let round = 0; round < ROUNDS; round++) {
      // steady on the primary (and the standby warm): a segment after the last return, then 1 s
      const mark = segs.length;
      await until('a primary segment', () => segs.length > mark && sup.status().activeInput === 0, 15_000);
      await sleep(1000);
      relay.setPrimary(false);
      const t0 = Date.now();
      const n0 = segs.length;
      await until('switch', () => sup.status().activeInput === 1, 10_000);
      r.detect.push(Date.now() - t0);
      const first = await until('first backup segment', () => segs.slice(n0).find((s) => s.seg.discontinuity), 15_000);
      r.failover.push(first.at - t0);
      await sleep(300);
      relay.setPrimary(true);
      const t1 = Date.now();
      await until('return to the primary', () => sup.status().activeInput === 0, 15_000);
      r.returns.push(Date.now() - t1);
      process.stderr.write(`${sc.name} round ${round + 1}: switch ${r.detect.at(-1)} ms, first backup segment ${r.failover.at(-1)} ms, return ${r.returns.at(-1)} ms\n`);
    }
  } finally {
    await sup.stop();
    r.restarts = sup.status().restarts;
    await rm(dir, { recursive: true, force: true });
  }
  return r;
}

async function main(): Promise<void> {
  const only = process.env.FLUX_BENCH_SCENARIOS?.split(',');
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const primaryPort = await freeUdpPort();
  const backupPort = await freeUdpPort();
  // one ffmpeg encoder for the whole run, relayed to both ports; "killing" the primary stops its relay
  const src = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p', '-f', 'mpegts', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let primaryOn = true;
  let pending: Buffer = Buffer.alloc(0);
  src.stdout!.on('data', (c: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, c]) : c;
    while (pending.length >= 1316) {
      const dgramBytes = pending.subarray(0, 1316);
      if (primaryOn) sock.send(dgramBytes, primaryPort, '127.0.0.1');
      sock.send(dgramBytes, backupPort, '127.0.0.1');
      pending = pending.subarray(1316);
    }
  });
  const relay = { primaryPort, backupPort, setPrimary: (on: boolean) => void (primaryOn = on) };
  const metrics: Record<string, { value: number; unit: string; better: 'lower' | 'higher' }> = {};
  const summary: string[] = [];
  try {
    for (const sc of SCENARIOS) {
      if (only && !only.includes(sc.name)) continue;
      const r = await runScenario(sc, relay);
      metrics[`${sc.name}_failover_median_ms`] = { value: median(r.failover), unit: 'ms', better: 'lower' };
      metrics[`${sc.name}_failover_max_ms`] = { value: Math.max(...r.failover), unit: 'ms', better: 'lower' };
      metrics[`${sc.name}_switch_median_ms`] = { value: median(r.detect), unit: 'ms', better: 'lower' };
      summary.push(`${sc.name}: first backup segment median ${median(r.failover)} ms (max ${Math.max(...r.failover)}), switch ${median(r.detect)} ms, return ${median(r.returns)} ms, restarts ${r.restarts}`);
      console.log(summary.at(-1));
    }
  } finally {
    src.kill('SIGKILL');
    sock.close();
  }
  console.log(
    JSON.stringify({
      metrics,
      notes: `${ROUNDS} rounds per scenario: udp primary silenced → first complete 1 s HLS segment from the backup (fake = fake:// libx264 on demand; transcoded = udp backup into a 160x120 libx264 ladder, transcoder started at the failover; *_warm = warm: true, running before); source_timeout 1 s (target ≤ 2.5 s), return_after 1 s, 160x120@15; switch = supervisor decision time; ${summary.join('; ')}; node ${process.version}`,
    }),
  );
}

await main();
