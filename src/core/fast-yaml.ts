/**
 * A fast parser for the plain subset of YAML that config files are written in: block mappings and
 * sequences, single-line plain and quoted scalars, single-line flow collections, comments.
 *
 * Why: the `yaml` library (which we keep for positions, comments and edits) lexes with deeply
 * delegated generators that run slowly before the JIT warms up: a cold parse of a 200-stream
 * config costs more than the rest of `flux validate`. A valid config needs no positions, so
 * validation first tries this parser and only falls back to the library (which gives positions)
 * when there is anything to report or anything this parser does not handle.
 *
 * Contract: parseFastYaml(text) returns `{ value }` only when the result is exactly what
 * `yaml`'s parseDocument(text).toJS() gives (YAML 1.2 core schema) and the text has no error and
 * no duplicate key; otherwise `undefined` ("not sure": use the library). It never throws.
 * Anything unusual makes it give up: anchors, aliases, tags, block scalars, multi-line scalars
 * or flow collections, directives, several documents, tabs, CR, complex or duplicate keys.
 */

const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const NAN_INF_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

/** A plain scalar resolved by the YAML 1.2 core schema, as the `yaml` library does. */
function resolvePlain(s: string): unknown {
  if (NULL_RE.test(s)) return null;
  if (BOOL_RE.test(s)) return s[0] === 't' || s[0] === 'T';
  if (OCT_RE.test(s)) return parseInt(s.substring(2), 8);
  if (INT_RE.test(s)) return parseInt(s, 10);
  if (HEX_RE.test(s)) return parseInt(s.substring(2), 16);
  if (NAN_INF_RE.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (EXP_RE.test(s) || FLOAT_RE.test(s)) return parseFloat(s);
  return s;
}

/** First characters that make a plain scalar impossible (or something this parser does not handle). */
const BAD_START = new Set(['&', '*', '!', '|', '>', '%', '@', '`', '#', ',', '[', ']', '{', '}', "'", '"']);

function checkPlain(s: string, inFlow: boolean): string {
  if (s === '') return s;
  const c = s[0]!;
  if (BAD_START.has(c)) giveUp();
  if ((c === '-' || c === '?' || c === ':') && (s.length === 1 || s[1] === ' ')) giveUp();
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) giveUp();
  if (inFlow && /[,[\]{}]/.test(s)) giveUp();
  return s;
}

const ESCAPES: Record<string, string> = { '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029' };

/** A quoted scalar starting at s[i]; returns its value and the index after the closing quote. */
function readQuoted(s: string, i: number): [string, number] {
  const q = s[i];
  let out = '';
  let j = i + 1;
  if (q === "'") {
    for (;;) {
      const k = s.indexOf("'", j);
      if (k === -1) giveUp();
      out += s.slice(j, k);
      if (s[k + 1] === "'") {
        out += "'";
        j = k + 2;
      } else return [out, k + 1];
    }
  }
  for (;;) {
    if (j >= s.length) giveUp();
    const c = s[j]!;
    if (c === '"') return [out, j + 1];
    if (c === '\\') {
      const e = s[j + 1];
      if (e === undefined) giveUp();
      const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hexLen) {
        const hex = s.slice(j + 2, j + 2 + hexLen);
        if (hex.length !== hexLen || !/^[0-9a-fA-F]+$/.test(hex)) giveUp();
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) giveUp();
        out += String.fromCodePoint(cp);
        j += 2 + hexLen;
      } else {
        const r = ESCAPES[e!];
        if (r === undefined) giveUp();
        out += r;
        j += 2;
      }
    } else {
      out += c;
      j++;
    }
  }
}

interface Line {
  indent: number;
  text: string; // content without indentation and comment, right-trimmed
}

/** Strip a trailing comment (a `#` after whitespace, outside quotes) and trailing spaces. */
function stripComment(s: string): string {
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) {
        if (quote === "'" && s[i + 1] === "'") i++;
        else quote = '';
      }
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(s[i - 1]!))) quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ')) return s.slice(0, i).trimEnd();
  }
  if (quote) giveUp(); // a quoted scalar that goes on to the next line
  return s.trimEnd();
}

class FlowReader {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.s[this.i] === ' ') this.i++;
  }
  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') return this.seq();
    if (c === '{') return this.map();
    if (c === '"' || c === "'") {
      const [v, j] = readQuoted(this.s, this.i);
      this.i = j;
      return v;
    }
    return resolvePlain(this.plain());
  }
  plain(): string {
    const start = this.i;
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === ',' || c === '[' || c === ']' || c === '{' || c === '}') break;
      if (c === ':' && (this.i + 1 >= s.length || ' ,[]{}'.includes(s[this.i + 1]!))) break;
      this.i++;
    }
    return checkPlain(s.slice(start, this.i).trim(), true);
  }
  key(): string {
    this.ws();
    const c = this.s[this.i];
    if (c === '"' || c === "'") {
      const [v, j] = readQuoted(this.s, this.i);
      this.i = j;
      return v;
    }
    if (c === '[' || c === '{') giveUp();
    return keyString(resolvePlain(this.plain()));
  }
  seq(): unknown[] {
    this.i++; // [
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === ']') giveUp(); // trailing comma: leave it to the library
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      giveUp(); // `a: b` pairs inside a sequence, junk
    }
  }
  map(): Record<string, unknown> {
    this.i++; // {
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      const k = this.key();
      this.ws();
      if (this.s[this.i] !== ':') giveUp();
      this.i++;
      if (this.i < this.s.length && this.s[this.i] !== ' ' && !',]}'.includes(this.s[this.i]!)) giveUp();
      this.ws();
      const c = this.s[this.i];
      const v = c === ',' || c === '}' ? null : this.value();
      setKey(out, k, v);
      this.ws();
      const d = this.s[this.i];
      if (d === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === '}') giveUp();
        continue;
      }
      if (d === '}') {
        this.i++;
        return out;
      }
      giveUp();
    }
  }
}

function keyString(v: unknown): string {
  if (v === null || typeof v === 'object') giveUp();
  return String(v);
}

function setKey(obj: Record<string, unknown>, k: string, v: unknown): void {
  if (k in obj || k === '<<') giveUp(); // duplicates, prototype names, merge keys: the library decides
  obj[k] = v;
}

/** A scalar or flow collection written after `key: ` or `- ` on one line. */
function inlineValue(s: string): unknown {
  const c = s[0];
  if (c === '[' || c === '{') {
    const r = new FlowReader(s);
    const v = r.value();
    r.ws();
    if (r.i !== s.length) giveUp();
    return v;
  }
  if (c === '"' || c === "'") {
    const [v, j] = readQuoted(s, 0);
    if (j !== s.length) giveUp();
    return v;
  }
  return resolvePlain(checkPlain(s, false));
}

/** Where the `:` of a block mapping entry is (`key: value` or `key:` at the end), or -1. */
function entryColon(s: string): { key: string; rest: string } | undefined {
  if (s[0] === '"' || s[0] === "'") {
    const [k, j] = readQuoted(s, 0);
    let i = j;
    while (s[i] === ' ') i++;
    if (s[i] !== ':' || (i + 1 < s.length && s[i + 1] !== ' ')) return undefined;
    return { key: k, rest: s.slice(i + 1).trim() };
  }
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ':' && (i + 1 === s.length || s[i + 1] === ' ')) {
      const raw = s.slice(0, i).trimEnd();
      if (raw === '' || raw[0] === '?' || raw[0] === '[' || raw[0] === '{') giveUp();
      return { key: keyString(resolvePlain(checkPlain(raw, false))), rest: s.slice(i + 1).trim() };
    }
  }
  return undefined;
}

class BlockReader {
  i = 0;
  constructor(readonly lines: Line[]) {}

  block(indent: number): unknown {
    const l = this.lines[this.i]!;
    if (l.indent !== indent) giveUp();
    return isSeqItem(l.text) ? this.seq(indent) : this.map(indent);
  }

  /** The value of an entry whose `:` or `-` ended its line: a nested block, or null. */
  nested(parentIndent: number, allowSameIndentSeq: boolean): unknown {
    const next = this.lines[this.i];
    if (!next) return null;
    if (next.indent > parentIndent) return this.block(next.indent);
    if (allowSameIndentSeq && next.indent === parentIndent && isSeqItem(next.text)) return this.seq(parentIndent);
    return null;
  }

  map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent < indent) break;
      if (l.indent > indent || isSeqItem(l.text)) giveUp();
      const e = entryColon(l.text);
      if (!e) giveUp();
      this.i++;
      setKey(out, e!.key, e!.rest === '' ? this.nested(indent, true) : inlineValue(e!.rest));
    }
    return out;
  }

  seq(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent < indent) break;
      if (l.indent > indent) giveUp();
      if (!isSeqItem(l.text)) break; // the parent mapping goes on (a sequence at its key's indentation)
      let k = 1;
      while (l.text[k] === ' ') k++;
      const rest = l.text.slice(k);
      if (rest === '') {
        this.i++;
        out.push(this.nested(indent, false));
      } else if (isSeqItem(rest)) {
        giveUp(); // `- - x`
      } else if (rest[0] !== '[' && rest[0] !== '{' && entryColon(rest)) {
        // `- key: value`: a mapping whose keys line up with `key`
        this.lines[this.i] = { indent: indent + k, text: rest };
        out.push(this.map(indent + k));
      } else {
        this.i++;
        out.push(inlineValue(rest));
      }
    }
    return out;
  }
}

const isSeqItem = (t: string) => t[0] === '-' && (t.length === 1 || t[1] === ' ');

export function parseFastYaml(text: string): { value: unknown } | undefined {
  try {
    if (text.includes('\r') || text.includes('\t') || text.charCodeAt(0) === 0xfeff) return undefined;
    const lines: Line[] = [];
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const raw = text.slice(start, end);
      start = end + 1;
      let indent = 0;
      while (raw.charCodeAt(indent) === 32) indent++;
      if (indent === raw.length || raw[indent] === '#') continue;
      if (indent === 0 && (raw.startsWith('---') || raw.startsWith('...') || raw[0] === '%')) return undefined;
      const content = stripComment(raw.slice(indent));
      if (content === '') continue;
      if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(content)) return undefined;
      lines.push({ indent, text: content });
      if (end === text.length) break;
    }
    if (!lines.length) return { value: null };
    const r = new BlockReader(lines);
    const first = lines[0]!;
    let value: unknown;
    if (lines.length === 1 && !isSeqItem(first.text) && !entryColon(first.text)) value = inlineValue(first.text);
    else value = r.block(first.indent);
    if (r.i !== lines.length) return undefined;
    return { value };
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    return undefined;
  }
}
