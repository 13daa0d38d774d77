/**
 * PushWorker end to end: Flux-built ffmpeg TS (fake://) → PushWorker → nginx-rtmp (started here
 * with a temp config) → ffprobe pulls it back. nginx is killed and restarted: the worker retries
 * and resumes. Also: a file target starts at a keyframe; an unreachable target retries with backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { PushWorker } from '../../src/daemons/stream/push.js';
import { buildPipelineArgs } from '../../src/ffmpeg/args.js';
import { resolveFfmpeg, resolveFfprobe } from '../../src/ffmpeg/resolve.js';
import type { ResolvedStream } from '../../src/config/model.js';
import { freePort, tempDir, waitFor, type Cleanup } from '../helpers/index.js';

const run = promisify(execFile);
const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const haveNginx = existsSync(RTMP_MODULE) && existsSync('/usr/sbin/nginx');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function startNginx(t: Cleanup, dir: string, port: number): Promise<ChildProcess> {
  const conf = path.join(dir, 'nginx.conf');
  await writeFile(
    conf,
    `load_module ${RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'nginx-error.log')} warn;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:${port}; application live { live on; record off; } } }
`,
  );
  const proc = spawn('/usr/sbin/nginx', ['-p', dir, '-c', conf], { stdio: 'ignore' });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  await waitFor(() => portOpen(port), { timeoutMs: 10_000, message: `nginx-rtmp on ${port}` });
  return proc;
}

function fakeSourceStream(): ResolvedStream {
  const url = 'fake://testsrc?size=320x240&fps=25';
  return {
    name: 'pushsrc',
    disabled: false,
    inputs: [{ url, scheme: 'fake', priority: 1, sourceTimeoutMs: 5000, returnAfterMs: 10_000, loop: true }],
    root: '/nonexistent',
    push: [],
    hls: { segmentDurationMs: 1000, window: 6 },
    auth: { playToken: false, secureLink: false },
    renditions: ['v1a1'],
  };
}

/** The TS a fake:// stream produces (Flux's own arguments), fed to `onData`. */
function startSource(t: Cleanup, ffmpeg: string, onData: (b: Buffer) => void): ChildProcess {
  const s = fakeSourceStream();
  const r = buildPipelineArgs(s, s.inputs[0]!)!;
  const proc = spawn(ffmpeg, r.args, { stdio: ['ignore', 'pipe', 'ignore'] });
  proc.stdout!.on('data', onData);
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return proc;
}

async function probeRtmp(ffprobe: string, url: string): Promise<string> {
  const r = await run(ffprobe, ['-v', 'error', '-rw_timeout', '8000000', '-show_entries', 'stream=codec_name,width,height', '-of', 'compact=nk=1', url], { timeout: 20_000 });
  return r.stdout;
}

test('push to nginx-rtmp: running, stream pulled back; nginx killed and restarted → push resumes', { skip: !haveNginx && 'nginx with the rtmp module is not installed' }, async (t) => {
  const dir = await tempDir(t, 'flux-push-');
  const port = await freePort();
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  let nginx = await startNginx(t, dir, port);
  const url = `rtmp://127.0.0.1:${port}/live/flux`;
  const worker = new PushWorker({ target: { url, retryDelayMs: 300, disabled: false }, ffmpeg, maxRetryDelayMs: 1000 });
  t.after(() => worker.stop());
  worker.start();
  assert.equal(worker.status.state, 'connecting');
  startSource(t, ffmpeg, (b) => worker.write(b));

  await waitFor(() => worker.status.state === 'running', { timeoutMs: 20_000, message: 'push running' });
  const first = await probeRtmp(ffprobe, url);
  assert.match(first, /h264\|320\|240/);
  assert.match(first, /aac/);
  assert.ok(worker.status.bytes > 0);
  assert.equal(worker.status.restarts, 0);

  // the target goes away
  nginx.kill('SIGKILL');
  await waitFor(() => worker.status.state === 'retrying' || worker.status.errors > 0, { timeoutMs: 15_000, message: 'push notices the drop' });
  assert.ok(worker.status.errors >= 1);
  assert.ok(worker.status.lastError, 'lastError set');

  // … and comes back on the same port
  await waitFor(async () => !(await portOpen(port)), { timeoutMs: 5000 });
  nginx = await startNginx(t, dir, port);
  await waitFor(() => worker.status.state === 'running' && worker.status.restarts >= 1, { timeoutMs: 25_000, message: 'push resumes' });
  const again = await probeRtmp(ffprobe, url);
  assert.match(again, /h264\|320\|240/);
  // running again: the outage's error is over (status shows current problems only)
  assert.equal(worker.status.lastError, null);

  await worker.stop();
  assert.equal(worker.status.state, 'stopped');
});

test('a file target starts at a keyframe with PAT/PMT (mid-stream join)', async (t) => {
  const dir = await tempDir(t, 'flux-push-');
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  const out = path.join(dir, 'out.ts');
  const worker = new PushWorker({ target: { url: `file://${out}`, retryDelayMs: 300, disabled: false }, ffmpeg });
  t.after(() => worker.stop());
  let fed = 0;
  let joined = false;
  const source = startSource(t, ffmpeg, (b) => {
    fed += b.length;
    if (!joined && fed > 60_000) {
      // join mid-stream, mid-packet: the worker must resync and wait for a keyframe
      joined = true;
      worker.start();
      worker.write(b.subarray(1000));
      return;
    }
    worker.write(b);
  });
  await waitFor(() => worker.status.state === 'running' && worker.status.bytes > 150_000, { timeoutMs: 20_000, message: 'file push running' });
  await worker.stop();
  worker.start(); // a stopped worker stays stopped
  assert.equal(worker.status.state, 'stopped');
  source.kill('SIGKILL');
  assert.ok(worker.status.dropped > 0, 'bytes before the keyframe were dropped');
  const pk = await run(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-of', 'csv=p=0', out]);
  const flags = pk.stdout.trim().split('\n');
  assert.ok(flags.length > 10, `${flags.length} video packets`);
  assert.match(flags[0]!, /^K/, 'first video packet is a keyframe');
  const st = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'json', out]);
  const codecs = (JSON.parse(st.stdout) as { streams: { codec_name: string }[] }).streams.map((x) => x.codec_name);
  assert.deepEqual(codecs.sort(), ['aac', 'h264']);
});

test('an unreachable target: retrying with backoff, write() never throws, stop() is prompt', async (t) => {
  const ffmpeg = (await resolveFfmpeg()).path;
  const port = await freePort(); // nothing listens
  const worker = new PushWorker({ target: { url: `rtmp://127.0.0.1:${port}/live/x`, retryDelayMs: 100, disabled: false }, ffmpeg, maxRetryDelayMs: 400 });
  t.after(() => worker.stop());
  worker.start();
  // ffmpeg opens the target only after it has read some TS: feed real TS
  const source = startSource(t, ffmpeg, (b) => worker.write(b));
  await waitFor(() => worker.status.restarts >= 2, { timeoutMs: 20_000, message: 'two restarts' });
  assert.ok(worker.status.errors >= 2);
  assert.ok(['retrying', 'connecting'].includes(worker.status.state));
  assert.ok(worker.status.lastError && /ffmpeg exited with code/.test(worker.status.lastError), String(worker.status.lastError));
  // ffmpeg was handed TS (it reads before it opens the target) but nothing reached the target
  assert.ok(worker.status.fedBytes > 0);
  assert.equal(worker.status.bytes, 0);
  const t0 = Date.now();
  await worker.stop();
  assert.ok(Date.now() - t0 < 5000);
  const restarts = worker.status.restarts;
  await new Promise((r) => setTimeout(r, 600));
  source.kill('SIGKILL');
  assert.equal(worker.status.restarts, restarts, 'no restart after stop');
  assert.equal(worker.status.state, 'stopped');
});
