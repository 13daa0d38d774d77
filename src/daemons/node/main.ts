/**
 * Entry of the node agent daemon (bin/flux-node.js). No oclif: commander parses a few flags.
 *
 *   flux-node --config FILE | --demo   [--log-file PATH] [--pretty]
 *
 * When started by `flux node start` (IPC channel present) it reports {type:'ready', info} or
 * {type:'error', message, code, exitCode, issues?} and then drops the channel.
 */
import { Command } from 'commander';
import { createLogger, type Logger } from '../../core/logger.js';
import { ConfigError, isFluxError, EXIT_CODES } from '../../core/errors.js';
import { NodeAgent } from './agent.js';
import type { NodeStartupMessage } from '../../protocol/startup.js';

interface Opts {
  config?: string;
  demo?: boolean;
  logFile?: string;
  pretty?: boolean;
}

function report(msg: NodeStartupMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => {
      try {
        process.disconnect();
      } catch {
        /* already gone */
      }
      resolve();
    });
  });
}

export async function main(argv = process.argv): Promise<void> {
  const program = new Command()
    .name('flux-node')
    .description('Flux node agent: control API, playback, publish listeners, stream supervisors')
    .option('-c, --config <file>', 'config file')
    .option('--demo', 'run the embedded demo (no config file)')
    .option('--log-file <path>', 'append JSON log lines to this file (default: stdout)')
    .option('--pretty', 'pretty logs on stdout')
    .allowExcessArguments(false);
  program.parse(argv);
  const opts = program.opts<Opts>();
  if (!opts.config && !opts.demo) {
    process.stderr.write('flux-node: give --config FILE or --demo\n');
    process.exit(EXIT_CODES.usage);
  }
  const logger: Logger = createLogger({ name: 'flux-node', file: opts.logFile, pretty: opts.logFile ? false : opts.pretty });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.stack ?? String(err) }, 'uncaught exception: node agent exits (supervisors keep running)');
    logger.flush?.();
    setTimeout(() => process.exit(1), 100);
  });
  process.on('unhandledRejection', (err) => logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection'));

  let agent: NodeAgent;
  try {
    agent = await NodeAgent.start({ configFile: opts.config, logger, logFile: opts.logFile });
  } catch (e) {
    const exitCode = isFluxError(e) ? e.exitCode : EXIT_CODES.failure;
    const message = e instanceof Error ? e.message : String(e);
    logger.error({ err: message }, 'node failed to start');
    await report({ type: 'error', message, code: isFluxError(e) ? e.code : 'E_START', exitCode, issues: e instanceof ConfigError ? e.issues : undefined });
    if (!process.send) process.stderr.write(`flux-node: ${message.split('\n')[0]}\n`);
    await new Promise((r) => logger.flush ? logger.flush(() => r(undefined)) : r(undefined));
    process.exit(exitCode);
  }
  const onSignal = (sig: NodeJS.Signals) => {
    logger.info({ signal: sig }, 'signal received');
    void agent.shutdown({ keepStreams: false });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    agent.reload().catch(() => {});
  });
  await report({ type: 'ready', info: await agent.info() });
  await agent.stopped;
  await new Promise((r) => (logger.flush ? logger.flush(() => r(undefined)) : r(undefined)));
  process.exit(0);
}

await main();
