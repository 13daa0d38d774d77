// Writes schemas/<command>.json: the JSON Schema of each command's --json result, generated from
// src/protocol/results.ts (run after changing a result; test/e2e/json-results.test.ts fails when stale).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { RESULTS, resultJsonSchema } = await import(path.join(root, 'dist', 'protocol', 'results.js'));
const dir = path.join(root, 'schemas');
mkdirSync(dir, { recursive: true });
for (const id of Object.keys(RESULTS)) {
  writeFileSync(path.join(dir, `${id.replace(/ /g, '-')}.json`), JSON.stringify(resultJsonSchema(id), null, 2) + '\n');
}
console.log(`wrote ${Object.keys(RESULTS).length} schemas to schemas/`);
