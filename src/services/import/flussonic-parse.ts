/**
 * Parser of Flussonic's config format (flussonic.conf): directives `name arg arg key=value;` and
 * blocks `name arg { … }`, `#` comments, double-quoted strings. Pure: text in, tree out; no I/O.
 * Syntax errors carry file:line:col of the offending token.
 */

export interface FlussonicDirective {
  name: string;
  /** words after the name, quotes removed (`key=value` words are kept whole) */
  args: string[];
  /** the directive's `{ … }` body, when it has one */
  block?: FlussonicDirective[];
  line: number;
  col: number;
}

export class FlussonicSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
    this.name = 'FlussonicSyntaxError';
  }
}

type Tok = { kind: 'word' | ';' | '{' | '}'; text: string; line: number; col: number };

function tokenize(text: string, file: string): Tok[] {
  const toks: Tok[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const col = i - lineStart + 1;
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === ';' || c === '{' || c === '}') {
      toks.push({ kind: c, text: c, line, col });
      i++;
      continue;
    }
    // a word: runs until whitespace or ; { } #, with "quoted" parts (which may hold any of those)
    let word = '';
    while (i < n) {
      const d = text[i]!;
      if (d === '"' || d === "'") {
        const startLine = line;
        const startCol = i - lineStart + 1;
        i++;
        let closed = false;
        while (i < n) {
          const e = text[i]!;
          if (e === '\\' && i + 1 < n) {
            word += text[i + 1];
            i += 2;
            continue;
          }
          if (e === d) {
            closed = true;
            i++;
            break;
          }
          if (e === '\n') {
            line++;
            lineStart = i + 1;
          }
          word += e;
          i++;
        }
        if (!closed) throw new FlussonicSyntaxError(file, startLine, startCol, `unterminated string (missing closing ${d})`);
        continue;
      }
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === ';' || d === '{' || d === '}' || d === '#') break;
      word += d;
      i++;
    }
    toks.push({ kind: 'word', text: word, line, col });
  }
  return toks;
}

/** Parse flussonic.conf text; `file` is used in error positions only. */
export function parseFlussonic(text: string, file: string): FlussonicDirective[] {
  const toks = tokenize(text, file);
  let p = 0;
  const parseList = (closer: Tok | undefined): FlussonicDirective[] => {
    const out: FlussonicDirective[] = [];
    for (;;) {
      const t = toks[p];
      if (!t) {
        if (closer) throw new FlussonicSyntaxError(file, closer.line, closer.col, `"{" is never closed (missing "}")`);
        return out;
      }
      if (t.kind === '}') {
        if (!closer) throw new FlussonicSyntaxError(file, t.line, t.col, 'unexpected "}" with no open block');
        p++;
        return out;
      }
      if (t.kind === ';') {
        p++; // an empty statement, as nginx-style parsers allow
        continue;
      }
      if (t.kind === '{') throw new FlussonicSyntaxError(file, t.line, t.col, 'unexpected "{": a block needs a directive name before it');
      const d: FlussonicDirective = { name: t.text, args: [], line: t.line, col: t.col };
      p++;
      for (;;) {
        const a = toks[p];
        if (!a) throw new FlussonicSyntaxError(file, t.line, t.col, `directive "${t.text}" is not terminated by ";"`);
        if (a.kind === 'word') {
          // a new line starting with a word right after a complete-looking directive means a missing ";"
          if (a.line > t.line && d.args.length && /^[a-z_]+$/.test(a.text) && KNOWN_STARTS.has(a.text) && !a.text.includes('=')) {
            throw new FlussonicSyntaxError(file, t.line, t.col, `directive "${t.text}" is not terminated by ";" (next line starts "${a.text}")`);
          }
          d.args.push(a.text);
          p++;
          continue;
        }
        if (a.kind === ';') {
          p++;
          break;
        }
        if (a.kind === '{') {
          p++;
          d.block = parseList(a);
          break;
        }
        throw new FlussonicSyntaxError(file, a.line, a.col, `directive "${t.text}" is not terminated by ";" before "}"`);
      }
      out.push(d);
    }
  };
  return parseList(undefined);
}

/** Directive names that never appear as arguments: seeing one on a new line means a lost ";". */
const KNOWN_STARTS = new Set(['stream', 'input', 'dvr', 'push', 'transcoder', 'auth', 'on_play', 'template', 'prefix', 'source', 'http', 'rtmp', 'title']);
