/**
 * One typed error per failure domain. Each carries a stable `code` and maps to one exit code
 * at the command boundary (see EXIT_CODES). Keep `cause` so logs keep the chain.
 */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  invalidConfig: 3,
  nodeUnreachable: 4,
  partial: 5,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** What each exit code means, in words (help text and man pages are generated from this). */
export const EXIT_CODE_MEANINGS: Record<keyof typeof EXIT_CODES, string> = {
  ok: 'success',
  failure: 'failure',
  usage: 'usage error',
  invalidConfig: 'invalid config',
  nodeUnreachable: 'node unreachable',
  partial: 'partial success',
};

export abstract class FluxError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A position-carrying config problem. `file:line:col: message`. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  message: string;
  /** dotted path inside the document, e.g. `streams.cam1.inputs.0.url` */
  path: string;
}

export class ConfigError extends FluxError {
  readonly code = 'E_CONFIG';
  readonly exitCode = EXIT_CODES.invalidConfig;
  constructor(
    readonly issues: ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(issues.map(formatIssue).join('\n') || 'invalid config', options);
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.message}`;
}

/** The user's input (flags, arguments, names, files) is wrong. */
export class InputError extends FluxError {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(message: string, options?: { cause?: unknown; code?: string; exitCode?: ExitCode }) {
    super(message, options);
    this.code = options?.code ?? 'E_INPUT';
    this.exitCode = options?.exitCode ?? EXIT_CODES.failure;
  }
}

export class UsageError extends FluxError {
  readonly code = 'E_USAGE';
  readonly exitCode = EXIT_CODES.usage;
}

/** A failure answered by the control API (carries the HTTP status). */
export class ApiError extends FluxError {
  readonly code: string;
  readonly exitCode: ExitCode = EXIT_CODES.failure;
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown; code?: string; body?: unknown },
  ) {
    super(message, options);
    this.code = options?.code ?? `E_API_${status}`;
    this.body = options?.body;
  }
  readonly body: unknown;
}

export class NodeUnreachableError extends FluxError {
  readonly code = 'E_NODE_UNREACHABLE';
  readonly exitCode = EXIT_CODES.nodeUnreachable;
}

/** An external command (ffmpeg, ffprobe, etcd) failed; keeps what was run. */
export class ExternalError extends FluxError {
  readonly code = 'E_EXTERNAL';
  readonly exitCode = EXIT_CODES.failure;
  constructor(
    message: string,
    readonly command: string,
    readonly args: readonly string[],
    options?: { cause?: unknown; stderr?: string },
  ) {
    super(message, options);
    this.stderr = options?.stderr;
  }
  readonly stderr: string | undefined;
}

/** Something that should never happen. */
export class BugError extends FluxError {
  readonly code = 'E_BUG';
  readonly exitCode = EXIT_CODES.failure;
}

/** An unsafe stream name or path component. */
export class PathError extends FluxError {
  readonly code = 'E_PATH';
  readonly exitCode = EXIT_CODES.failure;
}

export function isFluxError(e: unknown): e is FluxError {
  return e instanceof FluxError;
}
