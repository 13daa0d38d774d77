import path from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { InputError, NodeUnreachableError } from '../../core/errors.js';
import { FluxClient, locateNode } from '../../client/index.js';
import { commandLine, isAlive, readPidFile, signal, waitForExit } from '../../protocol/proc.js';

export default class NodeStop extends BaseCommand<typeof NodeStop> {
  static override summary = 'Stop the node agent and its stream supervisors';
  static override description = `Stops the node gracefully: every stream supervisor gets a graceful stop (open segments are closed), then the node closes its listeners and removes its pid file and socket. With --keep-streams the supervisors keep running and the next "flux node start" re-adopts them (the same happens when the node crashes or is killed).

Exit 4 when no node runs.

${EXIT_CODE_HELP}`;
  static override flags = {
    'keep-streams': Flags.boolean({ description: 'leave stream supervisors running (re-adopted by the next node)', default: false }),
    timeout: Flags.integer({ description: 'seconds to wait for the node to exit', default: 30, min: 1 }),
    force: Flags.boolean({ description: 'SIGKILL the node when it has not exited within --timeout', default: false }),
  };
  static override examples = ['<%= config.bin %> node stop', '<%= config.bin %> node stop --keep-streams'];

  async run(): Promise<void> {
    const loc = locateNode(this.flags.config);
    const pidFile = path.join(loc.runDir, 'node.pid');
    const client = new FluxClient({ socketPath: loc.socketPath, timeoutMs: 5000 });
    let pid: number | undefined;
    try {
      pid = (await client.node()).pid;
      await client.stopNode({ keepStreams: this.flags['keep-streams'] });
    } catch (e) {
      if (!(e instanceof NodeUnreachableError)) throw e;
      // the socket is gone or hung: fall back to the pid file
      pid = await readPidFile(pidFile);
      const cmd = pid ? await commandLine(pid) : undefined;
      if (!pid || !(await isAlive(pid)) || (cmd !== undefined && !/flux-node|daemons[\\/]node[\\/]main/.test(cmd))) throw e;
      this.info(`the node does not answer on ${loc.socketPath}: sending SIGTERM to pid ${pid}`);
      signal(pid, 'SIGTERM');
    } finally {
      await client.close();
    }
    const exited = await waitForExit(pid!, this.flags.timeout * 1000, 100);
    if (!exited) {
      if (!this.flags.force) throw new InputError(`the node (pid ${pid}) did not exit within ${this.flags.timeout} s (use --force to SIGKILL it)`);
      signal(pid!, 'SIGKILL');
      await waitForExit(pid!, 5000);
      this.info(`node (pid ${pid}) killed`);
    }
    this.output({ stopped: true, pid, keep_streams: this.flags['keep-streams'], forced: !exited }, () =>
      `flux node stopped (pid ${pid}${this.flags['keep-streams'] ? '; stream supervisors left running' : ''})`,
    );
  }
}
