/**
 * Load flux.yaml: parse with positions, validate against the one schema plus semantic checks,
 * and resolve. Every problem is reported at once, as ConfigIssue with file:line:col (1-based),
 * pointing at the offending key (unknown keys, duplicates, bad names) or value (bad values).
 *
 * Decisions:
 * - An empty file (or one with only comments) is a valid config with no streams.
 * - A top-level section with no value (`streams:` followed by nothing) counts as absent.
 * - Duplicate keys are reported at the second occurrence (with the first one's position), and
 *   validation goes on with the last occurrence, as YAML readers that allow duplicates do.
 * - Real YAML syntax errors stop validation there: the structure after them is unknown.
 * - Files larger than MAX_CONFIG_BYTES, binary files (NUL bytes) and invalid UTF-8 are refused with
 *   one line, before parsing.
 */
import { readFile, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { yamlLib } from './yaml-lib.js';
import { ConfigSchema, type ConfigInput } from './schema.js';
import { resolveConfig } from './resolve.js';
import type { ResolvedConfig } from './model.js';
import { ConfigError, EXIT_CODES, InputError, type ConfigIssue } from '../core/errors.js';
import { semanticIssues } from './semantic.js';
import { knownKeysAt } from './known-keys.js';
import { nodeAt, findKeyNode, duplicateKeys, formatPath } from './yaml-pos.js';
import { parseFastYaml } from '../core/fast-yaml.js';

export { nodeAt, findKeyNode } from './yaml-pos.js';

/** Larger files are refused before parsing (a 5,000-stream config is well under 1 MiB). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export interface LoadedConfig {
  file: string;
  input: ConfigInput;
  resolved: ResolvedConfig;
  doc: Document;
}

export interface ValidationResult {
  file: string;
  issues: ConfigIssue[];
  input?: ConfigInput;
  doc?: Document;
  lineCounter?: LineCounter;
}

export async function readConfigText(file: string): Promise<string> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new InputError(`${file}: permission denied`, { cause: e, code: 'E_ACCES' });
    throw new InputError(`${file}: no such file`, { cause: e, code: 'E_NOENT' });
  }
  if (st.isDirectory()) throw new InputError(`${file}: is a directory, expected a YAML file`, { code: 'E_ISDIR' });
  if (!st.isFile()) throw new InputError(`${file}: not a regular file, expected a YAML file`, { code: 'E_NOTFILE' });
  if (st.size > MAX_CONFIG_BYTES) {
    throw new InputError(`${file}: file is ${st.size} bytes, larger than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB limit for a config file`, { code: 'E_TOOBIG', exitCode: EXIT_CODES.invalidConfig });
  }
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read (${code ?? String(e)})`, { cause: e, code: code === 'EACCES' ? 'E_ACCES' : 'E_READ' });
  }
  // the file exists but its content is not a config: an invalid config (exit 3), like a schema error
  if (buf.includes(0)) throw new InputError(`${file}: binary data (NUL byte), expected a YAML text file`, { code: 'E_BINARY', exitCode: EXIT_CODES.invalidConfig });
  if (!isUtf8(buf)) throw new InputError(`${file}: not UTF-8 text, expected a YAML text file`, { code: 'E_BINARY', exitCode: EXIT_CODES.invalidConfig });
  return buf.toString('utf8');
}

type Path = (string | number)[];

/** Define `doc` and `lineCounter` as lazily parsed (with positions) on first access. */
function withLazyDoc<T extends object>(target: T, text: string): T & { doc: Document; lineCounter: LineCounter } {
  let parsed: { doc: Document; lineCounter: LineCounter } | undefined;
  const get = () => {
    if (!parsed) {
      const { LineCounter, parseDocument } = yamlLib();
      const lineCounter = new LineCounter();
      parsed = { doc: parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false }), lineCounter };
    }
    return parsed;
  };
  Object.defineProperty(target, 'doc', { get: () => get().doc, enumerable: true, configurable: true });
  Object.defineProperty(target, 'lineCounter', { get: () => get().lineCounter, enumerable: false, configurable: true });
  return target as T & { doc: Document; lineCounter: LineCounter };
}

/**
 * The fast path: a config in the plain YAML subset (see fast-yaml.ts) that has no problem at all
 * needs no positions, so it is validated without the (slow to start) position-keeping parser.
 * Undefined when there is anything to report or the text is outside the subset.
 */
function validateFast(text: string, file: string): ValidationResult | undefined {
  const fast = parseFastYaml(text);
  if (!fast) return undefined;
  const data = fast.value ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) return undefined;
  const obj = data as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (obj[k] === null) delete obj[k];
  const parsed = ConfigSchema.safeParse(obj);
  if (!parsed.success) return undefined;
  const result = withLazyDoc({ file, issues: [] as ConfigIssue[], input: parsed.data }, text);
  if (semanticIssues(obj, () => result.doc).length) return undefined;
  return result;
}

/** Validate text as if it came from `file`. Never throws for content problems. */
export function validateText(text: string, file: string): ValidationResult {
  const fast = validateFast(text, file);
  if (fast) return fast;
  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const issues: ConfigIssue[] = [];
  const at = (offset: number | undefined, message: string, p: Path = []): ConfigIssue => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { file, line: pos.line, col: pos.col, message, path: p.join('.') };
  };
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  for (const err of doc.errors) issues.push(at(err.pos[0], `YAML syntax error: ${err.message.split('\n')[0]}`));
  if (issues.length) return { file, issues: sortIssues(issues), doc, lineCounter };

  for (const d of duplicateKeys(doc)) {
    const first = d.firstOffset === undefined ? '' : ` (first defined at line ${lineCounter.linePos(d.firstOffset).line})`;
    const what = d.path.length === 1 && d.path[0] === 'streams' ? 'duplicate stream name' : 'duplicate key';
    issues.push(at(d.offset, `${what} "${d.key}"${first}`, [...d.path, d.key]));
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    issues.push(at(0, `YAML error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`));
    return { file, issues: sortIssues(issues), doc, lineCounter };
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    issues.push(at(doc.contents?.range?.[0], 'expected a mapping at the top level (server:, streams:, …)'));
    return { file, issues: sortIssues(issues), doc, lineCounter };
  }
  const obj = data as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (obj[k] === null) delete obj[k];

  const parsed = ConfigSchema.safeParse(obj);
  if (!parsed.success) {
    for (const iss of parsed.error.issues) {
      for (const m of zodIssueMessages(iss as ZodIssueLike, [], obj)) {
        if (m.unknownKey !== undefined) {
          const keyNode = findKeyNode(doc, m.path, m.unknownKey);
          issues.push(at(keyNode?.range?.[0], m.message, [...m.path, m.unknownKey]));
        } else if (m.missing) {
          const parent = m.path.slice(0, -1);
          const node = parent.length ? findKeyNode(doc, parent.slice(0, -1), String(parent[parent.length - 1])) : nodeAt(doc, []);
          issues.push(at(node?.range?.[0], m.message, m.path));
        } else {
          issues.push(at(nodeAt(doc, m.path)?.range?.[0], m.message, m.path));
        }
      }
    }
  }
  for (const s of semanticIssues(obj, doc)) issues.push(at(s.offset, s.message, s.path));
  return { file, issues: sortIssues(issues), input: parsed.success ? parsed.data : undefined, doc, lineCounter };
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((i) => {
      const k = `${i.line}:${i.col}:${i.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

export async function validateFile(file: string): Promise<ValidationResult> {
  const text = await readConfigText(file);
  return validateText(text, file);
}

/** Load, validate and resolve; throws ConfigError with every issue. */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  const r = await validateFile(file);
  if (r.issues.length || !r.input) throw new ConfigError(r.issues);
  const input = r.input;
  const loaded = { file: abs, input, resolved: resolveConfig(input, abs) } as LoadedConfig;
  // `doc` stays lazy when validation did not need it (the fast path)
  Object.defineProperty(loaded, 'doc', { get: () => r.doc!, enumerable: true, configurable: true });
  return loaded;
}

// ---------------------------------------------------------------------------------------------
// zod issues → one clear message each

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  keys?: string[];
  values?: unknown[];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  format?: string;
  errors?: ZodIssueLike[][];
}

interface Msg {
  path: Path;
  message: string;
  unknownKey?: string;
  missing?: boolean;
}

function get(data: unknown, p: Path): unknown {
  let cur = data;
  for (const seg of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[String(seg)];
  }
  return cur;
}

function has(data: unknown, p: Path): boolean {
  if (p.length === 0) return true;
  const parent = get(data, p.slice(0, -1));
  return parent !== null && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, String(p[p.length - 1]));
}

/** A short human rendering of a received value. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'nothing (null)';
  if (typeof v === 'string') return v.length > 40 ? JSON.stringify(v.slice(0, 37) + '...') : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return `a date (${v.toISOString().slice(0, 10)})`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  null: 'null',
};

function bound(iss: ZodIssueLike, big: boolean): string {
  const n = Number(big ? iss.maximum : iss.minimum);
  const incl = iss.inclusive !== false;
  switch (iss.origin) {
    case 'array':
    case 'set':
      return big ? `has more than ${n} item${n === 1 ? '' : 's'}` : `needs at least ${n} item${n === 1 ? '' : 's'}`;
    case 'string':
      if (!big && n === 1) return 'must not be empty';
      return big ? `must be at most ${n} characters` : `must be at least ${n} characters`;
    default:
      if (big) return incl ? `must be at most ${n}` : `must be less than ${n}`;
      return incl ? `must be at least ${n}` : `must be greater than ${n}`;
  }
}

function zodIssueMessages(iss: ZodIssueLike, prefix: Path, data: unknown): Msg[] {
  const p = [...prefix, ...(iss.path as (string | number)[])];
  const where = p.length ? `${formatPath(p)}: ` : '';
  const value = get(data, p);
  switch (iss.code) {
    case 'unrecognized_keys':
      return (iss.keys ?? []).map((key) => {
        const hint = didYouMean(key, knownKeysAt(data, p));
        const known = knownKeysAt(data, p);
        const tail = hint ? `, did you mean "${hint}"?` : known.length ? ` (expected one of: ${known.join(', ')})` : '';
        return { path: p, unknownKey: key, message: `unknown key "${key}"${p.length ? ` in ${formatPath(p)}` : ''}${tail}` };
      });
    case 'invalid_type':
      if (!has(data, p)) {
        const parentName = formatPath(p.slice(0, -1));
        return [{ path: p, missing: true, message: `${parentName ? parentName + ': ' : ''}missing required key "${String(p[p.length - 1])}"` }];
      }
      if (iss.message && !iss.message.startsWith('Invalid input')) return [{ path: p, message: `${where}${iss.message}, got ${describeValue(value)}` }];
      return [{ path: p, message: `${where}expected ${NOUNS[iss.expected ?? ''] ?? iss.expected}, got ${describeValue(value)}` }];
    case 'too_small':
      return [{ path: p, message: `${where}${bound(iss, false)}${iss.origin === 'array' || iss.origin === 'string' ? '' : `, got ${describeValue(value)}`}` }];
    case 'too_big':
      return [{ path: p, message: `${where}${bound(iss, true)}${iss.origin === 'array' || iss.origin === 'string' ? '' : `, got ${describeValue(value)}`}` }];
    case 'invalid_value': {
      const opts = (iss.values ?? []).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const hint = typeof value === 'string' ? didYouMean(value, opts) : undefined;
      return [{ path: p, message: `${where}expected one of ${opts.join(', ')}, got ${describeValue(value)}${hint ? `: did you mean "${hint}"?` : ''}` }];
    }
    case 'invalid_format':
      return [{ path: p, message: `${where}${iss.message.startsWith('Invalid') ? `expected a valid ${iss.format ?? 'value'}` : iss.message}, got ${describeValue(value)}` }];
    case 'invalid_union': {
      const branches = iss.errors ?? [];
      // a branch whose type matched but whose content is wrong says more than "expected A or B"
      const deep = branches.find((b) => b.length > 0 && b.every((e) => e.path.length > 0 || e.code === 'unrecognized_keys'));
      if (deep) return deep.flatMap((e) => zodIssueMessages(e, p, data));
      if (iss.message && iss.message !== 'Invalid input') return [{ path: p, message: `${where}${iss.message}, got ${describeValue(value)}` }];
      const expected = new Set<string>();
      for (const b of branches) {
        for (const e of b) {
          if (e.code === 'invalid_type' && e.expected === 'boolean') expected.add('true').add('false');
          else if (e.code === 'invalid_type' && e.expected) expected.add(NOUNS[e.expected] ?? e.expected);
          else if (e.code === 'invalid_value') for (const v of e.values ?? []) expected.add(typeof v === 'string' ? v : JSON.stringify(v));
        }
      }
      const list = [...expected];
      const exp = list.length ? list.slice(0, -1).join(', ') + (list.length > 1 ? ' or ' : '') + list[list.length - 1] : 'a different value';
      return [{ path: p, message: `${where}expected ${exp}, got ${describeValue(value)}` }];
    }
    case 'invalid_key':
      return [{ path: p, message: `${where}invalid key: ${iss.message}` }];
    default:
      return [{ path: p, message: `${where}${iss.message}` }];
  }
}

// ---------------------------------------------------------------------------------------------

export function didYouMean(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && best !== word && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
