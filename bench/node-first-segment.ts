/**
 * Time from adding a fake:// stream to a running node until its first segment is playable over HTTP
 * (the media playlist names a segment and that segment answers 200). 1 s segments, 160x120 test
 * pattern. Target: < segment duration + 1.5 s = 2.5 s.
 *  - add_to_segment_ms: from spawning `flux stream add` (CLI start-up included),
 *  - put_to_segment_ms: from a PUT /api/v3/streams/NAME on the node socket.
 * One measurement run = one node, one stream added each way.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CLI, http, startNode, tempDir, waitFor } from '../test/helpers/index.js';

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const INPUT = 'fake://testsrc?size=160x120&fps=10';

async function firstSegment(base: string, name: string, since: number): Promise<number> {
  await waitFor(
    async () => {
      const pl = await http(`${base}/${name}/tracks-v1a1/index.m3u8`);
      if (pl.status !== 200) return false;
      const uri = pl.text.split('\n').find((l) => l.endsWith('.ts'));
      if (!uri) return false;
      const seg = await fetch(`${base}/${name}/tracks-v1a1/${uri}`);
      await seg.arrayBuffer();
      return seg.status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 25, message: `first segment of ${name}` },
  );
  return performance.now() - since;
}

try {
  const dir = await tempDir(t, 'flux-bench-');
  const node = await startNode(t, { dir, streams: {} });

  const a = performance.now();
  const child = spawn(process.execPath, [CLI, 'stream', 'add', 'viacli', '--input', INPUT, '--segment-duration', '1s', '--config', node.configFile], { cwd: dir, stdio: 'ignore' });
  const cliExit = new Promise<number | null>((r) => child.once('exit', r));
  const addMs = await firstSegment(node.baseUrl, 'viacli', a);
  if ((await cliExit) !== 0) throw new Error('flux stream add failed');

  const b = performance.now();
  const put = await node.api('PUT', '/api/v3/streams/viaapi', { inputs: [{ url: INPUT }], hls: { segment_duration: '1s' } });
  if (put.status !== 200) throw new Error(`PUT ${put.status} ${put.text}`);
  const putMs = await firstSegment(node.baseUrl, 'viaapi', b);

  console.log(
    JSON.stringify({
      metrics: {
        add_to_segment_ms: { value: +addMs.toFixed(0), unit: 'ms', better: 'lower' },
        put_to_segment_ms: { value: +putMs.toFixed(0), unit: 'ms', better: 'lower' },
      },
      notes: '1 s segments, fake://testsrc 160x120@10; add = from spawning ./bin/run.js stream add (CLI start-up included); put = from PUT on node.sock; end = media playlist lists a segment that answers 200 over HTTP; target < 2500 ms',
    }),
  );
} finally {
  for (const fn of cleanups) await fn();
}
