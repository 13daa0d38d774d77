import { Args } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { ApiError, InputError, NodeUnreachableError } from '../../core/errors.js';
import { FluxClient, configFileFor, type StreamDoc, type InputMonitorDoc } from '../../client/index.js';
import { ago, bitrate, duration, kv, table } from '../../client/format.js';

export default class StreamShow extends BaseCommand<typeof StreamShow> {
  static override summary = 'Show one stream: config, live state, input monitor and failover events';
  static override description = `Without a running node, shows the stream's config from the file.\n\n${EXIT_CODE_HELP}`;
  static override args = { name: Args.string({ description: 'stream name', required: true }) };
  static override examples = ['<%= config.bin %> stream show cam1', '<%= config.bin %> stream show cams/door --json'];

  async run(): Promise<void> {
    const name = this.args.name;
    const client = FluxClient.forConfig(this.flags.config);
    let doc: StreamDoc;
    let monitor: InputMonitorDoc | undefined;
    try {
      [doc, monitor] = await Promise.all([client.getStream(name), client.streamStatus(name)]);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new InputError(`stream "${name}" not found`, { code: 'E_NOT_FOUND' });
      if (!(e instanceof NodeUnreachableError)) throw e;
      const file = configFileFor(this.flags.config);
      doc = await (await import('../../client/offline.js')).offlineShow(file, name);
      process.stderr.write(`no node running: "${name}" as configured in ${file}` + '\n');
    } finally {
      await client.close();
    }
    this.output({ ...doc, monitor: monitor ?? null }, () => render(doc, monitor));
  }
}

export function render(doc: StreamDoc, monitor: InputMonitorDoc | undefined): string {
  const st = doc.stats;
  const out: string[] = [];
  const mi = st.media_info as Record<string, unknown> | null;
  out.push(
    kv([
      ['stream', doc.name],
      ['status', `${st.status}${st.alive ? '' : ' (not alive)'}`],
      ['uptime', st.alive ? duration(st.lifetime) : '-'],
      ['bitrate', `${bitrate(st.bitrate)} out, ${bitrate(st.input_bitrate)} in`],
      ['restarts', `${st.retry_count}${st.supervisor ? ` (supervisor pid ${st.supervisor.pid ?? '-'}, ${st.supervisor.restarts} supervisor restarts${st.supervisor.adopted ? ', adopted' : ''})` : ''}`],
      ['error', st.source_error ?? '-'],
      ['media', mi ? JSON.stringify(mi) : '-'],
    ]),
  );
  const inputs = monitor?.inputs.length ? monitor.inputs : null;
  out.push('', 'INPUTS');
  if (inputs) {
    out.push(
      table(
        ['#', 'URL', 'PRIO', 'STATE', 'BITRATE', 'FPS', 'CC ERR', 'LAST PACKET', 'SWITCHES', 'ERROR'],
        inputs.map((i) => [
          i.index === st.active_input ? `${i.index}*` : i.index,
          i.url,
          i.priority,
          i.state,
          bitrate(i.bitrate),
          i.fps ? i.fps.toFixed(1) : '-',
          i.cc_errors,
          i.last_packet_age_ms === null ? '-' : `${duration(i.last_packet_age_ms) === '-' ? '0ms' : duration(i.last_packet_age_ms)} ago`,
          i.switches,
          i.error ?? '',
        ]),
      ),
    );
  } else {
    out.push(table(['#', 'URL', 'PRIORITY', 'BACKUP'], doc.inputs.map((i, n) => [n, i.url, String(i.priority ?? '-'), i.backup ? 'yes' : ''])));
  }
  const tiles = st.inputs.flatMap((i) => (i.tiles ?? []).map((t) => [i.index, t.name, t.live ? 'live' : 'slate (no live output)']));
  if (tiles.length) out.push('', 'MOSAIC TILES', table(['INPUT', 'TILE', 'SHOWN AS'], tiles));
  const watched = st.inputs.filter((i) => i.quality);
  if (watched.length) {
    const failovers = (f: Record<string, number>) => Object.entries(f).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
    out.push('', 'QUALITY WATCH (failover_on)', table(['INPUT', 'WATCHING', 'FAILOVERS', 'ERROR'], watched.map((i) => [i.index, i.quality!.watch.join(', '), failovers(i.quality!.failovers), i.quality!.error ?? ''])));
  }
  if (st.renditions.length) {
    out.push('', 'RENDITIONS', table(['NAME', 'BITRATE', 'SEGMENTS', 'LAST SEGMENT'], st.renditions.map((r) => [r.name, bitrate(r.bitrate), r.segments, ago(r.last_segment_at)])));
  }
  if (st.push.length) {
    out.push('', 'PUSH', table(['URL', 'STATE', 'BYTES', 'ERRORS', 'RESTARTS', 'ERROR'], st.push.map((p) => [p.url, p.state, p.bytes, p.errors, p.restarts, p.error ?? ''])));
  }
  const events = st.events.slice(-15);
  if (events.length) {
    out.push(
      '',
      'EVENTS',
      table(
        ['WHEN', 'SOURCE', 'TYPE', 'DETAIL'],
        events.map((e) => [new Date(e.at).toISOString(), e.source, e.type, [e.reason, e.from !== undefined ? `from #${e.from}` : '', e.to !== undefined ? `to #${e.to}` : ''].filter(Boolean).join(' ')]),
      ),
    );
  }
  return out.join('\n');
}
