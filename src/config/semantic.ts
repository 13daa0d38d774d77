/**
 * Checks the schema cannot express: names, references, listeners, schemes.
 * Returns issues with YAML offsets; load.ts turns them into file:line:col.
 */
import type { Document } from 'yaml';
import type { ConfigInput } from './schema.js';
import { INPUT_SCHEMES, PUSH_SCHEMES } from './schema.js';
import { streamNameProblem } from '../core/paths.js';
import { schemeOf } from './resolve.js';
import { nodeAt, findKeyNode } from './load.js';

export interface SemanticIssue {
  offset: number | undefined;
  message: string;
  path: (string | number)[];
}

export function semanticIssues(cfg: ConfigInput, doc: Document): SemanticIssue[] {
  const out: SemanticIssue[] = [];
  const add = (p: (string | number)[], message: string, key = false) => {
    const node = key ? findKeyNode(doc, p.slice(0, -1), String(p[p.length - 1])) : nodeAt(doc, p);
    out.push({ offset: node?.range?.[0], message, path: p });
  };
  const storages = new Set(Object.keys(cfg.dvr ?? {}));
  for (const [name, s] of Object.entries(cfg.streams ?? {})) {
    const problem = streamNameProblem(name);
    if (problem) add(['streams', name], `invalid stream name ${JSON.stringify(name)}: ${problem}`, true);
    s.inputs.forEach((inp, i) => {
      const scheme = schemeOf(inp.url);
      if (!(INPUT_SCHEMES as readonly string[]).includes(scheme)) {
        add(['streams', name, 'inputs', i, 'url'], `unsupported input URL scheme "${scheme || inp.url}": expected one of ${INPUT_SCHEMES.join(', ')}`);
      }
      if (inp.rtsp_transport && !scheme.startsWith('rtsp')) add(['streams', name, 'inputs', i, 'rtsp_transport'], 'rtsp_transport applies only to rtsp:// inputs');
      if ((inp.srt_latency || inp.srt_passphrase || inp.srt_streamid) && scheme !== 'srt') add(['streams', name, 'inputs', i], 'srt_* options apply only to srt:// inputs');
    });
    if (s.dvr?.storage && !storages.has(s.dvr.storage)) {
      add(['streams', name, 'dvr', 'storage'], `unknown dvr storage "${s.dvr.storage}"${storages.size ? ` (defined: ${[...storages].join(', ')})` : ' (no storages defined under top-level dvr:)'}`);
    }
    if (s.dvr && s.dvr.storage && s.dvr.path) add(['streams', name, 'dvr'], 'dvr: give either storage or path, not both');
    (s.push ?? []).forEach((p, i) => {
      const url = typeof p === 'string' ? p : p.url;
      const scheme = schemeOf(url);
      if (!(PUSH_SCHEMES as readonly string[]).includes(scheme)) add(['streams', name, 'push', i], `unsupported push URL scheme "${scheme || url}": expected one of ${PUSH_SCHEMES.join(', ')}`);
    });
  }
  for (const [tname, t] of Object.entries(cfg.templates ?? {})) {
    const prefixes = Array.isArray(t.prefix) ? t.prefix : [t.prefix];
    prefixes.forEach((p) => {
      if (typeof p === 'string' && p.length === 0) add(['templates', tname, 'prefix'], 'template prefix is empty: it would match every stream');
    });
  }
  const srv = cfg.server ?? {};
  const ports: [string, number][] = [];
  for (const key of ['http', 'rtmp', 'srt'] as const) {
    const v = srv[key];
    if (typeof v === 'number') ports.push([key, v]);
  }
  if (srv.http === undefined) ports.push(['http', 8080]);
  if (srv.rtmp === undefined) ports.push(['rtmp', 1935]);
  const seen = new Map<number, string>();
  for (const [key, port] of ports) {
    const prev = seen.get(port);
    if (prev && !(key === 'srt' || prev === 'srt')) add(['server', key], `server.${key} port ${port} is already used by server.${prev}`);
    else seen.set(port, key);
  }
  return out;
}
