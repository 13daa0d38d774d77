/**
 * Cluster takeover on one machine: a real etcd and three real nodes (`flux node start`, lease_ttl
 * 5 s), one shared cluster_ingest stream (fake:// 160x120, 1 s segments).
 *
 *  1. takeover: ROUNDS times, kill -9 the owner's agent and captures (its machine dying) → time
 *     until another node's live playlist lists a segment that started after the kill; the killed
 *     node is started again and rejoins before the next round.
 *  2. duplicate capture: during the rounds, every 100 ms, how many nodes have a live supervisor of
 *     the stream; the time with two or more (should be 0).
 *  3. etcd writes: STREAMS shared cluster_ingest publish:// streams (idle: no ffmpeg), the etcd
 *     revision (one per write) counted over WRITES_S seconds, per node.
 *
 *   node --import tsx bench/cluster-takeover.ts      (or: npm run bench -- cluster-takeover)
 *   FLUX_BENCH_ROUNDS (20), FLUX_BENCH_LEASE_TTL (5s), FLUX_BENCH_STREAMS (50), FLUX_BENCH_WRITES_S (30)
 *
 * Last stdout line: {"metrics":{"takeover_median_ms":…,"takeover_max_ms":…,"duplicate_ms":…,"etcd_writes_per_s_per_node":…},"notes":"…"}
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { killLeftovers, pidAlive, sleep, startNode, tempDir, waitFor, type NodeHandle } from '../test/helpers/index.js';
import { startEtcd } from '../test/helpers/etcd.js';

const ROUNDS = Number(process.env.FLUX_BENCH_ROUNDS ?? 20);
const LEASE_TTL = process.env.FLUX_BENCH_LEASE_TTL ?? '5s';
const STREAMS = Number(process.env.FLUX_BENCH_STREAMS ?? 50);
const WRITES_S = Number(process.env.FLUX_BENCH_WRITES_S ?? 30);

const cleanups: (() => unknown)[] = [];
const ctx = { after: (fn: () => unknown) => void cleanups.push(fn) };

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}

interface BenchNode extends NodeHandle {
  name: string;
}

async function capturing(nodes: BenchNode[], stream: string): Promise<BenchNode[]> {
  const out: BenchNode[] = [];
  for (const n of nodes) {
    const pid = (await n.supervisorPids())[stream];
    if (pid && (await pidAlive(pid))) out.push(n);
  }
  return out;
}

async function freshSegment(n: BenchNode, stream: string, since: number): Promise<boolean> {
  const r = await fetch(`${n.baseUrl}/${stream}/tracks-v1a1/index.m3u8`, { redirect: 'manual' }).catch(() => undefined);
  if (!r || r.status !== 200) return false;
  return [...(await r.text()).matchAll(/(\d{13})-\d+\.ts/g)].some((m) => Number(m[1]) >= since);
}

async function main(): Promise<void> {
  const dir = await tempDir(ctx, 'flux-bench-cluster-');
  const etcd = await startEtcd(ctx, dir);
  const nodes: BenchNode[] = [];
  for (const name of ['n1', 'n2', 'n3']) {
    const nd = await startNode(ctx, { dir: await tempDir(ctx, `fb${name}-`), streams: {}, extra: { cluster: { etcd: [etcd.url], node_name: name, lease_ttl: LEASE_TTL, return_after: '1h' } } });
    nodes.push(Object.assign(nd, { name }));
  }
  const peersOk = async (n: BenchNode, count: number) => {
    const st = (await n.api('GET', '/api/v3/cluster/status')).json as { cluster: string; peers: unknown[] };
    return st?.cluster === 'ok' && st.peers.length === count;
  };
  for (const n of nodes) await waitFor(() => peersOk(n, 3), { timeoutMs: 30_000, message: 'peers' });
  const apply = async (streams: Record<string, unknown>) => {
    const file = path.join(dir, 'shared.json');
    await writeFile(file, JSON.stringify({ streams }));
    const r = await nodes[0]!.cli(['cluster', 'apply', file]);
    if (r.code !== 0) throw new Error(`cluster apply: ${r.stderr}`);
  };
  const STREAM = 'bench';
  await apply({ [STREAM]: { inputs: [{ url: 'fake://testsrc?size=160x120&fps=10&tone=0' }], hls: { segment_duration: '1s', window: 4 }, cluster_ingest: true } });

  // sampler: duplicate captures
  let duplicateMs = 0;
  let sampling = true;
  const sampler = (async () => {
    let last = Date.now();
    while (sampling) {
      const now = Date.now();
      if ((await capturing(nodes, STREAM)).length > 1) duplicateMs += now - last;
      last = now;
      await sleep(100);
    }
  })();

  const takeovers: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const owner = await waitFor(async () => {
      const c = await capturing(nodes, STREAM);
      return c.length === 1 && (await freshSegment(c[0]!, STREAM, Date.now() - 3000)) ? c[0] : undefined;
    }, { timeoutMs: 60_000, message: 'one owner live' });
    const killedAt = Date.now();
    owner.kill();
    await killLeftovers(owner.runDir);
    const others = nodes.filter((n) => n !== owner);
    await waitFor(async () => {
      for (const n of others) if (await freshSegment(n, STREAM, killedAt)) return true;
      return false;
    }, { timeoutMs: 60_000, intervalMs: 50, message: 'takeover' });
    takeovers.push(Date.now() - killedAt);
    process.stderr.write(`round ${round + 1}/${ROUNDS}: ${owner.name} killed, takeover ${takeovers.at(-1)} ms\n`);
    await owner.restart();
    for (const n of nodes) await waitFor(() => peersOk(n, 3), { timeoutMs: 30_000, message: 'rejoined' });
  }
  sampling = false;
  await sampler;

  // etcd writes at STREAMS shared streams (idle publish:// streams: ownership and heartbeats only)
  const many: Record<string, unknown> = {};
  for (let i = 0; i < STREAMS; i++) many[`s${i}`] = { inputs: [{ url: 'publish://' }], cluster_ingest: true };
  await apply(many);
  const client = new Etcd3({ hosts: etcd.url });
  await waitFor(async () => Object.keys(await client.getAll().prefix('/flux/owners/').strings()).length === STREAMS, { timeoutMs: 60_000, message: 'all owned' });
  await sleep(2000);
  const rev = async () => Number((await client.getAll().prefix('/flux/nodes/').exec()).header.revision);
  const r0 = await rev();
  const t0 = Date.now();
  await sleep(WRITES_S * 1000);
  const writes = (await rev()) - r0;
  const perNode = Math.round((writes / ((Date.now() - t0) / 1000) / nodes.length) * 100) / 100;
  client.close();

  for (const fn of cleanups.reverse()) await fn();
  console.log(
    JSON.stringify({
      metrics: {
        takeover_median_ms: { value: median(takeovers), unit: 'ms', better: 'lower' },
        takeover_max_ms: { value: Math.max(...takeovers), unit: 'ms', better: 'lower' },
        duplicate_ms: { value: duplicateMs, unit: 'ms', better: 'lower' },
        etcd_writes_per_s_per_node: { value: perNode, unit: 'writes/s', better: 'lower' },
      },
      notes: `3 nodes + etcd on one machine; lease_ttl ${LEASE_TTL}; ${ROUNDS} owner kills (agent + captures, kill -9); takeover = kill → first segment of the new owner listed in its live playlist (1 s segments); duplicate sampled every 100 ms; writes over ${WRITES_S} s at ${STREAMS} shared cluster_ingest streams`,
    }),
  );
}

main().catch(async (e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
  process.exit(1);
});
