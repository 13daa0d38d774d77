/**
 * The node agent's start-up report: `flux node start` spawns the agent (bin/flux-node.js) with an IPC
 * channel, and the agent sends exactly one of these messages, then drops the channel.
 */
import type { ConfigIssue, ExitCode } from '../core/errors.js';
import type { NodeInfoDoc } from './api.js';

/** The node listens on its socket and HTTP port; `info` is what GET /api/v3/node answers. */
export interface NodeReadyMessage {
  type: 'ready';
  info: NodeInfoDoc;
}

/** The node could not start; `issues` carries the positioned problems of an invalid config (exit 3). */
export interface NodeErrorMessage {
  type: 'error';
  message: string;
  code: string;
  exitCode: ExitCode;
  issues?: ConfigIssue[];
}

export type NodeStartupMessage = NodeReadyMessage | NodeErrorMessage;
