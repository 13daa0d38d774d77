/**
 * Starting the node agent for `flux node start`: in the background (detached, own session, logs to a
 * file; the agent reports ready or why it failed over an IPC channel, see protocol/startup.ts), or
 * attached in the foreground with Ctrl-C forwarded.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, EXIT_CODES, InputError } from '../core/errors.js';
import type { NodeInfoDoc } from '../protocol/api.js';
import { socketAnswers } from '../protocol/socket-http.js';
import type { NodeStartupMessage } from '../protocol/startup.js';

/**
 * Spawn the agent detached (`args`: node flags, its bin and its own flags) with its logs appended to
 * `logFile`; resolve with its info once it reports ready and answers on its socket. A config the agent
 * refuses is a ConfigError (exit 3); an agent that exits or stays silent is an InputError naming the log.
 */
export async function startDaemon(args: string[], opts: { logFile: string; timeoutMs: number }): Promise<NodeInfoDoc> {
  const { logFile } = opts;
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a', 0o640);
  // Not core/child.ts: the agent is detached with an IPC channel (its ready/error message) and its
  // stdio in a log file; this process leaves without waiting for it.
  const child = spawn(process.execPath, [...args, '--log-file', logFile], {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    cwd: process.cwd(),
    env: process.env,
  });
  closeSync(fd);
  const msg = await new Promise<NodeStartupMessage | { type: 'exit'; code: number | null } | { type: 'timeout' }>((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'timeout' }), opts.timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as NodeStartupMessage);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ type: 'exit', code });
    });
  });
  child.removeAllListeners('exit');
  if (child.connected) child.disconnect();
  child.unref();
  if (msg.type === 'error') {
    if (msg.issues?.length) throw new ConfigError(msg.issues);
    throw new InputError(msg.message, { code: msg.code, exitCode: msg.exitCode ?? EXIT_CODES.failure });
  }
  if (msg.type === 'exit') throw new InputError(`the node exited during startup (code ${msg.code}); see ${logFile}:\n${tail(logFile)}`);
  if (msg.type === 'timeout') {
    throw new InputError(`the node did not answer within ${opts.timeoutMs / 1000} s (pid ${child.pid}); see ${logFile}`);
  }
  const info = msg.info;
  if (!(await socketAnswers(info.socket, '/api/v3/node', 5000))) {
    throw new InputError(`the node reported ready but does not answer on ${info.socket}; see ${logFile}`);
  }
  return info;
}

/** Run the agent attached (logs on stdout); SIGINT/SIGTERM are forwarded. Resolves with its exit code. */
export async function runForeground(args: string[]): Promise<number> {
  // (inherited stdio and an IPC channel: nothing for core/child.ts to pipe or capture)
  const child = spawn(process.execPath, [...args, ...(process.stdout.isTTY ? ['--pretty'] : [])], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], cwd: process.cwd(), env: process.env });
  // the agent says when it is ready: tell the person where to watch (stderr; logs stay on stdout)
  child.once('message', (m: NodeStartupMessage) => {
    if (child.connected) child.disconnect();
    if (m.type !== 'ready') return;
    const base = m.info.http.url.replace(/\/$/, '').replace('//0.0.0.0:', '//127.0.0.1:');
    const lines = [`flux node ready (pid ${m.info.pid}): API ${m.info.api_url}`];
    if (m.info.demo) lines.push(`  open ${base}/demo/embed.html`, `  HLS  ${base}/demo/index.m3u8`);
    process.stderr.write(lines.join('\n') + '\n');
  });
  const forward = (sig: NodeJS.Signals) => () => {
    if (child.exitCode === null) child.kill(sig);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  // SIGHUP = reload the config (systemd's ExecReload signals this process, the unit's main pid)
  const onHup = forward('SIGHUP');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  const code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 128 + 15 : 1))));
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  process.off('SIGHUP', onHup);
  return code;
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
