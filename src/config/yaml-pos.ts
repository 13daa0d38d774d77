/** Positions inside a parsed YAML document: the node at a data path, the key node of an entry. */
import type { Document, Node as YamlNode, Pair } from 'yaml';
import { yamlLib } from './yaml-lib.js';

function keyString(pair: Pair): string | undefined {
  const k = pair.key;
  if (yamlLib().isScalar(k)) return String(k.value);
  if (k === null || k === undefined) return undefined;
  return String(k);
}

/**
 * The YAML node at a path of keys/indexes. When the path goes further than the document, returns
 * the deepest node that exists (so a missing key points at its parent).
 * With duplicate keys the LAST occurrence wins, as in the data.
 */
export function nodeAt(doc: Document, p: readonly (string | number)[]): YamlNode | undefined {
  const { isMap, isPair, isScalar, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  for (const seg of p) {
    if (isMap(node)) {
      let pair: Pair | undefined;
      for (let i = node.items.length - 1; i >= 0; i--) {
        const it = node.items[i]!;
        if (isPair(it) && keyString(it) === String(seg)) {
          pair = it;
          break;
        }
      }
      if (!pair) return node as YamlNode;
      const v = pair.value as YamlNode | null;
      // `key:` with no value: the null scalar has an empty range; point at the key instead
      if (!v || (isScalar(v) && v.value === null && v.range && v.range[0] === v.range[1])) return pair.key as YamlNode;
      node = v;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined || item === null) return node as YamlNode;
      node = item;
    } else break;
  }
  return node as YamlNode | undefined;
}

/** The key scalar of `key` inside the map at `p` (or the map itself when absent). */
export function findKeyNode(doc: Document, p: readonly (string | number)[], key: string): YamlNode | undefined {
  const { isMap, isPair } = yamlLib();
  const map = nodeAt(doc, p);
  if (!isMap(map)) return map;
  let pair: Pair | undefined;
  for (let i = map.items.length - 1; i >= 0; i--) {
    const it = map.items[i]!;
    if (isPair(it) && keyString(it) === key) {
      pair = it;
      break;
    }
  }
  return (pair?.key as YamlNode | undefined) ?? map;
}

export interface DuplicateKey {
  path: (string | number)[];
  key: string;
  /** offset of the second (or later) occurrence */
  offset: number | undefined;
  /** offset of the first occurrence */
  firstOffset: number | undefined;
}

/** Every repeated key in every mapping of the document, reported at the repetition. */
export function duplicateKeys(doc: Document): DuplicateKey[] {
  const { isMap, isPair, isSeq } = yamlLib();
  const out: DuplicateKey[] = [];
  const walk = (node: unknown, p: (string | number)[]) => {
    if (isMap(node)) {
      const seen = new Map<string, number | undefined>();
      for (const it of node.items) {
        if (!isPair(it)) continue;
        const k = keyString(it);
        const keyNode = it.key as YamlNode | null;
        if (k === undefined) continue;
        if (seen.has(k)) out.push({ path: p, key: k, offset: keyNode?.range?.[0], firstOffset: seen.get(k) });
        else seen.set(k, keyNode?.range?.[0]);
        if (isMap(it.value) || isSeq(it.value)) walk(it.value, [...p, k]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((it, i) => {
        if (isMap(it) || isSeq(it)) walk(it, [...p, i]);
      });
    }
  };
  walk(doc.contents, []);
  return out;
}

/** A data path for messages: `streams.cam1.inputs[0].url`, `streams["cams/door"].dvr`. */
export function formatPath(p: readonly (string | number)[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number' || /^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
