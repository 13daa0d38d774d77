/** Positions in a YAML document (config/yaml-pos.ts): the one lookup for config load and the API's PUT bodies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { findKeyNode, nodeAt } from '../../../src/config/yaml-pos.js';

function at(text: string, find: (doc: ReturnType<typeof parseDocument>) => { range?: [number, number, number] | null } | undefined) {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
  const node = find(doc);
  return lc.linePos(node?.range?.[0] ?? -1);
}

const TEXT = ['inputs:', '  - url: fake://a', 'hls:', '  window: 1', 'hls:', '  window: 0', '  bogus: 1', ''].join('\n');

test('nodeAt: the LAST of duplicate keys, as in the data', () => {
  assert.deepEqual(at(TEXT, (d) => nodeAt(d, ['hls', 'window'])), { line: 6, col: 11 });
  assert.deepEqual(at(TEXT, (d) => nodeAt(d, ['inputs', 0, 'url'])), { line: 2, col: 10 });
  // a path past the document points at the deepest node that exists
  assert.deepEqual(at(TEXT, (d) => nodeAt(d, ['inputs', 3, 'url'])), { line: 2, col: 3 });
});

test('findKeyNode: the key of an entry (unknown keys are reported there), in the last duplicate map', () => {
  assert.deepEqual(at(TEXT, (d) => findKeyNode(d, ['hls'], 'bogus')), { line: 7, col: 3 });
  assert.deepEqual(at(TEXT, (d) => findKeyNode(d, [], 'hls')), { line: 5, col: 1 });
});
