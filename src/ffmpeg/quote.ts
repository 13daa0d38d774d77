/**
 * Quoting helpers. ffmpeg is always spawned with an argument array: `shellQuote` exists only to
 * DISPLAY a command line (`flux stream args`, logs) that a person can paste into a POSIX shell.
 * The filtergraph escapes are real: they make a file path safe inside `-filter_complex`.
 */

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument quoted for a POSIX shell (display only). */
export function shellQuoteArg(arg: string): string {
  if (arg === '') return "''";
  if (SHELL_SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** A whole command line quoted for a POSIX shell (display only; never executed through a shell). */
export function shellQuote(command: string, args: readonly string[]): string {
  return [command, ...args].map(shellQuoteArg).join(' ');
}

/**
 * Escape a value for use as a filter option inside a filtergraph (`movie=filename=<here>`).
 * Two levels, as ffmpeg parses twice: the filter's option string (`\ ' :` are special) and then
 * the filtergraph description (`\ ' [ ] , ;` are special). See ffmpeg-filters "Notes on filtergraph escaping".
 */
export function escapeFilterValue(value: string): string {
  const level1 = value.replace(/[\\':]/g, (c) => `\\${c}`);
  return level1.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

/**
 * Escape a value placed inside a tee muxer slave option list `[key=value:…]`: the value is quoted
 * with `'` and `\'`, as the tee muxer documents (the option string is parsed with av_get_token).
 */
export function teeQuote(value: string): string {
  return `\\'${value}\\'`;
}
