import { existsSync } from 'node:fs';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { loadConfigFile } from '../../config/load.js';
import { InputError } from '../../core/errors.js';
import { FluxClient } from '../../client/index.js';
import { DEMO_DIRS, configFileNamed } from '../../protocol/locate.js';
import { isAlive, readPidFile, commandLine } from '../../protocol/proc.js';
import { closeSocketClients } from '../../protocol/socket-http.js';
import { kv } from '../../client/format.js';
import { runForeground, startDaemon } from '../../services/daemonize.js';

export default class NodeStart extends BaseCommand<typeof NodeStart> {
  static override summary = 'Start the node agent (daemonized; --foreground to stay attached)';
  static override description = `Loads and validates the config (an invalid one is refused with file:line:col errors, exit 3), takes <run_dir>/node.pid, listens on <run_dir>/node.sock (0600) and on server.http, and starts one supervisor per stream.

Without a config file (no --config, no $FLUX_CONFIG, no ./flux.yaml) it runs an embedded demo: a fake:// test pattern with a tone named "demo", data under ./data, run files under ./run.

Without --foreground the node runs in the background (logs to <log_dir or data_dir>/node.log); the command returns once the node answers on its socket and prints the playback and API URLs.

${EXIT_CODE_HELP}`;
  static override flags = {
    foreground: Flags.boolean({ char: 'f', description: 'stay attached: logs on stdout, Ctrl-C stops the node', default: false }),
    timeout: Flags.integer({ description: 'seconds to wait for the node to answer', default: 30, min: 1 }),
  };
  static override examples = ['<%= config.bin %> node start', '<%= config.bin %> node start --config /etc/flux/flux.yaml', '<%= config.bin %> node start --foreground'];

  async run(): Promise<void> {
    const file = path.resolve(this.configPath());
    const demo = !configFileNamed(this.flags.config) && !existsSync(file);
    let runDir: string;
    let logBase: string;
    if (demo) {
      runDir = path.resolve(DEMO_DIRS.run);
      logBase = path.resolve(DEMO_DIRS.data);
      this.info(`no config file (${file}): starting the embedded demo stream`);
    } else {
      const cfg = await loadConfigFile(file); // ConfigError → exit 3 with file:line:col
      runDir = cfg.resolved.server.runDir;
      logBase = cfg.resolved.server.logDir ?? cfg.resolved.server.dataDir;
    }
    const pid = await readPidFile(path.join(runDir, 'node.pid'));
    if (pid && (await isAlive(pid)) && /flux-node|daemons[\\/]node[\\/]main/.test((await commandLine(pid)) ?? 'flux-node')) {
      throw new InputError(`a node is already running on run dir ${runDir} (pid ${pid}); stop it first with "flux node stop"`, { code: 'E_NODE_RUNNING' });
    }
    const bin = path.join(this.config.root, 'bin', 'flux-node.js');
    // a 1 MB young generation (the agent is I/O-bound) and a full GC after bursts keep its resident size down
    const args = ['--max-semi-space-size=1', '--expose-gc', bin, ...(demo ? ['--demo'] : ['--config', file])];
    if (this.flags.foreground) return this.foreground(args);

    const logFile = path.join(logBase, 'node.log');
    const info = await startDaemon(args, { logFile, timeoutMs: this.flags.timeout * 1000 });
    const client = new FluxClient({ socketPath: info.socket });
    const list = await client.listStreams().catch(() => ({ streams: [], estimated_count: 0 }));
    await closeSocketClients();
    const base = info.http.url.replace(/\/$/, '');
    const streams = list.streams.map((s) => ({ name: s.name, embed: `${base}/${s.name}/embed.html`, hls: `${base}/${s.name}/index.m3u8` }));
    this.output(
      { pid: info.pid, config_file: info.config_file, demo: info.demo, socket: info.socket, log_file: logFile, http_url: info.http.url, api_url: info.api_url, streams },
      () => {
        const lines = [
          `flux node started (pid ${info.pid})`,
          kv([
            ['config', info.config_file ?? 'embedded demo (no config file)'],
            ['api', `${info.api_url}  (socket ${info.socket})`],
            ['log', logFile],
            ['streams', String(info.streams_count)],
          ]).replace(/^/gm, '  '),
        ];
        if (info.demo && streams[0]) {
          lines.push(`  open      ${streams[0].embed}`, `  HLS       ${streams[0].hls}`);
        } else {
          for (const s of streams.slice(0, 10)) lines.push(`  ${s.name}: ${s.hls}`);
          if (streams.length > 10) lines.push(`  … ${streams.length - 10} more ("flux stream list")`);
        }
        return lines.join('\n');
      },
    );
  }

  private async foreground(args: string[]): Promise<void> {
    const code = await runForeground(args);
    if (code !== 0) this.exit(code);
  }
}
