/**
 * Where the node's config comes from: a file (validated, edited atomically with comments kept,
 * watched for changes) or the embedded demo (no file: edits live in memory only).
 *
 * Loading, validation and edits run in a child process (config-worker.ts) that exits after a short
 * idle time: the schema library stays out of the agent's long-lived isolate. A process, not a worker
 * thread: a thread's isolate, once terminated, leaves its memory in the agent's malloc arenas (about
 * 7 MB of RSS that never went back to the system, measured with bench/node-list.ts); a process
 * returns everything when it exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { yamlLib } from '../../config/yaml-lib.js';
import { resolveConfig } from '../../config/resolve.js';
import type { ConfigInput, StreamInput } from '../../config/schema.js';
import type { ResolvedConfig } from '../../config/model.js';
import { ConfigError, InputError, type ConfigIssue, type ExitCode } from '../../core/errors.js';
import { DEMO_DIRS } from '../../protocol/locate.js';
import type { EditOp } from './config-worker.js';

export interface ConfigSnapshot {
  input: ConfigInput;
  resolved: ResolvedConfig;
}

/**
 * The embedded demo: one fake:// test pattern with a tone, data/run dirs under ./data and ./run.
 * RTMP is off so that a fresh machine with something on :1935 still starts.
 */
export function demoConfig(): ConfigInput {
  return {
    // FLUX_DEMO_HTTP / FLUX_DEMO_HOST: port and address of the demo (tests; default 8080 on all addresses)
    server: { http: Number(process.env.FLUX_DEMO_HTTP) || 8080, ...(process.env.FLUX_DEMO_HOST ? { host: process.env.FLUX_DEMO_HOST } : {}), rtmp: false, data_dir: DEMO_DIRS.data, run_dir: DEMO_DIRS.run },
    streams: {
      demo: {
        title: 'Flux demo: test pattern with a 1 kHz tone',
        inputs: [{ url: 'fake://testsrc?size=640x360&fps=25&tone=1&freq=1000' }],
        hls: { segment_duration: '2s', window: 6 },
      },
    },
  };
}

type WorkerError =
  | { type: 'ConfigError'; issues: ConfigIssue[] }
  | { type: 'FluxError'; message: string; code: string; exitCode: ExitCode }
  | { type: 'Error'; message: string };

/** A lazily started child process running config operations; it exits after `idleMs` without work. */
export class ConfigWorker {
  private worker: ChildProcess | undefined;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs = Number(process.env.FLUX_CONFIG_WORKER_IDLE_MS) || 10_000) {}

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    const w = this.ensure();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.ref(w, true); // an answer is awaited: the worker keeps the loop alive until it comes
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.send({ id, op, args });
    });
  }

  private ensure(): ChildProcess {
    if (this.worker) return this.worker;
    // tsx-run tests import the .ts sources: run the worker the same way then
    const here = fileURLToPath(import.meta.url);
    const script = here.replace(/config-source\.(ts|js)$/, 'config-worker.$1');
    const w = fork(script, [], {
      serialization: 'advanced', // the same structured clone a worker thread's messages had
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [...(here.endsWith('.ts') ? ['--import', 'tsx'] : []), '--max-old-space-size=256'],
    });
    w.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: WorkerError }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(rehydrate(m.error!));
      this.armIdle();
      if (!this.pending.size) this.ref(w, false);
    });
    const fail = (e: unknown) => {
      if (this.worker !== w) return;
      for (const p of this.pending.values()) p.reject(e instanceof Error ? e : new Error(String(e)));
      this.pending.clear();
      this.worker = undefined;
    };
    w.on('error', fail);
    w.on('exit', (code, signal) => fail(new Error(`config worker exited (${code ?? signal})`)));
    this.worker = w;
    return w;
  }

  /** An idle worker does not keep the agent's event loop alive; one with work in flight (or exiting) does. */
  private ref(w: ChildProcess, on: boolean): void {
    const channel = w.channel as { ref?: () => void; unref?: () => void } | undefined;
    if (on) {
      w.ref();
      channel?.ref?.();
    } else {
      w.unref();
      channel?.unref?.();
    }
  }

  private armIdle(): void {
    if (this.pending.size) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), this.idleMs);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = undefined;
    if (w && !this.pending.size) {
      if (w.exitCode === null && w.signalCode === null) {
        const exited = new Promise((r) => w.once('exit', r));
        w.ref(); // awaited below: without a ref an otherwise idle agent would exit under this await
        w.disconnect(); // the worker exits when its channel closes
        await exited;
      }
      compact();
    } else if (w) this.worker = w;
  }
}

/**
 * A full GC when the agent runs with --expose-gc (`flux node start` passes it): after the config
 * worker exits and after bursts (start-up with many streams), so V8 gives the pages back.
 */
export function compact(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') setTimeout(() => gc(), 100).unref();
}

function rehydrate(e: WorkerError): Error {
  if (e.type === 'ConfigError') return new ConfigError(e.issues);
  if (e.type === 'FluxError') return new InputError(e.message, { code: e.code, exitCode: e.exitCode });
  return new Error(e.message);
}

export class ConfigSource {
  private demoText: string | undefined;
  private constructor(
    /** absolute path, undefined for the demo */
    readonly file: string | undefined,
    public current: ConfigSnapshot,
    readonly worker: ConfigWorker,
  ) {}

  get demo(): boolean {
    return this.file === undefined;
  }

  static async fromFile(file: string, worker = new ConfigWorker()): Promise<ConfigSource> {
    const loaded = await worker.call<ConfigSnapshot & { file: string }>('load', file);
    return new ConfigSource(loaded.file, { input: loaded.input, resolved: loaded.resolved }, worker);
  }

  static demo(worker = new ConfigWorker()): ConfigSource {
    const input = demoConfig();
    const src = new ConfigSource(undefined, { input, resolved: resolveConfig(input) }, worker);
    src.demoText = yamlLib().stringify(input); // the demo only: the yaml library stays out of a node's heap otherwise
    return src;
  }

  /** Re-read the file; throws ConfigError (and keeps the current config) when it is invalid. */
  async reload(): Promise<ConfigSnapshot> {
    return this.commit(await this.read());
  }

  /** Read and validate the file without making it current (see commit); throws ConfigError. */
  async read(): Promise<ConfigSnapshot> {
    if (!this.file) return this.current;
    const loaded = await this.worker.call<ConfigSnapshot>('load', this.file);
    return { input: loaded.input, resolved: loaded.resolved };
  }

  /** Make a snapshot from read() the current config. */
  commit(snap: ConfigSnapshot): ConfigSnapshot {
    this.current = snap;
    return snap;
  }

  /** Validate a config text without applying it. */
  validate(text: string, label: string): Promise<ConfigIssue[]> {
    return this.worker.call<ConfigIssue[]>('validate', text, label);
  }

  setStream(name: string, value: StreamInput): Promise<ConfigSnapshot> {
    return this.edit({ kind: 'set', name, value });
  }

  removeStream(name: string): Promise<ConfigSnapshot> {
    return this.edit({ kind: 'remove', name });
  }

  /** Apply an edit; validated first (ConfigError with every issue, nothing changed), then persisted. */
  private async edit(op: EditOp): Promise<ConfigSnapshot> {
    if (this.file) {
      const loaded = await this.worker.call<ConfigSnapshot>('editFile', this.file, op);
      this.current = { input: loaded.input, resolved: loaded.resolved };
      return this.current;
    }
    const r = await this.worker.call<ConfigSnapshot & { text: string }>('editText', this.demoText ?? '', op, '(demo)');
    this.demoText = r.text;
    this.current = { input: r.input, resolved: r.resolved };
    return this.current;
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
