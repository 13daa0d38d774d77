/**
 * No config key without a test: every property name anywhere in the JSON Schema of flux.yaml
 * must appear (as a whole word) in some file under test/ other than this one. A key added to the
 * schema with no test that names it fails here; so does a test that names a key only through a
 * computed string. Rule of the project: a key either works, with a test showing its effect, or
 * is rejected by `flux validate` as "not supported yet" (src/config/unsupported.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../../../src/config/schema.js';

const HERE = fileURLToPath(import.meta.url);
const TEST_ROOT = path.resolve(path.dirname(HERE), '..', '..');

/** property name → the schema paths it occurs at (through $refs, arrays, unions, records). */
function schemaKeys(): Map<string, Set<string>> {
  const schema = configJsonSchema() as Record<string, unknown>;
  const defs = (schema.$defs ?? schema.definitions ?? {}) as Record<string, unknown>;
  const keys = new Map<string, Set<string>>();
  const walk = (n: unknown, at: string, seen: Set<string>): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((x) => walk(x, at, seen));
    const o = n as Record<string, unknown>;
    if (typeof o.$ref === 'string') {
      const name = o.$ref.split('/').pop()!;
      if (!seen.has(name)) walk(defs[name], at, new Set([...seen, name]));
    }
    if (o.properties && typeof o.properties === 'object') {
      for (const [k, v] of Object.entries(o.properties as Record<string, unknown>)) {
        const set = keys.get(k) ?? new Set<string>();
        set.add(at ? `${at}.${k}` : k);
        keys.set(k, set);
        walk(v, at ? `${at}.${k}` : k, seen);
      }
    }
    for (const k of ['items', 'additionalProperties', 'anyOf', 'oneOf', 'allOf', 'prefixItems']) if (o[k]) walk(o[k], at, seen);
  };
  walk(schema, '', new Set());
  return keys;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? testFiles(p) : p === HERE ? [] : [p];
  });
}

test('every key of the config schema is named by some test', () => {
  const keys = schemaKeys();
  assert.ok(keys.size > 50, `the walk found the schema's keys (${keys.size})`);
  for (const k of ['server', 'inputs', 'segment_duration', 'password_hash', 'names']) assert.ok(keys.has(k), `walk reaches ${k}`);
  const corpus = testFiles(TEST_ROOT).map((f) => readFileSync(f, 'utf8')).join('\n');
  const missing = [...keys].filter(([k]) => !new RegExp(`(?<![A-Za-z0-9_])${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_])`).test(corpus));
  assert.deepEqual(
    missing.map(([k, at]) => `${k} (${[...at].join(', ')})`),
    [],
    'config keys no test names: add a test that shows the key\'s effect, or reject it in src/config/unsupported.ts',
  );
});
