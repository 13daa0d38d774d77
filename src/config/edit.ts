/**
 * Programmatic edits of flux.yaml that keep the operator's file intact: comments, blank lines, key
 * order, quoting and indentation everywhere except the stream being added, replaced or removed.
 *
 * Each edit does two things:
 *  1. it mutates the yaml Document (AST), so a caller that stringifies the document itself still
 *     gets the right content;
 *  2. it records a text patch against the original source (from the nodes' ranges).
 * editConfigFile() applies the recorded patches to the original text (byte-for-byte elsewhere), checks
 * that the patched text means exactly what the mutated document means, and falls back to the yaml
 * library's re-serialization (which keeps comments but may normalize layout) when it does not or
 * when an edit could not be expressed as a patch (e.g. a flow-style `streams: {a: …}` map).
 */
import { writeFileAtomic } from '../core/atomic-write.js';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  Document,
  isMap,
  isPair,
  isScalar,
  parseDocument,
  stringify,
  YAMLMap,
  type Pair,
  type Scalar,
} from 'yaml';
import { ConfigError, InputError } from '../core/errors.js';
import { streamNameProblem } from '../core/paths.js';
import type { StreamInput } from './schema.js';
import { readConfigText, validateText, type LoadedConfig } from './load.js';
import { resolveConfig } from './resolve.js';

// ---------------------------------------------------------------------------------------------
// Text patches recorded per document

interface Patch {
  start: number;
  end: number;
  text: string;
  seq: number;
}

interface EditState {
  patches: Patch[];
  /** an edit could not be expressed as a text patch: re-serialize the document */
  broken: boolean;
}

const states = new WeakMap<Document, EditState>();
let patchSeq = 0;

function stateOf(doc: Document): EditState {
  let s = states.get(doc);
  if (!s) {
    s = { patches: [], broken: false };
    states.set(doc, s);
  }
  return s;
}

function record(doc: Document, start: number, end: number, text: string): void {
  stateOf(doc).patches.push({ start, end, text, seq: patchSeq++ });
}

function breakPatches(doc: Document): void {
  stateOf(doc).broken = true;
}

/** The source text of `doc`, kept by editConfigFile so patches can be computed against it. */
const sources = new WeakMap<Document, string>();

/** Apply recorded patches to `text`; undefined when they overlap or cannot apply. */
function applyPatches(text: string, patches: Patch[]): string | undefined {
  const sorted = [...patches].sort((a, b) => a.start - b.start || a.end - b.end || a.seq - b.seq);
  let out = '';
  let pos = 0;
  for (const p of sorted) {
    if (p.start < pos || p.end < p.start || p.end > text.length) return undefined;
    out += text.slice(pos, p.start) + p.text;
    pos = p.end;
  }
  return out + text.slice(pos);
}

// ---------------------------------------------------------------------------------------------
// Helpers on source text

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just after the newline ending the line that contains `offset` (or text end). */
function lineEndAfter(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

const COMMENT_LINE = /^([ \t]*)#/;
const BLANK_LINE = /^[ \t]*\r?\n?$/;

/**
 * End of the block of one map entry: the end of its value's content line, plus following comment
 * lines indented deeper than the key (they belong to the entry). Trailing blank lines are not taken.
 */
function entryEnd(text: string, pair: Pair, keyCol: number): number {
  const value = pair.value as { range?: [number, number, number] } | null;
  const key = pair.key as { range?: [number, number, number] };
  const contentEnd = value?.range ? value.range[1] : key.range![1];
  // contentEnd of a block collection is already at a line start; of a scalar/flow it is mid-line
  let end = contentEnd > 0 && text[contentEnd - 1] === '\n' ? contentEnd : lineEndAfter(text, contentEnd);
  let cursor = end;
  while (cursor < text.length) {
    const next = lineEndAfter(text, cursor);
    const line = text.slice(cursor, next);
    if (BLANK_LINE.test(line)) {
      cursor = next;
      continue;
    }
    const m = COMMENT_LINE.exec(line);
    if (m && m[1]!.replace(/\t/g, '  ').length > keyCol) {
      cursor = next;
      end = next;
      continue;
    }
    break;
  }
  return end;
}

/** Start of an entry: its key line, plus adjacent comment lines right above it at the same indent. */
function entryStart(text: string, pair: Pair, keyCol: number, isFirst: boolean): number {
  const key = pair.key as { range?: [number, number, number] };
  let start = lineStart(text, key.range![0]);
  if (isFirst) return start;
  while (start > 0) {
    const prev = lineStart(text, start - 1);
    const line = text.slice(prev, start);
    const m = COMMENT_LINE.exec(line);
    if (!m || m[1]!.length !== keyCol) break;
    start = prev;
  }
  return start;
}

/** YAML text of `{ name: stream }`, each line indented by `indent` spaces, ending with a newline. */
function renderEntry(name: string, stream: StreamInput, indent: number, step: number): string {
  const body = stringify({ [name]: stream }, { indent: step, lineWidth: 0, minContentWidth: 0 });
  const pad = ' '.repeat(indent);
  return body
    .split('\n')
    .map((l) => (l.length ? pad + l : l))
    .join('\n');
}

function hasRange(n: unknown): n is { range: [number, number, number] } {
  return !!n && Array.isArray((n as { range?: unknown }).range);
}

function keyName(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String((k as Scalar).value);
  if (typeof k === 'string' || typeof k === 'number') return String(k);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Locating the streams map

function topMap(doc: Document, create: boolean): YAMLMap | undefined {
  if (doc.contents === null || doc.contents === undefined || (isScalar(doc.contents) && doc.contents.value === null)) {
    if (!create) return undefined;
    doc.contents = new YAMLMap() as never;
  }
  if (!isMap(doc.contents)) throw new InputError('the config\'s top level is not a mapping (server:, streams:, …)', { code: 'E_CONFIG_SHAPE' });
  return doc.contents as YAMLMap;
}

function streamsPair(top: YAMLMap): Pair | undefined {
  return top.items.find((p) => isPair(p) && keyName(p) === 'streams') as Pair | undefined;
}

function findStream(map: YAMLMap, name: string): { pair: Pair; index: number } | undefined {
  const index = map.items.findIndex((p) => keyName(p as Pair) === name);
  return index === -1 ? undefined : { pair: map.items[index] as Pair, index };
}

function checkName(name: string): void {
  const problem = streamNameProblem(name);
  if (problem) throw new InputError(`invalid stream name ${JSON.stringify(name)}: ${problem}`, { code: 'E_INVALID_NAME' });
}

/** Indentation of entries in a block streams map, and the indentation step used inside them. */
function streamsLayout(text: string, map: YAMLMap, parentKeyCol: number): { keyCol: number; step: number } {
  const first = map.items.find((p) => hasRange((p as Pair).key)) as Pair | undefined;
  if (!first || map.flow) return { keyCol: parentKeyCol + 2, step: 2 };
  const keyCol = columnOf(text, (first.key as { range: [number, number, number] }).range[0]);
  let step = 2;
  if (isMap(first.value) && !first.value.flow && hasRange(first.value)) {
    const inner = columnOf(text, first.value.range[0]) - keyCol;
    if (inner >= 1 && inner <= 8) step = inner;
  }
  return { keyCol, step };
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Add a stream. Creates `streams:` when missing. Throws InputError (code E_EXISTS) when a stream of
 * that name exists, E_INVALID_NAME for an unsafe name. Comments and layout elsewhere are kept.
 */
export function addStreamToDocument(doc: Document, name: string, stream: StreamInput): void {
  checkName(name);
  const src = sources.get(doc);
  const top = topMap(doc, true)!;
  let sp = streamsPair(top);
  if (sp && isMap(sp.value) && findStream(sp.value as YAMLMap, name)) {
    throw new InputError(`stream "${name}" already exists`, { code: 'E_EXISTS' });
  }
  if (sp && sp.value !== null && !isMap(sp.value) && !(isScalar(sp.value) && sp.value.value === null)) {
    throw new InputError('`streams:` in the config is not a mapping of stream names', { code: 'E_CONFIG_SHAPE' });
  }

  // --- text patch (computed before the AST changes, against original ranges)
  if (src === undefined) breakPatches(doc);
  else if (!sp) {
    // no streams section: append one at the end of the file (block-style top level only)
    if (top.flow || (top.items.length && !hasRange(top))) breakPatches(doc);
    else {
      const pre = src.length && !src.endsWith('\n') ? '\n' : '';
      record(doc, src.length, src.length, `${pre}streams:\n${renderEntry(name, stream, 2, 2)}`);
    }
  } else {
    const keyCol = hasRange(sp.key) ? columnOf(src, sp.key.range[0]) : -1;
    const map = isMap(sp.value) ? (sp.value as YAMLMap) : undefined;
    const originals = map ? (map.items.filter((p) => hasRange((p as Pair).key)) as Pair[]) : [];
    if (keyCol < 0) breakPatches(doc);
    else if (map && map.flow) {
      if (map.items.length === 0 && hasRange(map)) {
        // `streams: {}` → block map
        const colon = src.lastIndexOf(':', map.range[0]);
        record(doc, colon + 1, map.range[1], `\n${renderEntry(name, stream, keyCol + 2, 2).replace(/\n$/, '')}`);
      } else breakPatches(doc);
    } else if (map && originals.length) {
      const { keyCol: col, step } = streamsLayout(src, map, keyCol);
      const last = originals[originals.length - 1]!;
      const at = entryEnd(src, last, col);
      const pre = at > 0 && src[at - 1] !== '\n' ? '\n' : '';
      record(doc, at, at, pre + renderEntry(name, stream, col, step));
    } else if (map && map.items.length) {
      breakPatches(doc); // only entries added in this session: no anchor in the source
    } else if (!map && isScalar(sp.value) && (sp.value as Scalar).source) {
      breakPatches(doc); // `streams: ~` / `streams: null`
    } else {
      // `streams:` with no value (null) or an empty block map: insert right after the key line
      const at = lineEndAfter(src, (sp.key as { range: [number, number, number] }).range[1]);
      const pre = at > 0 && src[at - 1] !== '\n' ? '\n' : '';
      record(doc, at, at, pre + renderEntry(name, stream, keyCol + 2, 2));
    }
  }

  // --- AST
  if (!sp) {
    top.set('streams', new YAMLMap());
    sp = streamsPair(top)!;
  }
  if (!isMap(sp.value)) sp.value = new YAMLMap();
  const map = sp.value as YAMLMap;
  if (map.items.length === 0) map.flow = false;
  map.items.push(doc.createPair(name, stream) as Pair);
}

/** Remove a stream. Throws InputError (code E_NOT_FOUND) when there is none of that name. */
export function removeStreamFromDocument(doc: Document, name: string): void {
  const src = sources.get(doc);
  const top = topMap(doc, false);
  const sp = top && streamsPair(top);
  const map = sp && isMap(sp.value) ? (sp.value as YAMLMap) : undefined;
  const found = map && findStream(map, name);
  if (!sp || !map || !found) throw new InputError(`stream "${name}" not found`, { code: 'E_NOT_FOUND' });

  // --- text patch
  if (src === undefined || map.flow || !hasRange(found.pair.key) || !hasRange(sp.key)) breakPatches(doc);
  else {
    const { keyCol } = streamsLayout(src, map, columnOf(src, sp.key.range[0]));
    const firstOriginal = map.items.find((p) => hasRange((p as Pair).key)) === found.pair;
    const start = entryStart(src, found.pair, keyCol, firstOriginal);
    const end = entryEnd(src, found.pair, keyCol);
    if (map.items.length === 1) {
      // the last stream goes: leave an explicit empty map so `streams:` stays a mapping
      const keyEnd = sp.key.range[1];
      const colon = src.indexOf(':', keyEnd);
      const lineEnd = lineEndAfter(src, keyEnd);
      if (colon === -1 || colon >= lineEnd) breakPatches(doc);
      else {
        const rest = src.slice(colon + 1, lineEnd);
        // keep a comment on the `streams:` line
        const comment = /(\s#.*)$/s.exec(rest.replace(/\r?\n$/, ''))?.[1] ?? '';
        record(doc, colon + 1, lineEnd, ` {}${comment}\n`);
        if (start >= lineEnd) record(doc, start, end, '');
        else breakPatches(doc);
      }
    } else record(doc, start, end, '');
  }

  // --- AST
  map.items.splice(found.index, 1);
  if (map.items.length === 0) map.flow = true;
}

/** Add or replace a stream (API PUT). The replaced entry's own comments go with it. */
export function setStreamInDocument(doc: Document, name: string, stream: StreamInput): void {
  checkName(name);
  const src = sources.get(doc);
  const top = topMap(doc, true)!;
  const sp = streamsPair(top);
  const map = sp && isMap(sp.value) ? (sp.value as YAMLMap) : undefined;
  const found = map && findStream(map, name);
  if (!found || !map || !sp) {
    addStreamToDocument(doc, name, stream);
    return;
  }
  // --- text patch: replace the entry's lines (key included) with the new rendering
  if (src === undefined || map.flow || !hasRange(found.pair.key) || !hasRange(sp.key)) breakPatches(doc);
  else {
    const { keyCol, step } = streamsLayout(src, map, columnOf(src, sp.key.range[0]));
    const start = lineStart(src, found.pair.key.range[0]);
    const end = entryEnd(src, found.pair, keyCol);
    record(doc, start, end, renderEntry(name, stream, keyCol, step));
  }
  // --- AST
  found.pair.value = doc.createNode(stream);
}

/** Edits of one file inside this process are serialized (the API and a reload may race). */
const queues = new Map<string, Promise<unknown>>();

/**
 * Read `file` (or start from an empty document when `create` and it does not exist), apply `edit`
 * to its Document, validate the NEW text (ConfigError with every issue; the file is left untouched),
 * then write it atomically and return the loaded result. Errors thrown by `edit` propagate unchanged.
 */
export async function editConfigFile(
  file: string,
  edit: (doc: Document) => void,
  opts: { create?: boolean } = {},
): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  const prev = queues.get(abs) ?? Promise.resolve();
  const run = prev.catch(() => {}).then(() => editNow(abs, edit, opts));
  queues.set(abs, run);
  try {
    return await run;
  } finally {
    if (queues.get(abs) === run) queues.delete(abs);
  }
}

async function editNow(abs: string, edit: (doc: Document) => void, opts: { create?: boolean }): Promise<LoadedConfig> {
  let text: string;
  let existed = true;
  try {
    text = await readConfigText(abs);
  } catch (e) {
    if (!(opts.create && e instanceof InputError && e.code === 'E_NOENT')) throw e;
    text = '';
    existed = false;
  }
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length) {
    // a file that does not parse is not edited: report its syntax errors with positions
    throw new ConfigError(validateText(text, abs).issues.filter((i) => i.message.startsWith('YAML')));
  }
  sources.set(doc, text);
  edit(doc);
  let meaning: unknown;
  try {
    meaning = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConfigError(validateText(doc.toString({ lineWidth: 0 }), abs).issues, { cause: e });
  }
  // the patched original when its meaning is exactly the edited document's, else the re-serialization
  let newText = patchedText(doc, text);
  let r = newText === undefined ? undefined : validateText(newText, abs);
  if (!r || !r.doc || r.issues.some((i) => i.message.startsWith('YAML')) || !sameMeaning(r.doc, meaning)) {
    newText = doc.toString({ lineWidth: 0 });
    r = validateText(newText, abs);
  }
  if (r.issues.length || !r.input || !r.doc) throw new ConfigError(r.issues);
  if (newText !== text || !existed) await writeFileAtomic(abs, newText!, { mode: existed ? undefined : 0o644 });
  return { file: abs, input: r.input, resolved: resolveConfig(r.input, abs), doc: r.doc };
}

function sameMeaning(doc: Document, meaning: unknown): boolean {
  try {
    return isDeepStrictEqual(doc.toJS({ maxAliasCount: 1000 }), meaning);
  } catch {
    return false;
  }
}

/** The original text with the recorded patches, or the original itself when nothing was recorded. */
function patchedText(doc: Document, original: string): string | undefined {
  const st = states.get(doc);
  if (!st) return original;
  if (st.broken) return undefined;
  return applyPatches(original, st.patches);
}

/** The new text of an edited document: patched original when possible, else re-serialized. */
export function renderEdited(doc: Document, original: string): string {
  const meaning = doc.toJS({ maxAliasCount: 1000 });
  const candidate = patchedText(doc, original);
  if (candidate !== undefined) {
    const check = parseDocument(candidate, { uniqueKeys: false });
    if (!check.errors.length && sameMeaning(check, meaning)) return candidate;
  }
  return doc.toString({ lineWidth: 0 });
}

/** For callers that parse text themselves: remember its source so edits can patch it. */
export function parseForEdit(text: string): Document {
  const doc = parseDocument(text, { uniqueKeys: false });
  sources.set(doc, text);
  return doc;
}

/**
 * Set (or, with `value` undefined, remove) a whole top-level section such as `cluster:`. The
 * section's lines are replaced (or appended at the end of the file); the rest of the file is kept
 * byte for byte.
 */
export function setTopSectionInDocument(doc: Document, key: string, value: unknown): void {
  const src = sources.get(doc);
  const top = topMap(doc, value !== undefined);
  if (!top) return;
  const found = top.items.find((p) => isPair(p) && keyName(p as Pair) === key) as Pair | undefined;
  // --- text patch
  if (src === undefined || top.flow) breakPatches(doc);
  else if (found) {
    if (!hasRange(found.key)) breakPatches(doc);
    else {
      const start = lineStart(src, found.key.range[0]);
      const end = entryEnd(src, found, columnOf(src, found.key.range[0]));
      record(doc, start, end, value === undefined ? '' : renderEntry(key, value as StreamInput, columnOf(src, found.key.range[0]), 2));
    }
  } else if (value !== undefined) {
    const sep = src.length && !src.endsWith('\n') ? '\n' : '';
    record(doc, src.length, src.length, sep + renderEntry(key, value as StreamInput, 0, 2));
  }
  // --- AST
  if (value === undefined) top.delete(key);
  else if (found) found.value = doc.createNode(value);
  else top.items.push(doc.createPair(key, value) as Pair);
}
