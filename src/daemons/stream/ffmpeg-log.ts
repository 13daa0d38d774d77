/**
 * ffmpeg's stderr → the one line worth showing as `lastError`. Pure, unit-tested.
 */

/** progress/status noise that is never the reason */
const NOISE = /^(frame=|size=|video:|\s*Last message repeated|Press \[q\]|Stream mapping:|\s+Stream #|Input #|Output #|\s+Metadata:|\s+Duration:|\s+\w+\s*:|\s*$)/;
/** generic trailers that follow the real reason */
const GENERIC = /^(Conversion failed!?|Exiting normally.*|Error opening input files?:?.*(Input\/output error)?|Error opening output files?.*|Error while opening encoder.*maybe incorrect parameters.*|Error initializing output stream.*|Error writing trailer.*|Terminating thread with return code.*|Nothing was written into output file.*|Received signal \d+.*|.*exiting\.?)$/i;
const ERRORISH = /(error|failed|refused|not found|no such|invalid|timed? ?out|unable|cannot|can't|could not|denied|unauthori[sz]ed|forbidden|\b[45]\d\d\b|end of file|broken pipe|unreachable|reset by peer|not supported|unknown|does not contain|no route|EOF)/i;

/** `[tcp @ 0x55d0c0a1b2c0] Connection … failed` → `tcp: Connection … failed` */
export function cleanLine(line: string): string {
  return line
    .replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/^\[([^\]@]+?)\s*@\s*0x[0-9a-f]+\]\s*/i, '$1: ')
    .replace(/\r/g, '')
    .trim();
}

/** Pick the most telling line among ffmpeg's last stderr lines; null when nothing useful. */
export function summarizeFfmpegError(lines: readonly string[]): string | null {
  const cleaned = lines
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, ''))
    .filter((l) => !NOISE.test(l))
    .map(cleanLine)
    .filter((l) => l.length > 0);
  let fallback: string | null = null;
  for (let i = cleaned.length - 1; i >= 0; i--) {
    const l = cleaned[i]!;
    if (GENERIC.test(l)) {
      fallback ??= l;
      continue;
    }
    if (ERRORISH.test(l)) return truncate(l);
  }
  const last = cleaned.length ? cleaned[cleaned.length - 1]! : null;
  return truncate(fallback ?? last);
}

function truncate(s: string | null): string | null {
  if (s === null) return null;
  return s.length > 300 ? s.slice(0, 297) + '...' : s;
}

/** "ffmpeg exited with code 1: tcp: Connection refused" */
export function describeExit(code: number | null, signal: string | null, detail: string | null): string {
  const how = signal ? `ffmpeg killed by ${signal}` : `ffmpeg exited with code ${code}`;
  return detail ? `${how}: ${detail}` : how;
}

/** Keeps the last `max` lines of a byte stream (stderr), splitting on \n and \r. */
export class LineTail {
  private partial = '';
  readonly lines: string[] = [];
  constructor(private readonly max = 30) {}

  /** Returns the lines this chunk completed. */
  push(chunk: Buffer | string): string[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const parts = text.split(/\r\n|\n|\r/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096);
    const added: string[] = [];
    for (const p of parts) {
      if (p.length === 0) continue;
      const line = p.length > 1000 ? p.slice(0, 1000) : p;
      added.push(line);
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
    return added;
  }

  /** lines including an unterminated last one */
  all(): string[] {
    return this.partial ? [...this.lines, this.partial] : [...this.lines];
  }
}
