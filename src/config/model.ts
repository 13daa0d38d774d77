/**
 * The resolved model: what daemons consume. Units normalized (ms, bytes, bit/s), templates applied,
 * defaults filled, paths absolute. A supervisor receives one ResolvedStream as its whole spec.
 */
export type HwBackend = 'cpu' | 'nvenc' | 'qsv' | 'vaapi';

export interface ResolvedInput {
  url: string;
  scheme: string;
  priority: number;
  sourceTimeoutMs: number;
  returnAfterMs: number;
  rtspTransport?: 'tcp' | 'udp';
  srtLatencyMs?: number;
  srtPassphrase?: string;
  srtStreamId?: string;
  interface?: string;
  loop: boolean;
  publishPassword?: string;
  /** pulled sources: connect timeout (default: sourceTimeoutMs) */
  connectTimeoutMs?: number;
  title?: string;
  /** http/hls/tshttp: extra request headers */
  headers?: Record<string, string>;
  userAgent?: string;
  /** srt:// connection mode (from `srt_mode:` or `?mode=` in the URL; default caller, listener for `srt://:port`) */
  srtMode?: 'caller' | 'listener' | 'rendezvous';
  /** udp multicast: SSM source address */
  multicastSource?: string;
  /** MPEG-TS program number to take */
  program?: number;
  /** fail over on bad media too (black/frozen picture, silence, CC errors) */
  failoverOn?: ResolvedFailoverOn;
  /** warm standby: runs while another input is active */
  warm?: boolean;
  /** mosaic:// inputs: the URL's options and the live playlists of its tiles (resolved from the other streams) */
  mosaic?: ResolvedMosaic;
}

/** A mosaic tile: the stream it shows and where that stream's live playlist is on disk. */
export interface ResolvedMosaicTile {
  name: string;
  /** absolute path of the tile stream's first rendition's live media playlist */
  playlist: string;
  /**
   * where that playlist is while the tile stream's root is unwritable (its live output moves to
   * `<data_dir>/<stream>`; see src/daemons/stream/live-storage.ts); absent when it is the same
   */
  fallbackPlaylist?: string;
  /** the tile stream's segment duration: its playlist is stale after three of them */
  segmentDurationMs: number;
}

export interface ResolvedMosaic {
  tiles: ResolvedMosaicTile[];
  cols: number;
  rows: number;
  width: number;
  height: number;
  /** frame rate as ffmpeg writes it (`25`, `30000/1001`) */
  fps: string;
  fpsValue: number;
  /** video bitrate from the URL (bitrate=); absent: the default for the size, or the transcoder's ladder */
  bitrate?: number;
  labels: boolean;
  /** the tile whose audio the mosaic carries; absent: silence */
  audio?: string;
}

export interface ResolvedFailoverOn {
  blackMs?: number;
  frozenMs?: number;
  silenceMs?: number;
  ccErrors?: { count: number; windowMs: number };
}

export interface ResolvedVideoProfile {
  name: string;
  codec: 'h264' | 'h265' | 'copy';
  bitrate: number;
  width?: number;
  height?: number;
  preset?: string;
  profile?: string;
  level?: string;
  fps?: number;
  gopMs?: number;
  bframes?: number;
  maxrate?: number;
  /** VBV buffer in bits (ffmpeg -bufsize) */
  bufsize?: number;
}

export interface ResolvedAudio {
  codec: 'aac' | 'opus' | 'mp3' | 'copy';
  bitrate: number;
  channels?: number;
  sampleRate?: number;
  perProfile: boolean;
}

export interface ResolvedTranscoder {
  hw: HwBackend;
  device?: string;
  fallback: 'cpu' | 'none';
  deinterlace: false | 'yadif' | 'bwdif';
  logo?: { path: string; position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'center'; x: number; y: number; opacity: number };
  video: ResolvedVideoProfile[];
  audio: ResolvedAudio;
}

export interface ResolvedDvr {
  /** absolute directory holding this stream's renditions */
  root: string;
  storage?: string;
  retentionMs?: number;
  maxSizeBytes?: number;
  diskUsageLimitPercent?: number;
  /** free space kept beyond a few segments' worth (dvr disk_headroom) */
  diskHeadroomBytes?: number;
}

export interface ResolvedPush {
  url: string;
  rendition?: string;
  retryDelayMs: number;
  disabled: boolean;
}

export interface ResolvedStream {
  name: string;
  title?: string;
  disabled: boolean;
  inputs: ResolvedInput[];
  transcoder?: ResolvedTranscoder;
  /** absolute directory of this stream's segments (dvr root when dvr is on, else <data_dir>/<name>) */
  root: string;
  dvr?: ResolvedDvr;
  push: ResolvedPush[];
  /** container: absent in specs written before it existed, which means ts */
  hls: { segmentDurationMs: number; window: number; container?: 'ts' | 'fmp4'; lowLatency?: { partDurationMs: number }; encrypt?: boolean; keyRotation?: number };
  /** preview.jpg is served (absent = false) */
  thumbnails?: boolean;
  /** playback protocol allow list (absent = all) */
  protocols?: ('hls' | 'll-hls' | 'dash' | 'mpegts')[];
  auth: {
    publishPassword?: string;
    playToken: boolean;
    secureLink: boolean;
    /** stream override of auth.play_backend (play_backend or on_play) */
    playBackend?: string;
    /** stream override of auth.securetoken */
    securetoken?: string;
    maxSessions?: number;
    /** stream override of auth.publish_backend (publish_backend or on_publish) */
    publishBackend?: string;
    allowIps?: string[];
    denyIps?: string[];
  };
  /** rendition names in order: ['v1a1'] for passthrough, ['v1a1','v2a1',…] for a ladder */
  renditions: string[];
  /** cluster_ingest: one live node of the cluster captures it (absent for ordinary streams) */
  cluster?: { ingest: true; captureAt?: string };
}

export interface ResolvedServer {
  host: string;
  http: number;
  rtmp: number | false;
  srt: number | false;
  dataDir: string;
  runDir: string;
  logDir?: string;
  logLevel: string;
  ffmpeg?: string;
  ffprobe?: string;
  /** extra Host names the API answers to (server.names) */
  names?: string[];
  /** playback worker processes on the plain HTTP port (server.http_workers; auto resolved: CPUs − 1, at least 1) */
  httpWorkers: number;
  /** TLS listener (server.https); cert and key absolute */
  https?: { port: number; cert: string; key: string; httpMode: 'serve' | 'redirect' | 'off' };
}

export interface ResolvedStorage {
  name: string;
  path: string;
  retentionMs?: number;
  maxSizeBytes?: number;
  diskUsageLimitPercent?: number;
  diskHeadroomBytes?: number;
}

export interface ResolvedConfig {
  /** absolute path of the file it came from, or undefined for the embedded demo */
  file?: string;
  server: ResolvedServer;
  streams: Record<string, ResolvedStream>;
  storages: Record<string, ResolvedStorage>;
  auth: {
    users: { name: string; passwordHash: string; role: 'admin' | 'read' }[];
    playBackend?: string;
    publishPassword?: string;
    secureLinkKey?: string;
    maxSessions?: number;
    playBackendTimeoutMs?: number;
    playCacheMs?: number;
    playDefault?: 'allow' | 'deny';
    allowIps?: string[];
    denyIps?: string[];
    /** backend failures allow (fail_open: true, or play_default: allow) */
    failOpen?: boolean;
    publishBackend?: string;
    sessionTimeoutMs?: number;
    apiAllowIps?: string[];
    apiDenyIps?: string[];
  };
  events: {
    sinks: { url: string; only?: string[]; except?: string[] }[];
  };
  /** vod: locations by name (absolute directories) */
  vod?: Record<string, { path: string }>;
  /** WHEP playback (src/webrtc) */
  webrtc: {
    portRange?: [number, number];
    iceServers: { urls: string; username?: string; credential?: string }[];
    maxSessions: number;
    iceTimeoutMs: number;
  };
  cluster?: {
    etcd: string[];
    nodeName: string;
    advertise?: string;
    keyPrefix?: string;
    leaseTtlMs?: number;
    returnAfterMs?: number;
    clusterKey?: string;
    maxBitrate?: number;
    username?: string;
    password?: string;
  };
}

export const DEFAULTS = {
  /** `failover_on: [black, frozen, silence, cc_errors]` thresholds */
  failoverOn: { blackMs: 5000, frozenMs: 5000, silenceMs: 10_000, ccErrors: { count: 20, windowMs: 10_000 } },
  http: 8080,
  rtmp: 1935,
  host: '0.0.0.0',
  dataDir: './data',
  runDir: './run',
  sourceTimeoutMs: 5000,
  returnAfterMs: 10_000,
  segmentDurationMs: 2000,
  /** LL-HLS part target */
  partDurationMs: 500,
  window: 6,
  audioBitrate: 128_000,
  pushRetryDelayMs: 2000,
  playBackendTimeoutMs: 3000,
  playCacheMs: 30_000,
  sessionTimeoutMs: 60_000,
  clusterKeyPrefix: '/flux/',
  clusterLeaseTtlMs: 10_000,
  clusterReturnAfterMs: 10_000,
} as const;
