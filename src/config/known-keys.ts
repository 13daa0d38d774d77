/** Keys the schema allows at a given data path: for "did you mean" hints on unknown keys. */
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

function unwrap(t: unknown): unknown {
  let cur = t as { _zod?: { def?: { type?: string; innerType?: unknown; in?: unknown } } };
  for (let i = 0; i < 10 && cur?._zod?.def; i++) {
    const d = cur._zod.def;
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default') cur = d.innerType as typeof cur;
    else if (d.type === 'pipe') cur = d.in as typeof cur;
    else break;
  }
  return cur;
}

export function knownKeysAt(_data: unknown, p: (string | number)[]): string[] {
  let t: unknown = ConfigSchema;
  for (const seg of p) {
    t = unwrap(t);
    if (t instanceof z.ZodObject) t = (t.shape as Record<string, unknown>)[String(seg)];
    else if (t instanceof z.ZodRecord) t = t._zod.def.valueType;
    else if (t instanceof z.ZodArray) t = t._zod.def.element;
    else if (t instanceof z.ZodUnion) t = t._zod.def.options.find((o) => unwrap(o) instanceof z.ZodObject);
    else return [];
  }
  t = unwrap(t);
  if (t instanceof z.ZodUnion) t = unwrap(t._zod.def.options.find((o) => unwrap(o) instanceof z.ZodObject));
  return t instanceof z.ZodObject ? Object.keys(t.shape) : [];
}
