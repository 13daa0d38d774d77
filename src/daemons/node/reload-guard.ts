/**
 * Guards the running node against a config file caught mid-write or emptied by mistake (issue 18):
 * an editor that truncates before writing, a failed `cp`, a config-management run that renders an
 * empty template. Judged on what the reload read (the parsed config), never on a second read:
 *
 *  - a file with nothing in it (empty, blanks or comments only) while streams run: refused; only
 *    `flux node reload --force` applies it;
 *  - a file that still has content but no stream left while streams run: held as suspect, and applied
 *    once the same content has been read again after STABLE_MS (re-read and re-validated by a timer);
 *  - anything else: applied.
 *
 * API users are never removed by a reload (see keptApiUsers): a node started with auth.users keeps
 * Basic auth on until it is restarted without them.
 */
import { InputError } from '../../core/errors.js';
import type { ConfigInput } from '../../config/schema.js';

/** How long a config without any stream must stay the same before it is applied. */
export const STABLE_MS = 5000;

/** A reload that was not applied because the file looks emptied or half-written (API: 409). */
export class SuspectConfigError extends InputError {
  constructor(message: string) {
    super(message, { code: 'E_SUSPECT_CONFIG' });
  }
}

export type ReloadVerdict =
  | { kind: 'apply' }
  | { kind: 'empty'; message: string }
  | { kind: 'hold'; message: string; fingerprint: string };

export interface Suspect {
  fingerprint: string;
  since: number;
}

/** True when the file held no key at all (empty, whitespace or comments only). */
export function isEmptyConfig(input: ConfigInput | null | undefined): boolean {
  return input === null || input === undefined || (typeof input === 'object' && Object.keys(input).length === 0);
}

/**
 * What to do with a freshly read config. `suspect` is the config held last time (if any); the
 * caller stores the fingerprint of a `hold` and arms a re-check after STABLE_MS.
 */
export function judgeReload(opts: {
  input: ConfigInput;
  runningStreams: number;
  nextStreams: number;
  force: boolean;
  suspect: Suspect | undefined;
  now: number;
}): ReloadVerdict {
  if (opts.force || opts.runningStreams === 0 || opts.nextStreams > 0) return { kind: 'apply' };
  if (isEmptyConfig(opts.input)) {
    return {
      kind: 'empty',
      message: `the config file is empty: not applied, the ${opts.runningStreams} running stream(s) are kept ("flux node reload --force" applies an empty config)`,
    };
  }
  const fingerprint = JSON.stringify(opts.input);
  const s = opts.suspect;
  if (s !== undefined && s.fingerprint === fingerprint && opts.now - s.since >= STABLE_MS) return { kind: 'apply' };
  return {
    kind: 'hold',
    fingerprint,
    message: `the config file has no stream left: held as suspect (a file being written?); applied if it stays the same for ${STABLE_MS / 1000} s ("flux node reload --force" applies it now)`,
  };
}

/**
 * The API users to run with after a reload: the new list, except that a reload never turns auth
 * off. Returns `kept: true` when the new config has none while the node has some.
 */
export function keptApiUsers<U>(running: U[], next: U[]): { users: U[]; kept: boolean } {
  if (next.length === 0 && running.length > 0) return { users: running, kept: true };
  return { users: next, kept: false };
}
