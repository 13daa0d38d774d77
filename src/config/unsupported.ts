/**
 * Keys the schema knows but Flux does not act on yet. No key is silently ignored: `flux validate`
 * (and the node, which loads through the same checks) rejects these with "not supported yet"
 * rather than let a user believe, say, that a stream is protected. A key leaves this list in the
 * change that makes it work, with a test showing its effect.
 */
const INPUT_KEYS: [string, string][] = [
  ['connect_timeout', 'pulled sources give up after source_timeout'],
  ['user_agent', 'inputs send Flux\'s own User-Agent'],
  ['headers', 'inputs send no extra request headers'],
  ['multicast_source', 'udp:// inputs join any-source multicast'],
  ['program', 'MPEG-TS inputs take the first program'],
];

/** [path pattern, why]: `*` matches any record key, `#` any array index. */
export const UNSUPPORTED: [string[], string][] = [
  ...INPUT_KEYS.flatMap(([k, why]) => [
    [['streams', '*', 'inputs', '#', k], why] as [string[], string],
    [['templates', '*', 'inputs', '#', k], why] as [string[], string],
  ]),
];

type Obj = Record<string, unknown>;

/** Every present key matching an UNSUPPORTED pattern: its path and the message for it. */
export function unsupportedKeys(cfg: unknown, table: [string[], string][] = UNSUPPORTED): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const visit = (node: unknown, pattern: string[], at: (string | number)[], why: string) => {
    const [seg, ...rest] = pattern;
    if (seg === undefined) return;
    if (seg === '#') {
      if (Array.isArray(node)) node.forEach((v, i) => visit(v, rest, [...at, i], why));
      return;
    }
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    const o = node as Obj;
    const keys = seg === '*' ? Object.keys(o) : Object.hasOwn(o, seg) ? [seg] : [];
    for (const k of keys) {
      if (!rest.length) out.push({ path: [...at, k], message: `${k} is not supported yet (${why}): remove it` });
      else visit(o[k], rest, [...at, k], why);
    }
  };
  for (const [pattern, why] of table) visit(cfg, pattern, [], why);
  return out;
}
