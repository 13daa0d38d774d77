/**
 * What the `flux cluster` commands do besides printing: check etcd before a join, edit the config's
 * `cluster:` section (atomic, comments kept), and store shared stream definitions (`cluster apply`).
 */
import type { ApplyResult } from '../protocol/api.js';
import { hostname } from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { ConfigError, EXIT_CODES, InputError } from '../core/errors.js';
import { editConfigFile, setTopSectionInDocument } from '../config/edit.js';
import { readConfigText, validateText } from '../config/load.js';
import { applyTemplates } from '../config/resolve.js';
import type { ConfigInput, StreamInput } from '../config/schema.js';
import { defaultInstance, type NodeDoc } from '../cluster/member.js';

const CALL_TIMEOUT_MS = 3000;
const DEFAULT_PREFIX = '/flux/';

export interface EtcdTarget {
  etcd: string[];
  keyPrefix?: string;
  username?: string;
  password?: string;
}

export class EtcdUnreachableError extends InputError {
  constructor(endpoints: string[], cause: unknown) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(`cannot reach etcd at ${endpoints.join(',')}: ${why}`, { cause, code: 'E_ETCD_UNREACHABLE', exitCode: EXIT_CODES.nodeUnreachable });
  }
}

function connect(t: EtcdTarget): Etcd3 {
  return new Etcd3({
    hosts: t.etcd,
    dialTimeout: CALL_TIMEOUT_MS,
    ...(t.username ? { auth: { username: t.username, password: t.password ?? '' } } : {}),
    defaultCallOptions: () => ({ deadline: Date.now() + CALL_TIMEOUT_MS }),
  });
}

async function withEtcd<T>(t: EtcdTarget, fn: (c: Etcd3, prefix: string) => Promise<T>): Promise<T> {
  const c = connect(t);
  try {
    return await fn(c, t.keyPrefix ?? DEFAULT_PREFIX);
  } catch (e) {
    if (e instanceof InputError || e instanceof ConfigError) throw e;
    throw new EtcdUnreachableError(t.etcd, e);
  } finally {
    c.close();
  }
}

/** `--etcd a,b` → endpoint list; each must be an http(s) URL. */
export function parseEndpoints(v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new InputError('--etcd: give at least one endpoint URL, e.g. http://127.0.0.1:2379', { code: 'E_USAGE', exitCode: EXIT_CODES.usage });
  for (const u of list) {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(u).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new InputError(`--etcd: "${u}" is not an http:// or https:// URL`, { code: 'E_USAGE', exitCode: EXIT_CODES.usage });
  }
  return list;
}

/** The config's cluster: section as written (not resolved), or undefined. */
export async function readClusterSection(file: string): Promise<{ input: ConfigInput; cluster: NonNullable<ConfigInput['cluster']> | undefined }> {
  const text = await readConfigText(file);
  const r = validateText(text, file);
  if (r.issues.length || !r.input) throw new ConfigError(r.issues);
  return { input: r.input, cluster: r.input.cluster };
}

export interface JoinPlan {
  file: string;
  etcd: string[];
  name?: string;
  advertise?: string;
}

/**
 * Check that etcd answers and that the name is free (or held by this very node), then write the
 * cluster: section. Nothing is written when etcd is unreachable (exit 4) or the name is taken.
 */
export async function joinConfig(plan: JoinPlan, runDir: string): Promise<NonNullable<ConfigInput['cluster']>> {
  const { cluster: existing } = await readClusterSection(plan.file);
  const section: NonNullable<ConfigInput['cluster']> = {
    ...existing,
    etcd: plan.etcd,
    node_name: plan.name ?? existing?.node_name ?? hostname(),
    ...(plan.advertise ? { advertise: plan.advertise } : {}),
  };
  const name = section.node_name!;
  const holder = await withEtcd({ ...section }, async (c, prefix) => c.get(`${prefix}nodes/${name}`).string());
  if (holder) {
    let doc: Partial<NodeDoc> = {};
    try {
      doc = JSON.parse(holder) as NodeDoc;
    } catch {
      /* foreign */
    }
    if (doc.instance !== defaultInstance(path.resolve(runDir))) {
      throw new InputError(`node name "${name}" is already used by another node (${doc.address ?? 'unknown address'}); choose another --name`, { code: 'E_CLUSTER_DUPLICATE' });
    }
  }
  await editConfigFile(plan.file, (doc) => setTopSectionInDocument(doc, 'cluster', section));
  return section;
}

/** Remove the cluster: section; false when there was none. */
export async function leaveConfig(file: string): Promise<boolean> {
  const { cluster } = await readClusterSection(file);
  if (!cluster) return false;
  await editConfigFile(file, (doc) => setTopSectionInDocument(doc, 'cluster', undefined));
  return true;
}


export type { ApplyResult } from '../protocol/api.js';

const APPLY_SECTIONS = new Set(['streams', 'templates', 'dvr']);

/**
 * Validate a shared-streams file (a flux.yaml with streams:, and optionally templates: and dvr: used
 * by them) and make etcd's shared streams exactly its streams, in one transaction. An invalid file
 * changes nothing.
 */
export async function applySharedStreams(file: string, target: EtcdTarget, opts: { dryRun?: boolean } = {}): Promise<ApplyResult> {
  const text = await readConfigText(file);
  const r = validateText(text, file);
  if (r.issues.length || !r.input) throw new ConfigError(r.issues);
  const other = Object.keys(r.input).filter((k) => !APPLY_SECTIONS.has(k));
  if (other.length) {
    throw new InputError(`${file}: "${other.join('", "')}" cannot be shared: a cluster apply file holds streams: (and the templates: and dvr: they use); node settings stay in each node's flux.yaml`, { code: 'E_APPLY_SECTIONS' });
  }
  const wanted: Record<string, string> = {};
  for (const [name, s] of Object.entries(r.input.streams ?? {})) wanted[name] = JSON.stringify(applyTemplates(r.input, name, s as StreamInput));
  return withEtcd(target, async (c, prefix) => {
    const base = `${prefix}streams/`;
    const got = await c.getAll().prefix(base).exec();
    const current = new Map(got.kvs.map((kv) => [kv.key.toString(), { value: kv.value.toString(), mod: Number(kv.mod_revision) }]));
    const res: ApplyResult = { added: [], changed: [], removed: [], unchanged: [] };
    const ops = [];
    // optimistic: the transaction applies only if no key we read (or expect absent) changed meanwhile
    const cmps: [string, 'Create' | 'Mod', number][] = [];
    for (const [name, json] of Object.entries(wanted)) {
      const prev = current.get(base + name);
      if (prev?.value === json) res.unchanged.push(name);
      else {
        (prev === undefined ? res.added : res.changed).push(name);
        cmps.push(prev === undefined ? [base + name, 'Create', 0] : [base + name, 'Mod', prev.mod]);
        ops.push(c.put(base + name).value(json));
      }
    }
    for (const [key, prev] of current) {
      const name = key.slice(base.length);
      if (!(name in wanted)) {
        res.removed.push(name);
        cmps.push([key, 'Mod', prev.mod]);
        ops.push(c.delete().key(key));
      }
    }
    if (ops.length && !opts.dryRun) {
      // one transaction: every node sees the whole new set or the old one (etcd allows 128 ops per txn by default)
      if (ops.length > 128) throw new InputError(`${ops.length} changes in one apply: etcd takes at most 128 per transaction; apply in smaller files`, { code: 'E_APPLY_TOO_BIG' });
      const [first, ...rest] = cmps;
      const txn = c.if(first![0], first![1], '==', first![2]);
      for (const [k, col, v] of rest) txn.and(k, col, '==', v);
      const r = await txn.then(...ops).commit();
      if (!r.succeeded) throw new InputError('the shared streams changed in etcd while applying (another apply?); nothing was written: run it again', { code: 'E_APPLY_CONFLICT' });
    }
    for (const k of Object.keys(res) as (keyof ApplyResult)[]) res[k].sort();
    return res;
  });
}
