import { Args, Flags } from '@oclif/core';
import { BaseCommand, EXIT_CODE_HELP } from '../../cli/base.js';
import { InputError, NodeUnreachableError, ApiError } from '../../core/errors.js';
import { assertStreamName } from '../../core/paths.js';
import type { StreamInput } from '../../config/schema.js';
import { FluxClient, apiConfigError, configFileFor, type StreamDoc } from '../../client/index.js';

export default class StreamAdd extends BaseCommand<typeof StreamAdd> {
  static override summary = 'Add a stream (live through the node when one runs, else to the config file)';
  static override description = `When a node runs, the stream goes through its API: validated, written to its config file (comments kept) and started. Otherwise the config file is edited (created when missing) and the stream starts with the next "flux node start".

--dvr takes a directory (contains "/" or starts with ".") or the name of a storage from the top-level dvr: section.

${EXIT_CODE_HELP}`;
  static override args = { name: Args.string({ description: 'stream name (may contain "/", e.g. cams/door)', required: true }) };
  static override flags = {
    input: Flags.string({ char: 'i', description: 'source URL (repeat for failover order)', multiple: true, required: true }),
    backup: Flags.string({ description: 'backup source URL, used while better inputs fail (repeatable)', multiple: true }),
    dvr: Flags.string({ description: 'record: a directory or a dvr storage name' }),
    retention: Flags.string({ description: 'DVR retention, e.g. 7d (with --dvr)', dependsOn: ['dvr'] }),
    push: Flags.string({ description: 'restream target URL (repeatable)', multiple: true }),
    'segment-duration': Flags.string({ description: 'HLS segment duration, e.g. 2s' }),
    window: Flags.integer({ description: 'segments in the live playlist', min: 2, max: 100 }),
    title: Flags.string({ description: 'human title' }),
    video: Flags.string({
      description: 'transcode: one ladder profile per flag, SIZE:BITRATE[:CODEC] or BITRATE (e.g. 1280x720:2000k, 640x360:800k:h264)',
      multiple: true,
      helpGroup: 'TRANSCODER',
    }),
    hw: Flags.string({ description: 'encoder hardware', options: ['cpu', 'nvenc', 'qsv', 'vaapi'], dependsOn: ['video'], helpGroup: 'TRANSCODER' }),
    'hw-fallback': Flags.boolean({ description: 'fall back to cpu when the hardware is absent', dependsOn: ['hw'], helpGroup: 'TRANSCODER' }),
    'audio-bitrate': Flags.string({ description: 'AAC bitrate of the ladder (e.g. 128k)', dependsOn: ['video'], helpGroup: 'TRANSCODER' }),
    deinterlace: Flags.boolean({ description: 'deinterlace before scaling (yadif)', dependsOn: ['video'], helpGroup: 'TRANSCODER' }),
    logo: Flags.string({ description: 'overlay this image (top-right)', dependsOn: ['video'], helpGroup: 'TRANSCODER' }),
  };
  static override examples = [
    '<%= config.bin %> stream add cam1 --input rtsp://10.0.0.5/stream1',
    '<%= config.bin %> stream add news --input publish:// --dvr /var/lib/flux/news --retention 7d',
    '<%= config.bin %> stream add ch1 --input udp://239.0.0.1:1234 --backup fake://testsrc --segment-duration 2s --window 6',
    '<%= config.bin %> stream add abr --input rtmp://origin/live/abr --video 1920x1080:4000k --video 1280x720:2000k --video 640x360:800k --hw nvenc --hw-fallback --push rtmp://cdn.example.com/live/abr',
  ];

  async run(): Promise<void> {
    const name = this.args.name;
    try {
      assertStreamName(name);
    } catch (e) {
      throw new InputError((e as Error).message, { code: 'E_INVALID_NAME' });
    }
    const f = this.flags;
    const stream: StreamInput = {
      inputs: [...f.input.map((url) => ({ url })), ...(f.backup ?? []).map((url) => ({ url, backup: true }))],
    };
    if (f.title) stream.title = f.title;
    if (f.dvr) {
      const isPath = f.dvr.includes('/') || f.dvr.startsWith('.');
      stream.dvr = { ...(isPath ? { path: f.dvr } : { storage: f.dvr }), ...(f.retention ? { retention: f.retention } : {}) };
    }
    if (f.push?.length) stream.push = f.push;
    if (f.video?.length) {
      stream.transcoder = {
        video: f.video.map(parseProfileFlag),
        ...(f.hw ? { hw: f.hw as 'cpu' | 'nvenc' | 'qsv' | 'vaapi' } : {}),
        ...(f['hw-fallback'] ? { fallback: 'cpu' as const } : {}),
        ...(f['audio-bitrate'] ? { audio: { bitrate: f['audio-bitrate'] } } : {}),
        ...(f.deinterlace ? { deinterlace: true } : {}),
        ...(f.logo ? { logo: { path: f.logo } } : {}),
      };
    }
    if (f['segment-duration'] || f.window) {
      stream.hls = { ...(f['segment-duration'] ? { segment_duration: f['segment-duration'] } : {}), ...(f.window ? { window: f.window } : {}) };
    }

    const client = FluxClient.forConfig(f.config);
    let doc: StreamDoc;
    let live = true;
    try {
      const exists = await client.getStream(name).then(
        () => true,
        (e) => {
          if (e instanceof ApiError && e.status === 404) return false;
          throw e;
        },
      );
      if (exists) throw new InputError(`stream "${name}" already exists (remove it first with "flux stream rm ${name}")`, { code: 'E_EXISTS' });
      try {
        doc = await client.putStream(name, stream as Record<string, unknown>);
      } catch (e) {
        throw apiConfigError(e, `stream ${name}`) ?? e;
      }
    } catch (e) {
      if (!(e instanceof NodeUnreachableError)) throw e;
      live = false;
      const file = configFileFor(f.config);
      doc = await (await import('../../client/offline.js')).offlineAdd(file, name, stream);
      process.stderr.write(`no node running: added "${name}" to ${file} (it starts with the next "flux node start")` + '\n');
    } finally {
      await client.close();
    }
    this.output({ ...doc, applied: live }, () => (live ? `stream "${name}" added and started` : `stream "${name}" added`));
  }
}

/** `1280x720:2000k[:h264]` or `2000k`: units are checked by the schema when the stream is validated. */
export function parseProfileFlag(v: string): { bitrate: string; size?: string; codec?: 'h264' | 'h265' } {
  const parts = v.split(':');
  const [first, second, third] = parts;
  if (parts.length > 3 || !first) throw new InputError(`--video ${JSON.stringify(v)}: expected SIZE:BITRATE[:CODEC] or BITRATE, e.g. 1280x720:2000k`, { code: 'E_USAGE' });
  if (parts.length === 1) return { bitrate: first };
  if (third !== undefined && third !== 'h264' && third !== 'h265') throw new InputError(`--video ${JSON.stringify(v)}: codec must be h264 or h265`, { code: 'E_USAGE' });
  return { size: first, bitrate: second!, ...(third ? { codec: third } : {}) };
}
