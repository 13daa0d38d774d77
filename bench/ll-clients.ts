/**
 * Many LL-HLS clients on one stream vs the same number of TS HLS clients: blocked playlist requests
 * answered per second and the node agent's CPU (from /proc/<pid>/stat), one phase after the other.
 *
 *   node --import tsx bench/ll-clients.ts   (FLUX_BENCH_CLIENTS=1000, FLUX_BENCH_SECONDS=30; build first)
 *
 * LL client: asks for the next part with a blocking reload (_HLS_msn/_HLS_part), then fetches the part the
 * answer names, again and again (what hls.js does at the live edge). TS client: reloads the playlist
 * every target duration and fetches each new segment. Clients are async loops in this process over
 * keep-alive sockets; this process competes with the agent for the CPU, so run it on a quiet machine.
 * Streams: fake://testsrc 320x180@25, 1 s segments, LL parts 0.5 s. Prints one JSON line last.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fakeStream, startNode, tempDir, waitFor, http } from '../test/helpers/index.js';

const CLIENTS = Number(process.env.FLUX_BENCH_CLIENTS ?? 1000);
const SECONDS = Number(process.env.FLUX_BENCH_SECONDS ?? 30);
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

function get(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
}

function nextOf(text: string): { msn: number; part: number; lastPart?: string; lastSeg?: string } {
  const msn = Number(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m.exec(text)?.[1] ?? 0) + (text.match(/^#EXTINF/gm) ?? []).length;
  const tail = text.slice(text.lastIndexOf('.m4s\n'));
  const parts = [...tail.matchAll(/^#EXT-X-PART:[^\n]*URI="([^"]+)"/gm)];
  const segs = text.split('\n').filter((l) => l && !l.startsWith('#'));
  return { msn, part: parts.length, lastPart: parts.at(-1)?.[1], lastSeg: segs.at(-1) };
}

async function phase(name: string, client: (stop: () => boolean, count: () => void) => Promise<void>, pid: number): Promise<{ rps: number; cpu: number; errors: number }> {
  let answered = 0;
  let errors = 0;
  let stopped = false;
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  const loops = Array.from({ length: CLIENTS }, () =>
    client(
      () => stopped,
      () => answered++,
    ).catch(() => void errors++),
  );
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stopped = true;
  const wall = (Date.now() - t0) / 1000;
  const cpu = ((cpuSeconds(pid) - cpu0) / wall) * 100;
  await Promise.all(loops);
  log(`${name}: ${(answered / wall).toFixed(0)} playlist answers/s, agent CPU ${cpu.toFixed(0)} %, ${errors} client errors`);
  return { rps: answered / wall, cpu, errors };
}

try {
  const dir = await tempDir(t, 'flux-bench-');
  const video = { size: '320x180', fps: 25 };
  const node = await startNode(t, {
    dir,
    streams: {
      ll: fakeStream({ hls: { segment_duration: '1s', window: 6, low_latency: true, part_duration: '0.5s' } }, video),
      ts: fakeStream({ hls: { segment_duration: '1s', window: 6 } }, video),
    },
    waitAlive: true,
  });
  const llUrl = `${node.baseUrl}/ll/tracks-v1a1/index.m3u8`;
  const tsUrl = `${node.baseUrl}/ts/tracks-v1a1/index.m3u8`;
  for (const u of [llUrl, tsUrl]) await waitFor(async () => (await http(u)).status === 200, { timeoutMs: 30_000, message: u });
  const base = (u: string) => u.slice(0, u.lastIndexOf('/') + 1);

  const ll = await phase(
    'LL-HLS',
    async (stop, count) => {
      let text = (await get(llUrl)).body.toString();
      while (!stop()) {
        const n = nextOf(text);
        const r = await get(`${llUrl}?_HLS_msn=${n.msn}&_HLS_part=${n.part}`);
        if (r.status !== 200) throw new Error(`blocking reload ${r.status}`);
        count();
        text = r.body.toString();
        const p = nextOf(text).lastPart;
        if (p) await get(base(llUrl) + p);
      }
    },
    node.pid,
  );
  const ts = await phase(
    'TS HLS',
    async (stop, count) => {
      let last: string | undefined;
      // spread the clients over one target duration, like real players
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      while (!stop()) {
        const r = await get(tsUrl);
        count();
        const segs = r.body.toString().split('\n').filter((l) => l && !l.startsWith('#'));
        const fresh = last === undefined ? segs.slice(-1) : segs.slice(segs.indexOf(last) + 1);
        for (const s of fresh) await get(base(tsUrl) + s);
        last = segs.at(-1) ?? last;
        await new Promise((res) => setTimeout(res, 1000));
      }
    },
    node.pid,
  );
  console.log(
    JSON.stringify({
      metrics: {
        llhls_blocked_answers_per_s: { value: Math.round(ll.rps), unit: 'req/s', better: 'higher' },
        llhls_agent_cpu_pct: { value: Math.round(ll.cpu), unit: '%', better: 'lower' },
        ts_playlist_answers_per_s: { value: Math.round(ts.rps), unit: 'req/s', better: 'higher' },
        ts_agent_cpu_pct: { value: Math.round(ts.cpu), unit: '%', better: 'lower' },
        client_errors: { value: ll.errors + ts.errors, unit: 'count', better: 'lower' },
      },
      notes: `${CLIENTS} clients per phase, ${SECONDS} s each, one stream (fake 320x180@25, 1 s segments, LL parts 0.5 s); LL client = blocking reload for the next part + that part; TS client = playlist every 1 s + new segments; agent CPU from /proc (100 % = one core); clients run in the bench process on the same machine`,
    }),
  );
} finally {
  agent.destroy();
  for (const fn of cleanups) await fn();
}
