/**
 * pino for daemons: JSON lines to a file (or stdout), pretty when stdout is a TTY.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  name: string;
  level?: string;
  /** append JSON lines to this file; default stdout */
  file?: string;
  /** force pretty output (default: when stdout is a TTY and no file) */
  pretty?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? process.env.FLUX_LOG_LEVEL ?? 'info';
  let dest: DestinationStream;
  if (opts.file) {
    dest = pino.destination({ dest: opts.file, mkdir: true, sync: false });
  } else if (opts.pretty ?? process.stdout.isTTY) {
    dest = pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:standard', singleLine: true, ignore: 'pid,hostname' } });
  } else {
    dest = pino.destination({ dest: 1, sync: false });
  }
  return pino({ name: opts.name, level, base: { pid: process.pid, name: opts.name } }, dest);
}

/** A logger that drops everything (tests, library defaults). */
export const silentLogger: Logger = pino({ level: 'silent' });
