/**
 * The single source of truth for flux.yaml. Validation, the JSON Schema (`flux config schema`),
 * the reference docs and the resolved model all derive from these definitions.
 * Values keep their human form here (`2s`, `500G`, `4000k`); resolve.ts normalizes them.
 * Checks that need the whole document (references, ports, name safety) live in semantic.ts.
 */
import { EVENT_NAMES } from '../protocol/events.js';
import { z } from 'zod';
import { isIP } from 'node:net';
import { parseBitrate, parseCcThreshold, parseDuration, parseFrameSize, parsePercent, parseSize, UnitError } from './units.js';
import { streamNameProblem } from '../core/paths.js';

function unit<T extends z.ZodType>(base: T, parse: (v: never) => unknown, example: string) {
  return base
    .superRefine((v, ctx) => {
      try {
        parse(v as never);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof UnitError ? e.message : String(e) });
      }
    })
    .describe(example);
}

const STR_OR_NUM = (error: string) => z.union([z.string(), z.number()], { error });
export const Duration = () => unit(STR_OR_NUM('expected a duration such as 2s, 90m, 7d'), parseDuration, 'duration: 2s, 90m, 7d (a bare number is seconds)');
export const Size = () => unit(STR_OR_NUM('expected a size such as 500M, 2T'), parseSize, 'size: 500M, 2T (binary multiples)');
export const Bitrate = () => unit(STR_OR_NUM('expected a bitrate such as 4000k, 2.5M'), parseBitrate, 'bitrate: 4000k, 2.5M');
export const FrameSizeStr = () => unit(z.string({ error: 'expected a frame size such as 1280x720' }), parseFrameSize, 'frame size: 1920x1080');
export const Percent = () => unit(STR_OR_NUM('expected a percentage such as 90%'), parsePercent, 'percentage: 90%');
const Port = () => z.number().int().min(1).max(65535);
const HttpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`). */
export const Cidr = () =>
  z
    .string()
    .superRefine((v, ctx) => {
      const [addr, bits, extra] = v.split('/');
      const fam = isIP(addr ?? '');
      const max = fam === 6 ? 128 : 32;
      const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
      if (!fam || !okBits || extra !== undefined) ctx.addIssue({ code: 'custom', message: `invalid address "${v}": expected an IP or CIDR block, e.g. 10.0.0.0/8` });
    })
    .describe('IP address or CIDR block, e.g. 10.0.0.0/8');

/** URL schemes an input may use. `publish://` accepts RTMP/SRT publish into the stream. */
export const INPUT_SCHEMES = [
  'publish', 'fake', 'file', 'udp', 'rtp', 'tshttp', 'tshttps', 'http', 'https', 'hls', 'hlss',
  'rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt', 'peer', 'mosaic',
] as const;
export const PUSH_SCHEMES = ['rtmp', 'rtmps', 'srt', 'udp', 'file'] as const;

export const FAILOVER_CONDITIONS = ['black', 'frozen', 'silence', 'cc_errors'] as const;

export const FailoverOnSchema = z
  .union([
    z.array(z.enum(FAILOVER_CONDITIONS)).min(1).describe('conditions with default thresholds: black 5s, frozen 5s, silence 10s, cc_errors 20/10s'),
    z
      .strictObject({
        black: Duration().optional().describe('black picture this long → fail over (e.g. 5s)'),
        frozen: Duration().optional().describe('frozen picture this long → fail over (e.g. 5s)'),
        silence: Duration().optional().describe('silent audio this long → fail over (e.g. 10s)'),
        cc_errors: unit(z.string({ error: 'expected COUNT/WINDOW such as 20/10s' }), parseCcThreshold, 'COUNT/WINDOW, e.g. 20/10s').optional().describe('this many CC errors within the window → fail over (e.g. 20/10s)'),
      })
      .describe('conditions with their thresholds'),
  ])
  .describe('fail over on bad media too, not only on source loss: [black, frozen, silence, cc_errors] or { black: 5s, … }');

export const InputSchema = z
  .strictObject({
    url: z.string().min(1).describe('source URL: publish://, fake://testsrc, file:///path, udp://239.0.0.1:1234, tshttp://…, hls://… or http(s)://….m3u8, rtmp://…, rtsp://…, srt://…, peer://NODE (cluster: the stream of that node), mosaic://a,b,c?layout=2x2 (other streams in one picture)'),
    priority: z.number().int().min(1).max(100).optional().describe('1 = preferred; inputs are tried in priority order (default: list order, backups last)'),
    backup: z.boolean().optional().describe('a backup input: used only while better inputs fail'),
    source_timeout: Duration().optional().describe('no media for this long → fail over to the next input (default 5s)'),
    return_after: Duration().optional().describe('a better input must stay healthy this long before it takes over again (default 10s)'),
    connect_timeout: Duration().optional().describe('pulled sources: give up connecting after this long (default: source_timeout)'),
    title: z.string().optional().describe('a label for this input (kept in the config, echoed by the API)'),
    headers: z.record(z.string(), z.string()).optional().describe('http/hls/tshttp: extra request headers'),
    user_agent: z.string().optional().describe('http/hls/tshttp/rtsp: User-Agent header'),
    rtsp_transport: z.enum(['tcp', 'udp']).optional().describe('rtsp://: RTP transport (default tcp)'),
    srt_mode: z.enum(['caller', 'listener', 'rendezvous']).optional().describe('srt://: connection mode (default caller; or ?mode= in the URL)'),
    srt_latency: Duration().optional().describe('srt://: receiver latency (default 120ms)'),
    srt_passphrase: z.string().min(10).max(79).optional().describe('srt://: encryption passphrase (10..79 characters)'),
    srt_streamid: z.string().optional().describe('srt://: stream id sent to the remote side'),
    interface: z.string().optional().describe('udp:// multicast: local interface address to join on'),
    multicast_source: z.string().optional().describe('udp:// multicast: source address for source-specific multicast (SSM)'),
    program: z.number().int().min(1).max(65535).optional().describe('MPEG-TS: program number to take from a multi-program transport stream'),
    loop: z.boolean().optional().describe('file://: loop the file as live (default true)'),
    publish_password: z.string().optional().describe('publish://: key the publisher must give (?key= or ?password=)'),
    failover_on: FailoverOnSchema.optional(),
    warm: z.boolean().optional().describe('warm standby: while another input is active, this one keeps running (connected, probed, transcoded when the stream transcodes) so failing over to it needs no start-up (default false)'),
  })
  .describe('one source of the stream');

export const VideoProfileSchema = z
  .strictObject({
    bitrate: Bitrate().describe('target video bitrate, e.g. 4000k'),
    size: FrameSizeStr().optional().describe('output frame size WIDTHxHEIGHT (-1/-2 keeps aspect on one side); default: source size'),
    codec: z.enum(['h264', 'h265', 'copy']).optional().describe('video codec (default h264)'),
    preset: z.string().optional().describe('encoder preset (x264: veryfast…; nvenc: p1…p7)'),
    profile: z.string().optional().describe('codec profile: baseline, main, high…'),
    level: z.string().optional().describe('codec level, e.g. 4.1'),
    fps: z.number().positive().max(240).optional().describe('output frame rate (default: source)'),
    gop: Duration().optional().describe('keyframe interval (time); defaults to the HLS segment duration'),
    bframes: z.number().int().min(0).max(16).optional().describe('number of B-frames'),
    maxrate: Bitrate().optional().describe('VBV maximum bitrate'),
    bufsize: Bitrate().optional().describe('VBV buffer size in bits, like ffmpeg -bufsize (e.g. 8000k); default 2 × maxrate'),
    name: z.string().optional().describe('profile label (default v1, v2, …)'),
  })
  .describe('one rung of the video ladder');

export const AudioSchema = z
  .strictObject({
    codec: z.enum(['aac', 'opus', 'mp3', 'copy']).optional().describe('audio codec (default aac)'),
    bitrate: Bitrate().optional().describe('audio bitrate (default 128k)'),
    channels: z.number().int().min(1).max(8).optional().describe('output channels (default: source)'),
    sample_rate: z.number().int().min(8000).max(96000).optional().describe('output sample rate in Hz (default: source)'),
    per_profile: z.boolean().optional().describe('encode audio for each profile instead of once'),
  })
  .describe('audio encoding');

export const LogoSchema = z
  .strictObject({
    path: z.string().min(1).describe('PNG file (relative to the config file)'),
    position: z.enum(['top-left', 'top-right', 'bottom-left', 'bottom-right', 'center']).optional().describe('corner (default top-right)'),
    x: z.number().int().optional().describe('horizontal margin in pixels (default 10)'),
    y: z.number().int().optional().describe('vertical margin in pixels (default 10)'),
    opacity: z.number().min(0).max(1).optional().describe('0..1 (default 1)'),
  })
  .describe('overlay a logo on every profile');

export const TranscoderSchema = z
  .strictObject({
    hw: z.enum(['cpu', 'nvenc', 'qsv', 'vaapi']).optional().describe('encoder hardware: cpu | nvenc | qsv | vaapi (default cpu)'),
    device: z.string().optional().describe('GPU index (nvenc/qsv) or DRM render node (vaapi, /dev/dri/renderD128)'),
    fallback: z.enum(['cpu', 'none']).optional().describe('when the hardware is absent: fall back to cpu, or fail (default none)'),
    deinterlace: z.union([z.boolean(), z.enum(['yadif', 'bwdif'])]).optional().describe('deinterlace the source: true (yadif), yadif or bwdif'),
    logo: LogoSchema.optional(),
    video: z.array(VideoProfileSchema).min(1).optional().describe('the ladder: one entry per output rendition'),
    audio: AudioSchema.optional(),
  })
  .describe('transcode the source into a ladder of renditions');

export const DvrSchema = z
  .strictObject({
    storage: z.string().optional().describe('name of a storage under the top-level dvr section'),
    path: z.string().optional().describe('directory for this stream\'s archive'),
    retention: Duration().optional().describe('keep this long (e.g. 7d)'),
    max_size: Size().optional().describe('keep at most this much (e.g. 500G)'),
    disk_usage_limit: Percent().optional().describe('delete oldest when the disk is fuller than this'),
    disk_headroom: Size().optional().describe('free space to keep on the disk beyond a few segments, evicting the oldest before writing (e.g. 1G)'),
  })
  .describe('record the stream (DVR); give storage or path');

export const PushSchema = z
  .union([
    z.string().min(1).describe('target URL: rtmp://, rtmps://, srt://, udp://, file://'),
    z.strictObject({
      url: z.string().min(1).describe('target URL: rtmp://, rtmps://, srt://, udp://, file://'),
      rendition: z.string().optional().describe('which rendition to push (default: the first)'),
      retry_delay: Duration().optional().describe('wait this long before reconnecting (default 2s)'),
      disabled: z.boolean().optional().describe('keep the entry but do not push'),
    }),
  ])
  .describe('restream target: a URL or { url, rendition, retry_delay, disabled }');

export const HlsSchema = z
  .strictObject({
    segment_duration: Duration().optional().describe('target segment duration (default 2s)'),
    window: z.number().int().min(2).max(100).optional().describe('segments in the live playlist (default 6)'),
    encrypt: z.boolean().optional().describe('AES-128 encrypt live segments; the key URLs need the same authorization as the playlist'),
    key_rotation: z.number().int().min(1).max(10000).optional().describe('hls.encrypt: a new key every this many segments (default 10)'),
    container: z.enum(['ts', 'fmp4']).optional().describe('segment container: ts (MPEG-TS, default) or fmp4 (CMAF .m4s with an init segment, EXT-X-MAP)'),
    low_latency: z.boolean().optional().describe('LL-HLS: partial segments, preload hints, blocking playlist reload, delta updates (implies container: fmp4)'),
    part_duration: Duration()
      .superRefine((v, ctx) => {
        let ms: number;
        try {
          ms = parseDuration(v as never);
        } catch {
          return; // reported by Duration
        }
        if (ms < 200) ctx.addIssue({ code: 'custom', message: `part_duration ${v} is below the minimum of 0.2s` });
      })
      .optional()
      .describe('LL-HLS part target (default 0.5s, at least 0.2s, below the segment duration)'),
  })
  .describe('HLS output');

export const StreamAuthSchema = z
  .strictObject({
    publish_password: z.string().optional().describe('key publishers must give (overrides auth.publish_password)'),
    play_token: z.boolean().optional().describe('players must present a token accepted by auth.play_backend'),
    secure_link: z.boolean().optional().describe('players must present a link signed with auth.securetoken'),
    play_backend: HttpUrl().optional().describe('HTTP backend asked to allow each play session (overrides auth.play_backend)'),
    on_play: HttpUrl().optional().describe('Flussonic\'s name for play_backend'),
    securetoken: z.string().min(8).optional().describe('secret of signed play links for this stream (overrides auth.securetoken)'),
    max_sessions: z.number().int().min(1).optional().describe('cap on concurrent play sessions of this stream'),
    publish_backend: HttpUrl().optional().describe('HTTP backend asked to allow each RTMP/SRT publisher (overrides auth.publish_backend)'),
    on_publish: HttpUrl().optional().describe('Flussonic\'s name for publish_backend'),
    allow_ips: z.array(Cidr()).optional().describe('only these addresses may play'),
    deny_ips: z.array(Cidr()).optional().describe('these addresses may not play'),
  })
  .describe('per-stream publish/play authorization');

const streamFields = {
  inputs: z.array(InputSchema).min(1).describe('sources in priority order'),
  title: z.string().optional().describe('human title shown in lists'),
  disabled: z.boolean().optional().describe('keep the stream in the config but do not run it'),
  transcoder: TranscoderSchema.optional(),
  dvr: DvrSchema.optional(),
  push: z.array(PushSchema).optional().describe('restream targets'),
  hls: HlsSchema.optional(),
  protocols: z
    .array(z.enum(['hls', 'll-hls', 'dash', 'mpegts']))
    .optional()
    .describe('playback protocols this stream is served with (default: all); the URLs of the others answer 404'),
  thumbnails: z.boolean().optional().describe('serve /<stream>/preview.jpg: the newest keyframe decoded once per segment (ffmpeg), cached; ?width= scales it'),
  auth: StreamAuthSchema.optional(),
  cluster_ingest: z.boolean().optional().describe('cluster: captured by exactly one live node, taken over by another when it dies'),
  capture_at: z.string().min(1).optional().describe('cluster_ingest: node preferred for the capture (soft: it takes the stream back after cluster.return_after)'),
};

export const StreamSchema = z.strictObject(streamFields).describe('one live stream');

export const TemplateSchema = z
  .strictObject({
    prefix: z.union([z.string(), z.array(z.string())]).describe('applies to streams whose name starts with this (or any of these)'),
    ...Object.fromEntries(Object.entries(streamFields).map(([k, v]) => [k, (v as z.ZodType).optional()])),
  } as Record<string, z.ZodType>)
  .describe('stream settings applied by name prefix; the stream\'s own keys win');

export const StorageSchema = z
  .strictObject({
    path: z.string().min(1).describe('root directory of this storage'),
    retention: Duration().optional().describe('default retention for streams on this storage'),
    max_size: Size().optional().describe('default size cap per stream'),
    disk_usage_limit: Percent().optional().describe('delete oldest when the disk is fuller than this'),
    disk_headroom: Size().optional().describe('default free space kept beyond a few segments (e.g. 1G)'),
  })
  .describe('a named DVR storage');

export const HttpsSchema = z
  .strictObject({
    port: Port().describe('HTTPS port: playback and /api/v3 over TLS'),
    cert: z.string().min(1).describe('PEM certificate (chain) file, relative to the config file; re-read when it changes'),
    key: z.string().min(1).describe('PEM private key file, relative to the config file; re-read when it changes'),
    http_mode: z.enum(['serve', 'redirect', 'off']).optional().describe('plain HTTP on server.http: serve (default), redirect to HTTPS (308), or off'),
  })
  .describe('TLS listener for playback and the API');

export const ServerSchema = z
  .strictObject({
    http: Port().optional().describe('playback + /api/v3 (default 8080)'),
    host: z.string().optional().describe('address to bind (default 0.0.0.0)'),
    rtmp: z.union([Port(), z.literal(false)], { error: 'expected a port 1..65535 or false' }).optional().describe('RTMP publish listener (default 1935; false to disable)'),
    srt: z.union([Port(), z.literal(false)], { error: 'expected a port 1..65535 or false' }).optional().describe('SRT publish listener (streamid selects the stream); off by default'),
    data_dir: z.string().optional().describe('segments and DVR of streams without a storage (default ./data)'),
    run_dir: z.string().optional().describe('node.sock, pid files, supervisor sockets (default ./run)'),
    log_dir: z.string().optional().describe('daemon logs (default: run_dir)'),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional().describe('daemon log level (default info)'),
    ffmpeg: z.string().optional().describe('ffmpeg binary (default: $FLUX_FFMPEG, then PATH)'),
    ffprobe: z.string().optional().describe('ffprobe binary (default: next to ffmpeg, then PATH)'),
    https: HttpsSchema.optional(),
    names: z.array(z.string().min(1)).optional().describe('host names this node is reached by (the API refuses other Host names: DNS rebinding guard)'),
    http_workers: z
      .union([z.number().int().min(0).max(256), z.literal('auto')], { error: 'expected a whole number 0..256 or auto' })
      .optional()
      .describe('playback worker processes sharing the plain HTTP port: 0 (default) = the agent serves alone; auto = one per CPU but one'),
  })
  .describe('ports, directories and binaries of this node');

export const ApiUserSchema = z
  .strictObject({
    name: z.string().min(1).describe('user name'),
    password_hash: z.string().min(1).describe('scrypt hash from `flux auth hash`'),
    role: z.enum(['admin', 'read']).optional().describe('admin (default) or read-only'),
  })
  .describe('an API user (HTTP Basic auth on /api/v3)');

export const AuthSchema = z
  .strictObject({
    users: z.array(ApiUserSchema).optional().describe('API users; when set, /api/v3 on the HTTP port requires Basic auth'),
    publish_password: z.string().optional().describe('default key publishers must give'),
    play_backend: HttpUrl().optional().describe('HTTP backend asked to allow each play session'),
    on_play: HttpUrl().optional().describe('Flussonic\'s name for play_backend'),
    fail_open: z.boolean().optional().describe('allow play/publish when the backend times out or is down (default false: deny)'),
    publish_backend: HttpUrl().optional().describe('HTTP backend asked to allow each RTMP/SRT publisher'),
    on_publish: HttpUrl().optional().describe('Flussonic\'s name for publish_backend'),
    session_timeout: Duration().optional().describe('a play session with no request for this long is closed (default 60s)'),
    securetoken: z.string().min(8).optional().describe('secret of signed play links (Flussonic securetoken) for streams with secure_link: true'),
    api_allow_ips: z.array(Cidr()).optional().describe('only these addresses may use /api/v3 on the HTTP port'),
    api_deny_ips: z.array(Cidr()).optional().describe('these addresses may not use /api/v3 on the HTTP port'),
    play_backend_timeout: Duration().optional().describe('how long to wait for the play backend (default 3s)'),
    play_cache: Duration().optional().describe('remember a backend decision this long (default 30s)'),
    play_default: z.enum(['allow', 'deny']).optional().describe('decision when the backend is unreachable (default deny); allow = fail_open: true'),
    secure_link_key: z.string().min(8).optional().describe('older name of securetoken (8+ characters)'),
    max_sessions: z.number().int().min(1).optional().describe('cap on concurrent play sessions'),
    allow_ips: z.array(Cidr()).optional().describe('only these addresses may play any stream'),
    deny_ips: z.array(Cidr()).optional().describe('these addresses may not play'),
  })
  .describe('API users, publish and play authorization');

export const ClusterSchema = z
  .strictObject({
    etcd: z.array(z.url({ error: 'expected an etcd endpoint URL, e.g. http://127.0.0.1:2379' })).min(1).describe('etcd endpoints'),
    node_name: z.string().min(1).optional().describe('this node\'s name in the cluster (default: hostname)'),
    advertise: HttpUrl().optional().describe('URL other nodes and players use to reach this node'),
    key_prefix: z.string().min(1).optional().describe('etcd key prefix (default /flux/)'),
    lease_ttl: Duration().optional().describe('membership lease; a node silent this long leaves the cluster (default 10s)'),
    return_after: Duration().optional().describe('a returning capture_at node must be a member this long before it takes its streams back (default 10s)'),
    cluster_key: z.string().min(8).optional().describe('shared secret of the cluster\'s nodes: sent by edges pulling from a peer; a wrong key is refused (403)'),
    max_bitrate: Bitrate().optional().describe('output capacity of this node, for the balancer\'s usage mode'),
    username: z.string().optional().describe('etcd user'),
    password: z.string().optional().describe('etcd password'),
  })
  .describe('cluster membership through etcd');

export const EventSinkSchema = z
  .strictObject({
    url: HttpUrl().describe('webhook: events are POSTed here as JSON arrays, in order'),
    only: z.array(z.enum(EVENT_NAMES)).optional().describe('send only these events (default: all)'),
    except: z.array(z.enum(EVENT_NAMES)).optional().describe('never send these events'),
  })
  .describe('an event sink (webhook)');

export const EventsSchema = z
  .strictObject({
    sinks: z.array(EventSinkSchema).optional().describe('webhooks that receive the node\'s events'),
  })
  .describe('event delivery');

export const VodLocationSchema = z
  .strictObject({
    path: z.string().min(1).describe('directory of MP4 files (relative to the config file), served as /vod/<location>/<file>.mp4/index.m3u8'),
  })
  .describe('a VOD location: MP4 files served as HLS without transcoding');
export const WebrtcSchema = z
  .strictObject({
    port_range: z
      .string()
      .regex(/^\d{1,5}-\d{1,5}$/, { error: 'expected a UDP port range such as 40000-40999' })
      .refine((v) => {
        if (!/^\d{1,5}-\d{1,5}$/.test(v)) return true; // the format error says it already
        const [a, b] = v.split('-').map(Number) as [number, number];
        return a >= 1024 && b <= 65535 && a < b;
      }, { error: 'two ports from 1024 to 65535, the first lower (e.g. 40000-40999)' })
      .optional()
      .describe('UDP ports for WebRTC ICE, "min-max" (default: any free port)'),
    ice_servers: z
      .array(
        z.strictObject({
          urls: z.string().regex(/^(stun|turn|turns):/, { error: 'expected a stun:, turn: or turns: URL' }).describe('stun:host:port, turn:host:port?transport=udp, turns:…'),
          username: z.string().optional().describe('TURN user'),
          credential: z.string().optional().describe('TURN password'),
        }),
      )
      .optional()
      .describe('STUN/TURN servers used to gather ICE candidates beyond the host addresses'),
    max_sessions: z.number().int().min(1).max(100_000).optional().describe('WHEP sessions at once; more are refused with 503 (default 200)'),
    ice_timeout: Duration().optional().describe('a WHEP session that has not connected this long after its offer is dropped (default 10s)'),
  })
  .describe('WebRTC (WHEP playback, WHIP ingest)');

export const StreamNameSchema = z.string().superRefine((name, ctx) => {
  const p = streamNameProblem(name);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

export const ConfigSchema = z
  .strictObject({
    server: ServerSchema.optional(),
    streams: z.record(z.string(), StreamSchema).optional().describe('live streams by name (names may contain /)'),
    templates: z.record(z.string(), TemplateSchema).optional().describe('settings shared by streams, matched by name prefix'),
    dvr: z.record(z.string(), StorageSchema).optional().describe('named DVR storages'),
    auth: AuthSchema.optional(),
    cluster: ClusterSchema.optional(),
    events: EventsSchema.optional(),
    vod: z.record(z.string(), VodLocationSchema).optional().describe('VOD locations by name: /vod/<name>/…'),
    webrtc: WebrtcSchema.optional(),
  })
  .describe('Flux media server configuration');

export type ConfigInput = z.input<typeof ConfigSchema>;
export type StreamInput = z.input<typeof StreamSchema>;
export type InputInput = z.input<typeof InputSchema>;
export type TranscoderInput = z.input<typeof TranscoderSchema>;

/** JSON Schema (draft 2020-12) of flux.yaml for editors and docs. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'flux.yaml' };
}
