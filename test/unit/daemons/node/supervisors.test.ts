/**
 * The reconciler (supervisors.ts) and the managed supervisor (managed-supervisor.ts) with a fake
 * SupervisorHost: no process is started; spec and pid files are real files in a temp run dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SupervisorManager, specHash } from '../../../../src/daemons/node/supervisors.js';
import type { SpawnedSupervisor, SupervisorHost } from '../../../../src/daemons/node/supervisor-host.js';
import { resolveConfig } from '../../../../src/config/resolve.js';
import type { ResolvedStream } from '../../../../src/config/model.js';
import type { SupervisorStatus } from '../../../../src/protocol/supervisor-status.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { tempDir } from '../../../helpers/index.js';

class FakeProc implements SpawnedSupervisor {
  alive = true;
  private exits: ((code: number | null, signal: string | null) => void)[] = [];
  constructor(readonly pid: number, readonly specFile: string) {}
  running = () => this.alive;
  onExit(fn: (code: number | null, signal: string | null) => void) {
    this.exits.push(fn);
  }
  onError() {}
  forget() {
    this.exits = [];
  }
  die(code = 1) {
    this.alive = false;
    for (const f of this.exits) f(code, null);
  }
}

/** Processes by pid; a live one answers on its socket with its pid and the spec hash it was started with. */
class FakeHost implements SupervisorHost {
  procs = new Map<number, FakeProc>();
  /** pids alive that this node did not spawn (left by a previous node), with the status they answer */
  foreign = new Map<number, SupervisorStatus | undefined>();
  mute = new Set<number>();
  posts: string[] = [];
  signals: string[] = [];
  nextPid = 1000;
  spawnGate: Promise<void> | undefined;

  async spawn({ specFile }: { specFile: string }) {
    if (this.spawnGate) await this.spawnGate;
    const p = new FakeProc(this.nextPid++, specFile);
    this.procs.set(p.pid, p);
    return p;
  }
  async isAlive(pid: number | undefined) {
    return pid !== undefined && (this.procs.get(pid)?.alive ?? this.foreign.has(pid));
  }
  async looksLikeSupervisor(pid: number) {
    return this.foreign.has(pid);
  }
  async readPid(file: string) {
    return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined;
  }
  signal(pid: number, sig: NodeJS.Signals) {
    this.signals.push(`${sig} ${pid}`);
    this.kill(pid);
    return true;
  }
  signalGroup(pid: number, sig: NodeJS.Signals) {
    this.signals.push(`${sig} -${pid}`);
    if (sig === 'SIGKILL') this.kill(pid);
    return true;
  }
  async waitForExit(pid: number) {
    return !(await this.isAlive(pid));
  }
  private kill(pid: number) {
    this.foreign.delete(pid);
    const p = this.procs.get(pid);
    if (p?.alive) p.die(null as unknown as number);
  }
  private pidOfSock(sock: string): number | undefined {
    for (const p of this.procs.values()) if (p.alive && p.specFile.replace(/\.json$/, '.sock') === sock) return p.pid;
    return undefined;
  }
  async status(sock: string) {
    for (const [pid, st] of this.foreign) if (st && sock.endsWith(`${st.name}.sock`)) return st;
    const pid = this.pidOfSock(sock);
    if (pid === undefined || this.mute.has(pid)) return undefined;
    const spec = JSON.parse(readFileSync(this.procs.get(pid)!.specFile, 'utf8')) as { specHash: string; stream: { name: string } };
    return { name: spec.stream.name, pid, specHash: spec.specHash, state: 'running', startedAt: 1 } as SupervisorStatus;
  }
  async post(sock: string, urlPath: string) {
    this.posts.push(`${urlPath} ${path.basename(sock)}`);
    const pid = this.pidOfSock(sock) ?? [...this.foreign.entries()].find(([, st]) => st && sock.endsWith(`${st.name}.sock`))?.[0];
    if (urlPath === '/stop' && pid !== undefined) this.kill(pid);
    return { status: pid === undefined ? 503 : 200, text: '', json: {} };
  }
  alive(): FakeProc[] {
    return [...this.procs.values()].filter((p) => p.alive);
  }
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached');
}

function streams(names: Record<string, string>): Record<string, ResolvedStream> {
  const cfg = resolveConfig({ streams: Object.fromEntries(Object.entries(names).map(([n, url]) => [n, { inputs: [{ url }] }])) } as never);
  return cfg.streams;
}

async function setup(t: { after(fn: () => unknown): void }) {
  const runDir = await tempDir(t, 'flux-sup-');
  const host = new FakeHost();
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const server = resolveConfig({} as never).server;
  const mgr = new SupervisorManager({ runDir, server, ffmpeg: 'ffmpeg', logger: silentLogger, host, now: () => now });
  t.after(() => mgr.detachAll());
  return { runDir, host, clock, mgr, tick: () => (mgr as unknown as { tick(): Promise<void> }).tick() };
}

test('reconcile: start what is missing, keep what is unchanged, restart what changed, stop what is gone', async (t) => {
  const { host, mgr } = await setup(t);
  const r1 = await mgr.reconcile(streams({ a: 'fake://x', b: 'fake://y' }));
  assert.deepEqual(r1, { started: ['a', 'b'], stopped: [], restarted: [], adopted: [], unchanged: [] });
  assert.equal(host.alive().length, 2);
  const spec = JSON.parse(readFileSync(mgr.paths('a').spec, 'utf8'));
  assert.equal(spec.specHash, specHash(streams({ a: 'fake://x' }).a!));
  assert.equal(spec.ffmpeg, 'ffmpeg');

  const r2 = await mgr.reconcile(streams({ a: 'fake://x', b: 'fake://changed', c: 'fake://z' }));
  assert.deepEqual(r2, { started: ['c'], stopped: [], restarted: ['b'], adopted: [], unchanged: ['a'] });
  assert.deepEqual(host.posts, ['/stop b.sock']);
  assert.equal(host.alive().length, 3);

  const r3 = await mgr.reconcile(streams({ c: 'fake://z' }));
  assert.deepEqual(r3.stopped, ['a', 'b']);
  assert.deepEqual(mgr.names(), ['c']);
  assert.equal(host.alive().length, 1);
  assert.equal(existsSync(mgr.paths('a').spec), false, 'a dropped stream leaves no spec file');
});

test('managed supervisor: the first death restarts at once, quick deaths back off, a healthy run resets', async (t) => {
  const { host, mgr, clock, tick } = await setup(t);
  await mgr.reconcile(streams({ a: 'fake://x' }));
  await tick();
  assert.equal(mgr.get('a')!.state, 'running');
  clock.advance(60_000);
  const first = host.alive()[0]!;
  first.die(1);
  await until(() => host.alive().length === 1);
  const v1 = mgr.get('a')!;
  assert.equal(v1.restarts, 1);
  assert.notEqual(v1.pid, undefined);
  assert.notEqual(v1.pid, first.pid, 'respawned at once after a healthy run');
  assert.ok(v1.events.some((e) => e.type === 'supervisor_restart' && e.reason === 'now'));

  // dies again within 10 s of its start: 0 ms was the first; now 500 ms of backoff
  clock.advance(1000);
  host.alive()[0]!.die(1);
  await until(() => mgr.get('a')!.state === 'backoff');
  let v = mgr.get('a')!;
  assert.equal(v.state, 'backoff');
  assert.equal(v.restarts, 2);
  assert.equal(host.alive().length, 0);
  clock.advance(499);
  await tick();
  assert.equal(host.alive().length, 0, 'not before its delay');
  clock.advance(1);
  await tick();
  v = mgr.get('a')!;
  assert.equal(host.alive().length, 1);
  assert.equal(v.state, 'starting');
});

test('managed supervisor: one that stops answering for 15 s is killed (its group) and restarted', async (t) => {
  const { host, mgr, clock, tick } = await setup(t);
  await mgr.reconcile(streams({ a: 'fake://x' }));
  await tick();
  const p = host.alive()[0]!;
  host.mute.add(p.pid);
  clock.advance(14_000);
  await tick();
  assert.ok(p.alive, 'still within its grace');
  clock.advance(2_000);
  await tick();
  assert.equal(p.alive, false);
  assert.ok(host.signals.includes(`SIGKILL -${p.pid}`));
  assert.ok(mgr.get('a')!.events.some((e) => e.type === 'supervisor_unresponsive'));
  assert.equal(host.alive().length, 1, 'a new one runs');
});

test('reconcile adopts a running supervisor with the same spec and replaces one with an outdated spec', async (t) => {
  const { runDir, host, mgr } = await setup(t);
  const desired = streams({ a: 'fake://x', b: 'fake://y' });
  await mkdir(path.join(runDir, 'streams'), { recursive: true });
  await writeFile(mgr.paths('a').pid, '77\n');
  await writeFile(mgr.paths('b').pid, '78\n');
  host.foreign.set(77, { name: 'a', pid: 77, specHash: specHash(desired.a!), startedAt: 5 } as SupervisorStatus);
  host.foreign.set(78, { name: 'b', pid: 78, specHash: 'old', startedAt: 5 } as SupervisorStatus);
  const r = await mgr.reconcile(desired);
  assert.deepEqual(r.adopted, ['a']);
  assert.deepEqual(r.started, ['b']);
  assert.equal(mgr.get('a')!.pid, 77);
  assert.equal(mgr.get('a')!.adopted, true);
  assert.deepEqual(host.posts, ['/stop b.sock'], 'the outdated one was asked to stop');
  assert.equal(host.procs.size, 1, 'one spawn: b');
});

test('a stream removed while its supervisor is being spawned leaves no supervisor running', async (t) => {
  const { host, mgr } = await setup(t);
  let open!: () => void;
  host.spawnGate = new Promise<void>((r) => (open = r));
  const starting = mgr.reconcile(streams({ a: 'fake://x' }));
  await new Promise((r) => setTimeout(r, 20));
  const removing = mgr.reconcile({});
  open();
  await Promise.all([starting, removing]);
  assert.equal(host.alive().length, 0);
  assert.deepEqual(mgr.names(), []);
});
