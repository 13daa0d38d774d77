#!/usr/bin/env node
// flux-stream: the per-stream supervisor daemon. Plain JS, no oclif: starts fast and lean.
// Usage: flux-stream --spec <run>/streams/<name>.json [--socket path] [--pid-file path] [--log-file path]
import { Command } from 'commander';

const program = new Command('flux-stream')
  .description('Flux stream supervisor: runs one stream from its spec file (started by the node agent)')
  .requiredOption('--spec <file>', 'spec JSON: {stream, server, specHash, ffmpeg}')
  .option('--socket <path>', 'status socket (default <run>/streams/<name>.sock)')
  .option('--pid-file <path>', 'pid file (default <run>/streams/<name>.pid)')
  .option('--log-file <path>', 'append JSON log lines to this file (default: stdout)')
  .showHelpAfterError()
  .parse(process.argv);

const o = program.opts();
// FLUX_STREAM_SRC=1 (tests, with `node --import tsx`): run the TypeScript sources instead of dist/
const entry = process.env.FLUX_STREAM_SRC === '1' ? '../src/daemons/stream/main.ts' : '../dist/daemons/stream/main.js';
const { runDaemon } = await import(new URL(entry, import.meta.url).href);
await runDaemon({ specFile: o.spec, socket: o.socket, pidFile: o.pidFile, logFile: o.logFile });
