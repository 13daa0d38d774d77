/**
 * The one base class of every command: shared flags (--config, --json), error → exit-code mapping,
 * output helpers (tables for people, one JSON document for scripts on stdout).
 */
import { Command, Flags, Errors, type Interfaces } from '@oclif/core';
import { EXIT_CODES, EXIT_CODE_MEANINGS, isFluxError, ConfigError, type FluxError } from '../core/errors.js';
import { configFileFor } from '../protocol/locate.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

export const EXIT_CODE_HELP = ['EXIT CODES', ...Object.entries(EXIT_CODES).map(([k, code]) => `  ${code}  ${EXIT_CODE_MEANINGS[k as keyof typeof EXIT_CODES]}`)].join('\n');

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = false;

  static override baseFlags = {
    json: Flags.boolean({ description: 'print one JSON document on stdout (for scripts)', default: false, helpGroup: 'GLOBAL' }),
    config: Flags.string({
      char: 'c',
      description: 'config file (default: $FLUX_CONFIG or ./flux.yaml)',
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: Interfaces.InferredArgs<T['args']>;

  public override async init(): Promise<void> {
    await super.init();
    try {
      const { flags, args } = await this.parse({
        flags: this.ctor.flags,
        baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
        args: this.ctor.args,
        strict: this.ctor.strict,
      });
      this.flags = flags as BaseFlags<T>;
      this.args = args as Interfaces.InferredArgs<T['args']>;
    } catch (e) {
      this.usageFailure(e);
    }
  }

  /** Path of the config file this invocation works on. */
  protected configPath(): string {
    return configFileFor(this.flags.config);
  }

  /** Print the result: JSON for --json, else the human rendering. */
  protected output(result: unknown, human: () => string | void): void {
    if (this.flags?.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } else {
      const text = human();
      if (typeof text === 'string' && text.length) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
  }

  /** People read stderr. */
  protected info(msg: string): void {
    if (!this.flags?.json) process.stderr.write(msg + '\n');
  }

  private usageFailure(e: unknown): never {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    process.stderr.write(`flux: ${msg}\nSee more help with --help\n`);
    this.exit(EXIT_CODES.usage);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    if (isFluxError(err)) {
      const fe = err as FluxError;
      if (this.flags?.json) {
        const body: Record<string, unknown> = { error: { code: fe.code, message: fe.message } };
        if (fe instanceof ConfigError) (body.error as Record<string, unknown>).issues = fe.issues;
        process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      }
      const lines = fe instanceof ConfigError ? fe.message : `flux: ${fe.message.split('\n')[0]}`;
      process.stderr.write(lines + '\n');
      if (process.env.FLUX_DEBUG && fe.stack) process.stderr.write(fe.stack + '\n');
      this.exit(fe.exitCode);
    }
    // oclif parse errors (unknown flag, missing arg) are usage errors
    if (err instanceof Errors.CLIError || (err as { oclif?: unknown }).oclif) {
      process.stderr.write(`flux: ${err.message.split('\n')[0]}\n`);
      this.exit(EXIT_CODES.usage);
    }
    process.stderr.write(`flux: internal error: ${err.message}\n`);
    if (process.env.FLUX_DEBUG) process.stderr.write(String(err.stack) + '\n');
    this.exit(EXIT_CODES.failure);
  }
}
