/**
 * A real etcd (the Debian package's /usr/bin/etcd, v3.4) for cluster tests: its own data dir and
 * free client/peer ports on 127.0.0.1, stopped (SIGTERM, then SIGKILL) after the test. `stop()` and
 * `start()` let a test take etcd away and bring it back on the same ports and data.
 *
 *   const etcd = await startEtcd(t, dir);
 *   etcd.url   // http://127.0.0.1:PORT
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitFor, beforeRemoving, type Cleanup } from './index.js';

export const ETCD_BIN = process.env.FLUX_TEST_ETCD ?? '/usr/bin/etcd';

export interface EtcdHandle {
  url: string;
  dataDir: string;
  pid(): number | undefined;
  /** SIGTERM (SIGKILL after 5 s) and wait for the exit */
  stop(): Promise<void>;
  /** start again on the same ports and data dir (after stop) */
  start(): Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(url + '/health', { signal: AbortSignal.timeout(1000) });
    const j = (await r.json()) as { health?: string };
    return j.health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcd(t: Cleanup, dir: string): Promise<EtcdHandle> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = path.join(dir, 'etcd');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const url = `http://127.0.0.1:${clientPort}`;
  let child: ChildProcess | undefined;
  let log = '';
  const args = [
    '--name', 'flux-test',
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `flux-test=http://127.0.0.1:${peerPort}`,
    '--log-level', 'error',
    '--logger', 'zap',
  ];
  const handle: EtcdHandle = {
    url,
    dataDir,
    pid: () => child?.pid,
    start: async () => {
      log = '';
      const c = spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => {
        if (log.length < 20_000) log += d.toString();
      });
      child = c;
      await waitFor(async () => c.exitCode === null && (await healthy(url)), { timeoutMs: 20_000, message: `etcd healthy on ${url}` }).catch((e: Error) => {
        throw new Error(`${e.message}\n${log}`);
      });
    },
    stop: async () => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  // etcd goes after the nodes (which are stopped in beforeRemoving hooks registered earlier/later)
  beforeRemoving(dir, () => handle.stop());
  t.after(() => handle.stop());
  await handle.start();
  return handle;
}
