/**
 * Shared pieces of the HLS end-to-end tests (not a test file itself): real ffmpeg producing
 * MPEG-TS, ffprobe reading segments, temp dirs, an HTTP server around the playback handler.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';

const stacks = new WeakMap<TestContext, (() => unknown)[]>();

/**
 * Register a cleanup step for the end of test `t`. Steps run last-in first-out (stop the browser,
 * then the server, then the writer, then ffmpeg, and only then remove the temp dir), each one
 * bounded in time, and a failing step never prevents the others.
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const s: (() => unknown)[] = [];
    stack = s;
    stacks.set(t, s);
    t.after(async () => {
      while (s.length > 0) {
        const step = s.pop()!;
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(step),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('cleanup step timed out')), 15_000);
            }),
          ]);
        } catch (err) {
          process.stderr.write(`cleanup: ${(err as Error).message}\n`);
        } finally {
          clearTimeout(timer);
        }
      }
    });
  }
  stack.push(fn);
}
export const FFPROBE = process.env.FLUX_FFPROBE ?? 'ffprobe';

export interface TsSourceOptions {
  seconds: number;
  /** -re: produce at real-time pace (a live source) */
  realtime?: boolean;
  gop?: number;
  rate?: number;
  size?: string;
}

/** ffmpeg arguments: testsrc + sine → H.264 (1 s GOP at 25 fps) + AAC in MPEG-TS on stdout. */
export function ffmpegTsArgs(o: TsSourceOptions): string[] {
  const rate = o.rate ?? 25;
  const gop = String(o.gop ?? rate);
  const re = o.realtime ? ['-re'] : [];
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    ...re, '-f', 'lavfi', '-i', `testsrc=size=${o.size ?? '320x240'}:rate=${rate}`,
    ...re, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'mpegts', 'pipe:1',
  ];
}

export interface RunningSource {
  proc: ChildProcess;
  /** resolves with the exit code once stdout is fully consumed */
  done: Promise<number | null>;
  stop(): void;
}

/** Start ffmpeg and hand every stdout chunk to `onChunk`. Stopped by t.after when given. */
export function startSource(o: TsSourceOptions, onChunk: (chunk: Buffer) => void, t?: TestContext): RunningSource {
  const proc = spawn(FFMPEG, ffmpegTsArgs(o), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.on('data', onChunk);
  const done = new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0 && code !== null && stderr) process.stderr.write(`ffmpeg: ${stderr}\n`);
      resolve(code);
    });
  });
  const stop = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  if (t) defer(t, stop);
  return { proc, done, stop };
}

/** A finite TS clip generated as fast as possible. */
export async function generateTs(o: Omit<TsSourceOptions, 'realtime'>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const src = startSource(o, (c) => chunks.push(c));
  const code = await src.done;
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
  return Buffer.concat(chunks);
}

export interface ProbedPacket {
  type: 'video' | 'audio';
  pts: number;
  dts: number;
  duration: number;
  key: boolean;
}

/** ffprobe every packet of a file; `errors` is what ffprobe printed on stderr at -v error. */
export async function probePackets(file: string): Promise<{ errors: string; packets: ProbedPacket[]; code: number | null }> {
  const args = ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time,dts_time,duration_time,flags', '-of', 'json', file];
  const proc = spawn(FFPROBE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errors = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', resolve);
  });
  const json = JSON.parse(out || '{}') as { packets?: { codec_type: string; pts_time?: string; dts_time?: string; duration_time?: string; flags?: string }[] };
  const packets = (json.packets ?? [])
    .filter((p) => p.codec_type === 'video' || p.codec_type === 'audio')
    .map((p) => ({
      type: p.codec_type as 'video' | 'audio',
      pts: Number(p.pts_time),
      dts: Number(p.dts_time ?? p.pts_time),
      duration: Number(p.duration_time ?? 0),
      key: (p.flags ?? '').includes('K'),
    }));
  return { errors, packets, code };
}

export { tempDir } from '../helpers/index.js';

/** node:http server on 127.0.0.1:0; requests the handler declines get 404. Closed by t.after. */
export async function serve(
  t: TestContext,
  handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<boolean>,
): Promise<{ server: Server; base: string; port: number }> {
  const server = createServer((req, res) => {
    handler(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('not found\n');
        }
      },
      (err) => {
        res.destroy(err as Error);
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(
    t,
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return { server, base: `http://127.0.0.1:${port}`, port };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { waitFor } from '../helpers/index.js';
