/**
 * SRT and UDP push end to end: Flux-built ffmpeg TS (fake://) → PushWorker → a real receiver on
 * loopback (ffmpeg as SRT listener or caller; a Node UDP socket) → ffprobe finds H.264 + AAC.
 * Also: SRT listener mode (the receiver calls in), passphrase masked in status, and ?muxrate= gives
 * constant-rate TS (null padding) in 1316-byte datagrams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PushWorker } from '../../src/daemons/stream/push.js';
import { buildPipelineArgs } from '../../src/ffmpeg/args.js';
import { resolveFfmpeg, resolveFfprobe } from '../../src/ffmpeg/resolve.js';
import type { ResolvedStream } from '../../src/config/model.js';
import { freePort, tempDir, waitFor, type Cleanup } from '../helpers/index.js';

const run = promisify(execFile);

function startSource(t: Cleanup, ffmpeg: string, onData: (b: Buffer) => void): ChildProcess {
  const url = 'fake://testsrc?size=320x240&fps=25';
  const s: ResolvedStream = {
    name: 'pushsrc',
    disabled: false,
    inputs: [{ url, scheme: 'fake', priority: 1, sourceTimeoutMs: 5000, returnAfterMs: 10_000, loop: true }],
    root: '/nonexistent',
    push: [],
    hls: { segmentDurationMs: 1000, window: 6 },
    auth: { playToken: false, secureLink: false },
    renditions: ['v1a1'],
  };
  const proc = spawn(ffmpeg, buildPipelineArgs(s, s.inputs[0]!)!.args, { stdio: ['ignore', 'pipe', 'ignore'] });
  proc.stdout!.on('data', onData);
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return proc;
}

/** An ffmpeg receiving `url` into `out` for `seconds`; resolves with its exit code. */
function receive(t: Cleanup, ffmpeg: string, url: string, out: string, seconds: number): Promise<number | null> {
  const p = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', url, '-t', String(seconds), '-map', '0', '-c', 'copy', '-f', 'mpegts', out], { stdio: 'ignore' });
  t.after(() => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  return new Promise((r) => p.on('close', (code) => r(code)));
}

async function codecs(ffprobe: string, file: string): Promise<string[]> {
  const r = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]);
  const streams = (JSON.parse(r.stdout) as { streams: { codec_name: string; width?: number; height?: number }[] }).streams;
  return streams.map((x) => (x.width ? `${x.codec_name}|${x.width}|${x.height}` : x.codec_name)).sort();
}

test('srt push (caller, streamid, passphrase) into an ffmpeg SRT listener: valid TS; passphrase masked in status', async (t) => {
  const dir = await tempDir(t, 'flux-push-srt-');
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  const port = await freePort();
  const out = path.join(dir, 'srt.ts');
  const pass = 'flux-secret-0123';
  const rx = receive(t, ffmpeg, `srt://127.0.0.1:${port}?mode=listener&passphrase=${pass}`, out, 8);
  await new Promise((r) => setTimeout(r, 500)); // the listener binds
  const worker = new PushWorker({ target: { url: `srt://127.0.0.1:${port}?streamid=flux/cam&passphrase=${pass}`, retryDelayMs: 200, disabled: false }, ffmpeg, maxRetryDelayMs: 1000 });
  t.after(() => worker.stop());
  worker.start();
  startSource(t, ffmpeg, (b) => worker.write(b));
  await waitFor(() => worker.status.state === 'running', { timeoutMs: 20_000, message: 'srt push running' }).catch((e) => { throw new Error(`${(e as Error).message}: ${JSON.stringify(worker.status)}`); });
  assert.equal(worker.status.url, `srt://127.0.0.1:${port}?streamid=flux/cam&passphrase=***`);
  assert.equal(await rx, 0, 'the receiver got 8 s and exited cleanly');
  assert.deepEqual(await codecs(ffprobe, out), ['aac', 'h264|320|240']);
  // the receiver left: the push notices and retries (reconnect with backoff)
  await waitFor(() => worker.status.errors >= 1, { timeoutMs: 20_000, message: 'push notices the receiver left' });
  assert.ok(['retrying', 'connecting'].includes(worker.status.state), worker.status.state);
  assert.ok(!String(worker.status.lastError).includes(pass), 'no passphrase in lastError');
  // a new receiver: the push resumes
  const out2 = path.join(dir, 'srt2.ts');
  const rx2 = receive(t, ffmpeg, `srt://127.0.0.1:${port}?mode=listener&passphrase=${pass}`, out2, 8);
  await waitFor(() => worker.status.state === 'running' && worker.status.restarts >= 1, { timeoutMs: 25_000, message: 'push resumes' });
  assert.equal(await rx2, 0);
  assert.deepEqual(await codecs(ffprobe, out2), ['aac', 'h264|320|240']);
});

test('srt push in listener mode: the receiver calls in and gets valid TS starting at a keyframe', async (t) => {
  const dir = await tempDir(t, 'flux-push-srtl-');
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  const port = await freePort();
  const worker = new PushWorker({ target: { url: `srt://127.0.0.1:${port}?mode=listener`, retryDelayMs: 200, disabled: false }, ffmpeg });
  t.after(() => worker.stop());
  worker.start();
  startSource(t, ffmpeg, (b) => worker.write(b));
  const out = path.join(dir, 'in.ts');
  // the push listens once it has read the stream's start: call until it answers
  await waitFor(async () => (await receive(t, ffmpeg, `srt://127.0.0.1:${port}?mode=caller&connect_timeout=1000`, out, 2)) === 0, { timeoutMs: 30_000, message: 'receiver connected' });
  assert.deepEqual(await codecs(ffprobe, out), ['aac', 'h264|320|240']);
  const pk = await run(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-of', 'csv=p=0', out]);
  assert.match(pk.stdout.trim().split('\n')[0]!, /^K/, 'first video packet is a keyframe');
});

test('udp push: 1316-byte datagrams of valid TS; ?muxrate= pads to a constant rate with null packets', async (t) => {
  const dir = await tempDir(t, 'flux-push-udp-');
  const ffmpeg = (await resolveFfmpeg()).path;
  const ffprobe = (await resolveFfprobe(undefined, ffmpeg)).path;
  const sock = dgram.createSocket('udp4');
  const chunks: Buffer[] = [];
  const sizes = new Set<number>();
  let nullPackets = 0;
  sock.on('message', (m) => {
    chunks.push(m);
    sizes.add(m.length);
    for (let i = 0; i + 188 <= m.length; i += 188) if ((((m[i + 1]! & 0x1f) << 8) | m[i + 2]!) === 0x1fff) nullPackets++;
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.after(() => sock.close());
  const port = sock.address().port;
  const worker = new PushWorker({ target: { url: `udp://127.0.0.1:${port}?ttl=4&muxrate=1500k`, retryDelayMs: 200, disabled: false }, ffmpeg });
  t.after(() => worker.stop());
  worker.start();
  startSource(t, ffmpeg, (b) => worker.write(b));
  await waitFor(() => worker.status.state === 'running', { timeoutMs: 20_000, message: 'udp push running' });
  await waitFor(() => chunks.length > 600, { timeoutMs: 20_000, message: 'datagrams arrive' });
  await worker.stop();
  assert.deepEqual([...sizes], [1316], 'every datagram is 7 TS packets');
  assert.ok(chunks.every((c) => c[0] === 0x47 && c[188] === 0x47), 'TS sync bytes');
  assert.ok(nullPackets > 50, `null padding present (${nullPackets} packets): constant rate`);
  const file = path.join(dir, 'udp.ts');
  await writeFile(file, Buffer.concat(chunks));
  assert.ok((await stat(file)).size > 600 * 1316 - 1);
  assert.deepEqual(await codecs(ffprobe, file), ['aac', 'h264|320|240']);
});
