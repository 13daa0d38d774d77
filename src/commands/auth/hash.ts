import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import type { Result } from '../../protocol/results.js';

export default class AuthHash extends BaseCommand<typeof AuthHash> {
  static override summary = 'Print an scrypt hash of a password for auth.users';
  static override description = `Reads the password from the terminal (asked twice, not echoed) or, when stdin is not a \
terminal, from stdin (one trailing newline removed). Never from the command line: arguments show in \`ps\` and shell \
history. Prints \`scrypt$N$r$p$salt$hash\`, the form \`auth.users[].password_hash\` expects.`;
  static override examples = [
    '<%= config.bin %> auth hash',
    'printf %s "$ADMIN_PASSWORD" | <%= config.bin %> auth hash --json',
  ];
  static override flags = {
    cost: Flags.integer({ description: 'scrypt N (a power of two, 1024..1048576)', default: 16384, min: 1024, max: 1048576 }),
  };

  async run(): Promise<void> {
    const n = this.flags.cost;
    if ((n & (n - 1)) !== 0) {
      const { UsageError } = await import('../../core/errors.js');
      throw new UsageError(`--cost ${n} is not a power of two`);
    }
    const { readSecret } = await import('../../services/read-secret.js');
    const { hashPassword } = await import('../../auth/password.js');
    const password = await readSecret('Password: ', { confirm: true });
    const hash = await hashPassword(password, { N: n });
    this.output({ password_hash: hash } satisfies Result<'auth hash'>, () => hash);
  }
}
