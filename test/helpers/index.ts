/**
 * Shared helpers for end-to-end tests: free ports, temp dirs, running the BUILT CLI, waiting for a
 * condition, starting/stopping a real node (with real supervisors) in a temp dir, talking to its
 * socket API and HTTP port. Build first: `npm run build`.
 *
 *   const dir = await tempDir(t);                        // removed after the test
 *   const node = await startNode(t, { dir, streams: { a: fakeStream() } });   // stopped after the test
 *   const list = await node.api('GET', '/api/v3/streams');
 *   await waitFor(async () => (await node.stream('a')).stats.alive, { timeoutMs: 10_000 });
 *   const r = await runCli(['stream', 'list', '--json', '--config', node.configFile]);
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readdir, readFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import httpMod from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { socketRequest, closeSocketClients, type SocketResponse } from '../../src/protocol/socket-http.js';
import type { StreamDoc, NodeInfoDoc } from '../../src/client/index.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO_ROOT, 'bin', 'run.js');

/** Anything with `after` (node:test's TestContext or a suite context). */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A free UDP port on 127.0.0.1 (bound and released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Cleanups that must run before a temp dir is removed (processes whose pid files live in it). */
const beforeRemove = new Map<string, (() => Promise<unknown>)[]>();

/** Run `fn` before `dir` (from tempDir) is removed, whatever the order of `after` hooks. */
export function beforeRemoving(dir: string, fn: () => Promise<unknown>): void {
  const list = beforeRemove.get(dir) ?? [];
  list.push(fn);
  beforeRemove.set(dir, list);
}

/**
 * A temp dir under os.tmpdir(), removed after the test (kept when FLUX_TEST_KEEP is set, for
 * debugging). Short, so Unix socket paths stay < 108 bytes.
 */
export async function tempDir(t: Cleanup | undefined, prefix = 'flux-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t?.after(async () => {
    for (const fn of beforeRemove.get(dir) ?? []) await fn().catch(() => undefined);
    beforeRemove.delete(dir);
    if (!process.env.FLUX_TEST_KEEP) await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: string;
}

/**
 * Poll until `cond` returns a truthy value (returned); throws with `message` after the timeout. An error
 * thrown by `cond` counts as "not yet" (and is named in the timeout error). The one waitFor of the tests;
 * also callable as `waitFor(what, cond, timeoutMs?, intervalMs?)`.
 */
export function waitFor<T>(cond: () => T | Promise<T>, opts?: WaitOptions): Promise<NonNullable<T>>;
export function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs?: number, intervalMs?: number): Promise<NonNullable<T>>;
export function waitFor<T>(a: string | (() => T | Promise<T>), b?: WaitOptions | (() => T | Promise<T>), timeoutMs?: number, intervalMs?: number): Promise<NonNullable<T>> {
  if (typeof a === 'string') return poll(b as () => T | Promise<T>, { message: a, timeoutMs, intervalMs: intervalMs ?? 20 });
  return poll(a, (b as WaitOptions | undefined) ?? {});
}

async function poll<T>(cond: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const until = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > until) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.message ?? 'a condition'}${why}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Run the built CLI (`bin/run.js`) as a subprocess. Never throws on a non-zero exit. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, FLUX_CONFIG: undefined, FLUX_SOCKET: undefined, FLUX_DEBUG: undefined, NO_COLOR: '1', ...opts.env } as NodeJS.ProcessEnv,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr, json });
    });
  });
}

/** Fails early with the fix when the CLI was not built. */
export function assertBuilt(): void {
  for (const f of ['dist/commands/validate.js', 'oclif.manifest.json']) {
    if (!existsSync(path.join(REPO_ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` before the CLI tests`);
  }
}

/** No stack trace, no internal error text: what a user sees must be clean. */
export function assertNoStack(r: { stdout: string; stderr: string }): void {
  for (const s of [r.stdout, r.stderr]) {
    if (/^\s+at .+[(:]\d+/m.test(s) || /internal error|TypeError|ReferenceError/.test(s)) {
      throw new Error(`output has a stack trace or internal error:\n${s}`);
    }
  }
}

/** A cheap fake:// stream: 160x120 test pattern at 10 fps with a tone, 1 s segments. */
export function fakeStream(extra: Record<string, unknown> = {}, opts: { tone?: boolean; size?: string; fps?: number } = {}): Record<string, unknown> {
  const q = `size=${opts.size ?? '160x120'}&fps=${opts.fps ?? 10}${opts.tone === false ? '&tone=0' : ''}`;
  return { inputs: [{ url: `fake://testsrc?${q}` }], hls: { segment_duration: '1s', window: 4 }, ...extra };
}

/** An idle stream (waits for a publisher: no ffmpeg, no CPU). */
export function publishStream(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s' }, ...extra };
}

export interface NodeConfigOptions {
  dir: string;
  streams?: Record<string, unknown>;
  server?: Record<string, unknown>;
  /** extra top-level sections (auth, templates, dvr …) */
  extra?: Record<string, unknown>;
  /** raw YAML instead of the generated config */
  yaml?: string;
}

/** Write `<dir>/flux.yaml`; returns its path and the HTTP port chosen. */
export async function writeConfig(opts: NodeConfigOptions): Promise<{ configFile: string; httpPort: number }> {
  const httpPort = (opts.server?.http as number | undefined) ?? (await freePort());
  const configFile = path.join(opts.dir, 'flux.yaml');
  const text =
    opts.yaml ??
    '# written by test/helpers\n' +
      stringify({
        server: { http: httpPort, host: '127.0.0.1', rtmp: false, data_dir: './data', run_dir: './run', ...opts.server },
        ...(opts.streams ? { streams: opts.streams } : { streams: {} }),
        ...opts.extra,
      });
  await writeFile(configFile, text);
  return { configFile, httpPort };
}

export interface NodeHandle {
  dir: string;
  configFile: string;
  runDir: string;
  socket: string;
  httpPort: number;
  baseUrl: string;
  /** pid of the node agent (as started; refresh with info()) */
  pid: number;
  /** request on the node socket; JSON body when `body` is an object */
  api(method: string, urlPath: string, body?: unknown, timeoutMs?: number): Promise<SocketResponse>;
  info(): Promise<NodeInfoDoc>;
  stream(name: string): Promise<StreamDoc>;
  /** run the CLI against this node's config */
  cli(args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult>;
  /** pids of running supervisors by stream file name (from <run>/streams/*.pid) */
  supervisorPids(): Promise<Record<string, number>>;
  /** graceful `flux node stop` (idempotent) */
  stop(): Promise<CliResult | undefined>;
  /** SIGKILL the node agent only (supervisors keep running) */
  kill(): void;
  /** start the node again on the same config (after kill/stop) */
  restart(): Promise<void>;
}

/**
 * Start a real node (`flux node start --config <dir>/flux.yaml --json`) in `dir`. Registers cleanup:
 * graceful stop, then SIGKILL of every process group left in <run>/streams (supervisors, ffmpeg).
 */
export async function startNode(t: Cleanup, opts: NodeConfigOptions & { env?: NodeJS.ProcessEnv; waitAlive?: boolean }): Promise<NodeHandle> {
  const { configFile, httpPort } = opts.yaml ? { configFile: path.join(opts.dir, 'flux.yaml'), httpPort: (opts.server?.http as number) ?? 0 } : await writeConfig(opts);
  if (opts.yaml) await writeFile(configFile, opts.yaml);
  const runDir = path.join(opts.dir, 'run');
  const socket = path.join(runDir, 'node.sock');
  const env = { ...opts.env };
  const cli = (args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) =>
    runCli([...args, '--config', configFile], { cwd: opts.dir, env: { ...env, ...o.env }, timeoutMs: o.timeoutMs });
  const handle: NodeHandle = {
    dir: opts.dir,
    configFile,
    runDir,
    socket,
    httpPort,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    pid: 0,
    api: (method, urlPath, body, timeoutMs) =>
      socketRequest(socket, urlPath, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), timeoutMs: timeoutMs ?? 30_000 }),
    info: async () => (await handle.api('GET', '/api/v3/node')).json as NodeInfoDoc,
    stream: async (name) => {
      const r = await handle.api('GET', '/api/v3/streams/' + name.split('/').map(encodeURIComponent).join('/'));
      if (r.status !== 200) throw new Error(`GET stream ${name}: ${r.status} ${r.text}`);
      return r.json as StreamDoc;
    },
    cli,
    supervisorPids: () => readPids(path.join(runDir, 'streams')),
    stop: async () => {
      try {
        return await cli(['node', 'stop', '--timeout', '20', '--force']);
      } finally {
        await closeSocketClients(socket);
      }
    },
    kill: () => {
      try {
        process.kill(handle.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    },
    restart: async () => {
      const r = await cli(['node', 'start', '--json']);
      if (r.code !== 0) throw new Error(`flux node start failed (${r.code}): ${r.stderr}`);
      handle.pid = r.json.pid;
    },
  };
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await handle.stop().catch(() => undefined);
    await killLeftovers(runDir);
    await closeSocketClients();
  };
  beforeRemoving(opts.dir, cleanup);
  t.after(cleanup);
  await handle.restart();
  if (opts.waitAlive) {
    const names = Object.keys(opts.streams ?? {});
    await waitFor(async () => (await Promise.all(names.map(async (n) => (await handle.stream(n)).stats.alive))).every(Boolean), {
      timeoutMs: 20_000,
      message: `streams ${names.join(', ')} alive`,
    });
  }
  return handle;
}

async function readPids(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch {
    return out;
  }
  for (const e of entries.filter((x) => x.endsWith('.pid'))) {
    const pid = Number.parseInt((await readFile(path.join(dir, e), 'utf8').catch(() => '')).trim(), 10);
    if (pid > 0) out[decodeURIComponent(e.slice(0, -4))] = pid;
  }
  return out;
}

/** SIGKILL the process groups of supervisors whose pid files remain (test cleanup). */
export async function killLeftovers(runDir: string): Promise<void> {
  const pids = await readPids(path.join(runDir, 'streams'));
  const nodePid = Number.parseInt((await readFile(path.join(runDir, 'node.pid'), 'utf8').catch(() => '')).trim(), 10);
  // supervisors whose pid file is already gone (a stop that failed half-way) still name their spec
  // file under the run dir on their command line
  const byCmdline: number[] = [];
  for (const ent of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(ent)) continue;
    const cmd = await readFile(`/proc/${ent}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(`${runDir}/`)) byCmdline.push(Number(ent));
  }
  for (const pid of [...Object.values(pids), ...byCmdline, ...(nodePid > 0 ? [nodePid] : [])]) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** true when a process with this pid exists (and is not a zombie). */
export async function pidAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z';
}

/** HTTP GET/any on the node's TCP port (fetch), with optional Basic credentials. */
export async function http(url: string, opts: { method?: string; body?: string; user?: string; password?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; json: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.user !== undefined) headers.authorization = 'Basic ' + Buffer.from(`${opts.user}:${opts.password ?? ''}`).toString('base64');
  const res = await fetch(url, { method: opts.method ?? 'GET', body: opts.body, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/**
 * GET from a chosen loopback source address (127.0.0.x: another viewer, for IP rules and sessions),
 * on a fresh connection (no keep-alive pool: each request is its own client).
 */
export function getFrom(url: string, o: { from?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpMod.request(url, { localAddress: o.from, headers: o.headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A slowloris client: sends the head of `GET <urlPath>` and then one header byte every 500 ms, never
 * completing it; resolves with how long the server kept the connection and what it answered.
 */
export function dribbleHeaders(port: number, urlPath: string, giveUpMs = 70_000): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t0 = Date.now();
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    s.on('error', () => {});
    s.on('data', (d) => (answer += d.toString('latin1')));
    s.on('connect', () => {
      s.write(`GET ${urlPath} HTTP/1.1\r\nHost: x\r\nX-Slow: `);
      timer = setInterval(() => s.write('a'), 500);
    });
    s.on('close', () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - t0, answer });
    });
    setTimeout(() => s.destroy(), giveUpMs).unref();
  });
}
