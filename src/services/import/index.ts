/**
 * `flux import flussonic`: read flussonic.conf, translate, render commented YAML and check it with
 * the same validator as `flux validate`.
 */
import { Document, isMap, isScalar, type Pair } from 'yaml';
import { parseFlussonic } from './flussonic-parse.js';
import { translateFlussonic, type SkippedDirective } from './flussonic.js';
import { validateText } from '../../config/load.js';
import type { ConfigIssue } from '../../core/errors.js';

export { FlussonicSyntaxError } from './flussonic-parse.js';
export type { SkippedDirective } from './flussonic.js';

export interface FlussonicImport {
  yaml: string;
  skipped: SkippedDirective[];
  streams: number;
  /** problems `flux validate` finds in the output (empty unless a translation is wrong) */
  issues: ConfigIssue[];
}

/** Translate `text` (read from `file`); the output is validated as if written to `outFile`. Throws FlussonicSyntaxError. */
export function importFlussonic(text: string, file: string, outFile = 'flux.yaml'): FlussonicImport {
  const { config, skipped, origins } = translateFlussonic(parseFlussonic(text, file), file);
  const doc = new Document(config);
  const base = file.split('/').pop();
  doc.commentBefore = [
    ` flux.yaml imported from ${file} by \`flux import flussonic\``,
    skipped.length ? ` ${skipped.length} directive${skipped.length === 1 ? ' was' : 's were'} not translated:` : ' every directive was translated',
    ...skipped.map((s) => `   ${base}:${s.line}: ${s.directive.length > 60 ? s.directive.slice(0, 57) + '...' : s.directive} (${s.reason})`),
  ].join('\n');
  for (const section of ['streams', 'templates', 'dvr', 'vod']) {
    const map = doc.get(section, true);
    if (!isMap(map)) continue;
    for (const pair of map.items as Pair[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const line = origins.get(`${section}.${key}`);
      if (line && isScalar(pair.key)) pair.key.commentBefore = ` ${base}:${line}`;
    }
  }
  const yaml = doc.toString({ lineWidth: 0 });
  const issues = validateText(yaml, outFile).issues;
  return { yaml, skipped, streams: Object.keys((config.streams as object) ?? {}).length, issues };
}
