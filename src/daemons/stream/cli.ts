/**
 * Command line of the supervisor daemon (bin/flux-stream.js → dist/bundle/flux-stream.js):
 *   flux-stream --spec <run>/streams/<name>.json [--socket path] [--pid-file path] [--log-file path]
 * No oclif: commander parses the few flags, then main.ts runs the daemon.
 */
import { Command } from 'commander';
import { runDaemon } from './main.js';

const program = new Command('flux-stream')
  .description('Flux stream supervisor: runs one stream from its spec file (started by the node agent)')
  .requiredOption('--spec <file>', 'spec JSON: {stream, server, specHash, ffmpeg}')
  .option('--socket <path>', 'status socket (default <run>/streams/<name>.sock)')
  .option('--pid-file <path>', 'pid file (default <run>/streams/<name>.pid)')
  .option('--log-file <path>', 'append JSON log lines to this file (default: stdout)')
  .showHelpAfterError()
  .parse(process.argv);

const o = program.opts<{ spec: string; socket?: string; pidFile?: string; logFile?: string }>();
await runDaemon({ specFile: o.spec, socket: o.socket, pidFile: o.pidFile, logFile: o.logFile });
