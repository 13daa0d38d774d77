/**
 * Read a secret for a command without it ever appearing in argv (visible in `ps`, shell history):
 * from a TTY with echo off (asked twice when `confirm`), or else the whole of stdin with one
 * trailing newline removed (`printf %s "$PW" | flux auth hash`, `flux auth hash < file`).
 */
import { UsageError } from '../core/errors.js';

export async function readSecret(prompt: string, opts: { confirm?: boolean } = {}): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    const first = await promptHidden(prompt);
    if (opts.confirm) {
      const again = await promptHidden('Again: ');
      if (again !== first) throw new UsageError('the two entries differ');
    }
    if (!first) throw new UsageError('empty password');
    return first;
  }
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!text) throw new UsageError('no password on stdin: pipe it in (printf %s "$PW" | flux auth hash) or run in a terminal to be asked');
  if (text.includes('\n')) throw new UsageError('the password on stdin has more than one line');
  return text;
}

function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let buf = '';
    // echo off before the prompt shows: whatever is typed once it shows must not be echoed
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UsageError('interrupted'));
        if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
  });
}
