/**
 * The on-disk layout of a stream's media (live HLS and DVR share it), as pure helpers. The HLS writer
 * (supervisor) writes it, the DVR recorder indexes and prunes it, playback and export read it: this
 * module is the one definition of it for all of them.
 *
 *   <root>/<rendition>/<YYYY>/<MM>/<DD>/<HH>/<epoch_ms>-<duration_ms>.ts   segments (UTC hour of epoch_ms)
 *   <root>/<rendition>/index/<YYYY>-<MM>-<DD>T<HH>.idx                      one append-only index file per hour
 *
 * Hours are handled as integers (`hour` = floor(epoch_ms / 3_600_000)); names are derived from them.
 */
export const HOUR_MS = 3_600_000;
export const INDEX_DIR = 'index';
export const INDEX_EXT = '.idx';

/**
 * `<epoch_ms>-<duration_ms>.ts` (or `.m4s` for CMAF segments of `hls.container: fmp4` streams, which
 * are never recorded: validate refuses dvr with fmp4): the one pattern of a segment file name.
 */
export const SEGMENT_NAME = /^(\d{1,16})-(\d{1,10})\.(?:ts|m4s)$/;
/** A segment URI relative to the rendition dir: `YYYY/MM/DD/HH/<epoch_ms>-<duration_ms>.ts|.m4s` (shape only). */
const SEGMENT_REL_PATH = /^\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{1,16}-\d{1,10}\.(?:ts|m4s)$/;
/** LL-HLS part file of a segment: `<epoch_ms of its segment>-p<N>.m4s` (may be asked for before it exists). */
export const PART_NAME = /^\d{1,16}-p\d{1,4}\.m4s$/;
/** fMP4 init segment of a rendition: `init-<12 hex of its sha1>.mp4` (content-addressed, immutable). */
export const INIT_SEGMENT_NAME = /^init-[0-9a-f]{12}\.mp4$/;
const INDEX_NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})\.idx$/;

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY/MM/DD/HH` of an hour number (UTC). */
export function hourDirRel(hour: number): string {
  const d = new Date(hour * HOUR_MS);
  return `${d.getUTCFullYear()}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())}/${pad2(d.getUTCHours())}`;
}

/** The path parts `[YYYY, MM, DD, HH]` of an hour (for safeJoin). */
export function hourDirParts(hour: number): [string, string, string, string] {
  const d = new Date(hour * HOUR_MS);
  return [String(d.getUTCFullYear()), pad2(d.getUTCMonth() + 1), pad2(d.getUTCDate()), pad2(d.getUTCHours())];
}

/** `YYYY-MM-DDTHH.idx` */
export function indexFileName(hour: number): string {
  const d = new Date(hour * HOUR_MS);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}${INDEX_EXT}`;
}

/** Hour number of an index file name, or undefined when the name is not one. */
export function parseIndexFileName(name: string): number | undefined {
  const m = INDEX_NAME.exec(name);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return Number.isFinite(ms) ? ms / HOUR_MS : undefined;
}

/** `<epoch_ms>-<duration_ms>.ts` */
export function segmentFileName(startMs: number, durationMs: number): string {
  return `${startMs}-${durationMs}.ts`;
}

/** The segment URI relative to the rendition dir: `YYYY/MM/DD/HH/<epoch_ms>-<duration_ms>.ts`. */
export function segmentRelPath(startMs: number, durationMs: number): string {
  return `${hourDirRel(hourOf(startMs))}/${startMs}-${durationMs}.ts`;
}

export interface ParsedSegmentName {
  startMs: number;
  durationMs: number;
}

/** Parse a segment file name. Undefined for anything else (tmp files, playlists, dot files). */
export function parseSegmentName(name: string): ParsedSegmentName | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const startMs = Number(m[1]);
  const durationMs = Number(m[2]);
  if (!Number.isSafeInteger(startMs) || durationMs <= 0) return undefined;
  return { startMs, durationMs };
}

/**
 * Parse a segment URI relative to the rendition dir (`YYYY/MM/DD/HH/<start>-<dur>.ts`), checking that the
 * directory is the UTC hour of the start. Undefined otherwise.
 */
export function parseSegmentRelPath(rel: string): ParsedSegmentName | undefined {
  const slash = rel.lastIndexOf('/');
  const parsed = parseSegmentName(rel.slice(slash + 1));
  if (!parsed) return undefined;
  if (slash >= 0 && rel.slice(0, slash) !== hourDirRel(hourOf(parsed.startMs))) return undefined;
  return parsed;
}

/** Year/month/day/hour dir name checks used while walking the tree. */
export const YEAR_DIR = /^\d{4}$/;
export const TWO_DIGITS = /^\d{2}$/;

/** True when `rel` has the shape `YYYY/MM/DD/HH/<epoch_ms>-<duration_ms>.ts` (no check of the hour against the start). */
export function isSegmentRelPath(rel: string): boolean {
  return SEGMENT_REL_PATH.test(rel);
}

/** True when the path parts `[YYYY, MM, DD, HH, name]` (a URL's, say) have the shape of a segment's. */
export function isSegmentPathParts(parts: readonly string[]): boolean {
  return parts.length === 5 && YEAR_DIR.test(parts[0]!) && TWO_DIGITS.test(parts[1]!) && TWO_DIGITS.test(parts[2]!) &&
    TWO_DIGITS.test(parts[3]!) && (SEGMENT_NAME.test(parts[4]!) || PART_NAME.test(parts[4]!));
}

/** Start ms of the UTC year / month / day given as numbers (month 1..12). */
export function utcMs(year: number, month = 1, day = 1, hour = 0): number {
  return Date.UTC(year, month - 1, day, hour);
}
