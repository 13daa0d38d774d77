/**
 * Load flux.yaml: parse with positions, validate against the one schema plus semantic checks,
 * and resolve. Every problem is reported at once, as ConfigIssue with file:line:col.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Document, type Node as YamlNode } from 'yaml';
import { ConfigSchema, type ConfigInput } from './schema.js';
import { resolveConfig } from './resolve.js';
import type { ResolvedConfig } from './model.js';
import { ConfigError, InputError, type ConfigIssue } from '../core/errors.js';
import { semanticIssues } from './semantic.js';

export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

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
    throw new InputError(`${file}: no such file`, { cause: e, code: 'E_NOENT' });
  }
  if (st.isDirectory()) throw new InputError(`${file}: is a directory, expected a YAML file`, { code: 'E_ISDIR' });
  if (st.size > MAX_CONFIG_BYTES) throw new InputError(`${file}: file is ${st.size} bytes, larger than the ${MAX_CONFIG_BYTES}-byte limit`);
  const buf = await readFile(file);
  if (buf.includes(0)) throw new InputError(`${file}: binary data (NUL byte), expected a YAML text file`, { code: 'E_BINARY' });
  return buf.toString('utf8');
}

/** Validate text as if it came from `file`. Never throws for content problems. */
export function validateText(text: string, file: string): ValidationResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const at = (offset: number | undefined, message: string, p: (string | number)[] = []): ConfigIssue => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { file, line: pos.line, col: pos.col, message, path: p.join('.') };
  };
  for (const err of doc.errors) issues.push(at(err.pos[0], `YAML syntax error: ${err.message.split('\n')[0]}`));
  if (issues.length) return { file, issues, doc, lineCounter };
  const data = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    issues.push(at(doc.contents?.range?.[0], 'expected a mapping at the top level (server:, streams:, …)'));
    return { file, issues, doc, lineCounter };
  }
  const parsed = ConfigSchema.safeParse(data);
  if (!parsed.success) {
    for (const iss of parsed.error.issues) {
      const p = iss.path as (string | number)[];
      if (iss.code === 'unrecognized_keys') {
        for (const key of iss.keys) {
          const keyNode = findKeyNode(doc, p, key);
          const hint = didYouMean(key, knownKeysAt(data, p));
          issues.push(at(keyNode?.range?.[0], `unknown key "${key}"${hint ? `, did you mean "${hint}"?` : ''}`, [...p, key]));
        }
      } else {
        const node = nodeAt(doc, p);
        const where = p.length ? `${p.join('.')}: ` : '';
        issues.push(at(node?.range?.[0], `${where}${iss.message}`, p));
      }
    }
  } else {
    for (const s of semanticIssues(parsed.data, doc)) issues.push(at(s.offset, s.message, s.path));
  }
  issues.sort((a, b) => a.line - b.line || a.col - b.col);
  return { file, issues, input: parsed.success ? parsed.data : undefined, doc, lineCounter };
}

export async function validateFile(file: string): Promise<ValidationResult> {
  const text = await readConfigText(file);
  return validateText(text, file);
}

/** Load, validate and resolve; throws ConfigError with every issue. */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  const r = await validateFile(file);
  if (r.issues.length || !r.input || !r.doc) throw new ConfigError(r.issues);
  return { file: abs, input: r.input, resolved: resolveConfig(r.input, abs), doc: r.doc };
}

/** The YAML node at a path of keys/indexes (for positions). */
export function nodeAt(doc: Document, p: (string | number)[]): YamlNode | undefined {
  let node: unknown = doc.contents;
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) return node as YamlNode;
      node = pair.value ?? pair.key;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) return node as YamlNode;
      node = item;
    } else break;
  }
  return node as YamlNode | undefined;
}

/** The key scalar of `key` inside the map at `p`. */
export function findKeyNode(doc: Document, p: (string | number)[], key: string): YamlNode | undefined {
  const map = nodeAt(doc, p);
  if (!isMap(map)) return map;
  const pair = map.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
  return (pair?.key as YamlNode | undefined) ?? map;
}

import { knownKeysAt } from './known-keys.js';

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
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
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
