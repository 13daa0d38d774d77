import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import { parseFastYaml } from '../../../src/core/fast-yaml.js';
import { BAD, FIXTURES, GOOD, TEMPLATE, manyStreamsYaml } from '../../helpers/config-fixtures.js';

/** What the yaml library makes of the text, or undefined when it reports an error (duplicates included). */
function reference(text: string): { value: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) return undefined;
  try {
    return { value: doc.toJS({ maxAliasCount: 1000 }) };
  } catch {
    return undefined;
  }
}

/** The contract: when the fast parser answers, the library agrees and has no error. */
function agrees(text: string): boolean {
  const fast = parseFastYaml(text);
  if (!fast) return true;
  const ref = reference(text);
  return ref !== undefined && isDeepStrictEqual(fast.value, ref.value);
}

const fixtureTexts = (): [string, string][] => {
  const files = [
    ...readdirSync(GOOD).map((f) => path.join(GOOD, f)),
    ...readdirSync(BAD).filter((f) => f.endsWith('.yaml')).map((f) => path.join(BAD, f)),
    path.join(FIXTURES, 'commented.yaml'),
    TEMPLATE,
  ];
  return files.map((f) => [path.basename(f), readFileSync(f, 'utf8')]);
};

test('the usual configs take the fast path and give exactly what the yaml library gives', () => {
  for (const [name, text] of [...fixtureTexts().filter(([n]) => !/syntax-error|tabs|duplicate|stream-names/.test(n)), ['many', manyStreamsYaml(300)] as [string, string]]) {
    const fast = parseFastYaml(text);
    assert.ok(fast, `${name} should take the fast path`);
    assert.deepEqual(fast.value, reference(text)!.value, name);
  }
});

test('errors, duplicates and unsupported syntax are left to the library', () => {
  const giveUp = [
    'a: 1\na: 2\n', // duplicate
    'a: [1, 2\n', // unclosed flow
    'a:\n\tb: 1\n', // tab
    'a: &x 1\nb: *x\n', // anchors/aliases
    'a: !!str 1\n', // tags
    'a: |\n  text\n', // block scalar
    'a: >\n  folded\n',
    'a: "multi\n  line"\n',
    'a: plain\n  continued\n',
    '---\na: 1\n',
    'a: 1\n---\nb: 2\n',
    '%YAML 1.2\n---\na: 1\n',
    '? complex\n: key\n',
    'a: b: c\n',
    'a:\n  - x\n  y: 1\n',
    '- - nested\n',
    'a: [1, 2,]\n',
    '<<: {a: 1}\n',
    '__proto__: 1\n',
    'a: 1\r\nb: 2\r\n',
    '\ufeffa: 1\n',
    'a: "\\q"\n',
    '~: null key\n',
    'a:\n b: 1\n  c: 2\n',
    'a: 1\n b: 2\n',
  ];
  for (const text of giveUp) {
    assert.equal(parseFastYaml(text), undefined, JSON.stringify(text));
  }
});

test('scalars resolve by the YAML 1.2 core schema, as the library does', () => {
  const values = [
    '~', 'null', 'Null', 'NULL', '', 'true', 'True', 'TRUE', 'false', 'FALSE', 'yes', 'no', 'on', 'off', 'y',
    '0', '-0', '+12', '012', '0o17', '0o8', '0x1F', '0xg', '1.5', '-1.', '.5', '1e3', '-2.5E-3', '1_000', '.inf', '-.Inf', '+.INF', '.nan', '.NaN',
    '2026-01-01', '1:30', '4000k', '1920x1080', '-2x360', 'fake://testsrc', 'udp://@239.0.0.1:1234', 'a#b', "it's", 'x "y"',
    '"double \\"q\\" \\u00e9 \\x41 \\t"', "'single ''q'''", '"#not a comment"', '123456789012345678901234567890',
  ];
  for (const v of values) {
    for (const text of [`k: ${v}\n`, `- ${v}\n`, `k: [${v}]\n`, `k: {x: ${v}}\n`, `${v.startsWith('"') || v.startsWith("'") ? v : 'k'}: 1\n`]) {
      assert.ok(agrees(text), JSON.stringify(text));
    }
  }
  assert.deepEqual(parseFastYaml('a: 0x10\nb: 1e2\nc: .nan\nd: yes\ne: -0\n')!.value, { a: 16, b: 100, c: NaN, d: 'yes', e: -0 });
});

test('fuzz: 2,000 mutated configs; whenever the fast parser answers, the library agrees', () => {
  // deterministic pseudo-random mutations (LCG) of the fixtures: deletions, insertions, swaps
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = [' ', '  ', '\n', ':', ': ', '- ', '#', ' #', '"', "'", '[', ']', '{', '}', ',', 'a', '1', '-', '.', '~', '\\', 'x: y', '\n  ', '\n- '];
  const texts = fixtureTexts().map(([, t]) => t).filter((t) => t.length < 6000);
  let answered = 0;
  for (let n = 0; n < 2000; n++) {
    let t = texts[rnd(texts.length)]!;
    const edits = 1 + rnd(3);
    for (let e = 0; e < edits; e++) {
      const at = rnd(t.length + 1);
      switch (rnd(3)) {
        case 0:
          t = t.slice(0, at) + t.slice(at + 1 + rnd(4));
          break;
        case 1:
          t = t.slice(0, at) + alphabet[rnd(alphabet.length)] + t.slice(at);
          break;
        default: {
          const b = rnd(t.length + 1);
          t = t.slice(0, Math.min(at, b)) + t.slice(Math.max(at, b), Math.max(at, b) + 8) + t.slice(Math.min(at, b));
        }
      }
    }
    if (parseFastYaml(t)) answered++;
    assert.ok(agrees(t), `disagreement on:\n${t}`);
  }
  assert.ok(answered > 200, `the fast path answered only ${answered} of 2000`);
});
