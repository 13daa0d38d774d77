import { Args } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { InputError } from '../../core/errors.js';

export default class VodLs extends BaseCommand<typeof VodLs> {
  static override summary = 'List the MP4 files of the vod: locations and how each is served';
  static override description = `Reads the config file and the location directories (no node is needed): for each .mp4/.m4v/.mov \
file, its playback URL (/vod/<location>/<file>/index.m3u8), size, duration, tracks and HLS segment count, or why it \
cannot be served (the reason the node answers 422 with: truncated, no moov, codec). Exit 5 when some files cannot be served.

--json prints {files: [{location, file, url, size, durationSec, segments, video, audio, error}]}.

${EXIT_CODE_HELP}`;
  static override args = { location: Args.string({ description: 'only this vod location' }) };
  static override examples = ['<%= config.bin %> vod ls', '<%= config.bin %> vod ls movies --json'];

  async run(): Promise<void> {
    const { loadConfigFile } = await import('../../config/load.js');
    const { listVod } = await import('../../vod/list.js');
    const { table } = await import('../../client/format.js');
    const { formatDuration, formatSize } = await import('../../config/units.js');
    const cfg = await loadConfigFile(this.configPath());
    const locations = cfg.resolved.vod ?? {};
    const only = this.args.location;
    if (only !== undefined && !locations[only]) {
      throw new InputError(`no vod location "${only}" in ${cfg.file}${Object.keys(locations).length ? ` (defined: ${Object.keys(locations).join(', ')})` : ''}`, { code: 'E_NOT_FOUND' });
    }
    const files = await listVod(locations, only);
    this.output({ files }, () => {
      const names = only !== undefined ? [only] : Object.keys(locations);
      if (!files.length) return `no MP4 files in ${names.length ? names.join(', ') : 'any vod location (no vod: section)'}`;
      return table(
        ['URL', 'SIZE', 'DURATION', 'VIDEO', 'AUDIO', 'SEGMENTS', 'PROBLEM'],
        files.map((f) => [f.url, formatSize(f.size), f.durationSec !== null ? formatDuration(Math.round(f.durationSec * 1000)) : '-', f.video ?? '-', f.audio ?? '-', f.segments ?? '-', f.error ?? '']),
      );
    });
    if (files.some((f) => f.error)) this.exit(5);
  }
}
