import { Args, Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { probeSource } from '../services/probe.js';
import { bitrate, kv, table } from '../client/format.js';
import { parseDuration } from '../config/units.js';
import { UsageError } from '../core/errors.js';
import { configFileFor } from '../protocol/locate.js';

export default class Probe extends BaseCommand<typeof Probe> {
  static override summary = 'Probe a source URL or file with ffprobe: container, duration, codecs, resolution, fps, bitrates';
  static override description = `Unreachable or invalid sources fail with one line within --timeout (ffprobe's own I/O timeout, then a hard kill).\n\n${EXIT_CODE_HELP}`;
  static override args = { source: Args.string({ description: 'URL (rtsp://, rtmp://, srt://, http(s)://, hls://, udp://…) or file', required: true }) };
  static override flags = {
    timeout: Flags.string({ description: 'give up after this long (e.g. 10s, 500ms)', default: '10s' }),
  };
  static override examples = ['<%= config.bin %> probe rtsp://10.0.0.5/stream1', '<%= config.bin %> probe recording.ts --json', '<%= config.bin %> probe https://example.com/live/index.m3u8 --timeout 5s'];

  async run(): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(this.flags.timeout);
    } catch (e) {
      throw new UsageError(`--timeout: ${(e as Error).message}`);
    }
    let configured: { ffmpeg?: string; ffprobe?: string } = {};
    const file = configFileFor(this.flags.config);
    if (existsSync(file)) {
      try {
        const { loadConfigFile } = await import('../config/load.js');
        const cfg = await loadConfigFile(file);
        configured = { ffmpeg: cfg.resolved.server.ffmpeg, ffprobe: cfg.resolved.server.ffprobe };
      } catch {
        /* an invalid config does not stop a probe */
      }
    }
    const r = await probeSource(this.args.source, { timeoutMs, ...configured });
    this.output(r, () => {
      const head = kv([
        ['source', r.source],
        ['container', r.format.long_name ? `${r.format.name} (${r.format.long_name})` : r.format.name],
        ['duration', r.format.duration === null ? 'live / unknown' : `${r.format.duration.toFixed(2)} s`],
        ['bitrate', bitrate(r.format.bitrate)],
      ]);
      const rows = r.streams.map((s) => [
        s.index,
        s.type,
        s.codec ?? '-',
        s.profile ?? '-',
        s.width && s.height ? `${s.width}x${s.height}` : '-',
        s.fps ?? '-',
        bitrate(s.bitrate),
        s.channels ?? '-',
        s.sample_rate ? `${s.sample_rate} Hz` : '-',
        s.language ?? '',
      ]);
      return `${head}\n\n${table(['#', 'TYPE', 'CODEC', 'PROFILE', 'SIZE', 'FPS', 'BITRATE', 'CHANNELS', 'RATE', 'LANG'], rows)}`;
    });
  }
}
