/**
 * The import rules of the design's map (README → Architecture), checked on the source text: every
 * relative import (static, dynamic or re-export) of every file under src/ is resolved to the src/
 * folder it lands in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/index.js';

const SRC = path.join(REPO_ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** [importing file, imported file], both relative to src/. */
function relativeImports(text: string, file: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push(path.relative(SRC, path.resolve(path.dirname(file), m[1]!)));
  return out;
}

const edges = files(SRC).flatMap((f) => relativeImports(readFileSync(f, 'utf8'), f).map((to) => ({ from: path.relative(SRC, f), to })));

function violations(fromArea: string, allowed: (to: string) => boolean): string[] {
  return edges.filter((e) => e.from.startsWith(fromArea + '/') && !allowed(e.to)).map((e) => `${e.from} imports ${e.to}`);
}

const under = (to: string, ...areas: string[]) => areas.some((a) => to === a || to.startsWith(a + '/'));

test('the scanner sees static, type-only, dynamic and re-export imports', () => {
  const f = path.join(SRC, 'daemons', 'node', 'x.ts');
  const text = `import a from '../../client/a.js';\nimport type { B } from "../../client/b.js";\nconst c = await import('../../client/c.js');\nexport { d } from '../../client/d.js';\nimport 'node:fs';`;
  assert.deepEqual(relativeImports(text, f), ['client/a.js', 'client/b.js', 'client/c.js', 'client/d.js']);
  assert.ok(edges.length > 200, `found ${edges.length} imports`);
});

test('nothing under src/daemons imports src/client or src/commands', () => {
  assert.deepEqual(violations('daemons', (to) => !under(to, 'client', 'commands', 'services', 'cli')), []);
});

test('nothing under src/media imports outside src/media', () => {
  assert.deepEqual(violations('media', (to) => under(to, 'media')), []);
});

test('src/protocol imports only itself and src/core (never daemons, client or commands)', () => {
  assert.deepEqual(violations('protocol', (to) => under(to, 'protocol', 'core')), []);
});

test('src/core imports nothing internal', () => {
  assert.deepEqual(violations('core', (to) => under(to, 'core')), []);
});
