/**
 * `flux doctor`: prints the checks of services/doctor.ts (which ffmpeg/ffprobe, versions, encoders,
 * protocols, hardware).
 * Exit 0 when the essentials (ffmpeg + libx264 + aac) are present, 1 otherwise.
 */
import { BaseCommand, EXIT_CODE_HELP } from '../cli/base.js';
import { EXIT_CODES } from '../core/errors.js';
import { configFileFor } from '../protocol/locate.js';
import { kv, table } from '../client/format.js';
import { INSTALL_HINT } from '../ffmpeg/resolve.js';
import { doctorReport } from '../services/doctor.js';

export { doctorChecks, type DoctorCheck, type DoctorReport } from '../services/doctor.js';

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check the ffmpeg Flux uses: where it comes from, version, encoders, protocols, GPUs';
  static override description = `ffmpeg is FLUX_FFMPEG, else server.ffmpeg in the config, else ffmpeg on PATH (ffprobe likewise, or next to ffmpeg).
Exit 0 when the essentials are there (ffmpeg, libx264, aac), 1 otherwise.

${EXIT_CODE_HELP}`;
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json', 'FLUX_FFMPEG=/opt/ffmpeg/bin/ffmpeg <%= config.bin %> doctor'];

  async run(): Promise<void> {
    const report = await doctorReport(configFileFor(this.flags.config), !!this.flags.config, (line) => this.info(line));
    const { checks, missing } = report;
    this.output(report, () => {
      const head = kv([
        ['ffmpeg', report.ffmpeg ? `${report.ffmpeg.path} (${report.ffmpeg.source}) ${report.ffmpeg.version}` : 'not found'],
        ['ffprobe', report.ffprobe ? `${report.ffprobe.path} (${report.ffprobe.source}) ${report.ffprobe.version ?? ''}`.trim() : 'not found'],
        ['config', report.config ?? '-'],
      ]);
      const rows = checks.map((c) => [c.name, c.group, c.ok ? 'ok' : c.essential ? 'MISSING' : 'no', c.detail]);
      return `${head}\n\n${table(['CHECK', 'KIND', 'STATUS', 'DETAIL'], rows)}`;
    });
    if (missing.length) {
      process.stderr.write(`flux: missing essentials: ${missing.join(', ')}${missing.includes('ffmpeg') ? ` — ${INSTALL_HINT}` : ''}\n`);
      this.exit(EXIT_CODES.failure);
    }
  }
}
