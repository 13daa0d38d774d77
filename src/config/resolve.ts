/**
 * Validated input → ResolvedConfig: templates applied by name prefix, units normalized,
 * defaults filled, paths made absolute (relative to the config file's directory).
 */
import path from 'node:path';
import { availableParallelism, hostname } from 'node:os';
import type { ConfigInput, StreamInput, InputInput } from './schema.js';
import { parseBitrate, parseCcThreshold, parseDuration, parseFrameSize, parsePercent, parseSize } from './units.js';
import { safeJoin } from '../core/paths.js';
import { parseMosaicUrl } from '../ffmpeg/mosaic.js';
import {
  DEFAULTS,
  type ResolvedConfig,
  type ResolvedInput,
  type ResolvedStream,
  type ResolvedTranscoder,
  type ResolvedDvr,
  type ResolvedStorage,
  type ResolvedFailoverOn,
  type ResolvedMosaic,
} from './model.js';

type TemplateInput = NonNullable<ConfigInput['templates']>[string];

const opt = <T, R>(v: T | undefined, f: (v: T) => R): R | undefined => (v === undefined ? undefined : f(v));

/** Templates whose prefix matches the name, in config order; later ones override earlier ones. */
export function matchingTemplates(cfg: ConfigInput, name: string): [string, TemplateInput][] {
  return Object.entries(cfg.templates ?? {}).filter(([, t]) => {
    const prefixes = Array.isArray(t.prefix) ? t.prefix : [t.prefix];
    return prefixes.some((p) => name.startsWith(p as string));
  });
}

/** Shallow-per-section merge: the stream's own keys win over templates'. */
export function applyTemplates(cfg: ConfigInput, name: string, stream: StreamInput): StreamInput {
  let merged: Record<string, unknown> = {};
  for (const [, t] of matchingTemplates(cfg, name)) {
    const { prefix: _p, ...fields } = t as Record<string, unknown>;
    merged = mergeSection(merged, fields);
  }
  return mergeSection(merged, stream as Record<string, unknown>) as StreamInput;
}

function mergeSection(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] =
      b && v && typeof b === 'object' && typeof v === 'object' && !Array.isArray(b) && !Array.isArray(v)
        ? { ...(b as object), ...(v as object) }
        : v;
  }
  return out;
}

export function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? m[1]!.toLowerCase() : '';
}

function resolveInput(i: InputInput, index: number): ResolvedInput {
  return {
    url: i.url,
    scheme: schemeOf(i.url),
    // explicit priority wins; `backup: true` inputs come after primaries; otherwise list order
    priority: i.priority ?? (i.backup ? 50 + index : 1 + index),
    sourceTimeoutMs: opt(i.source_timeout, parseDuration) ?? DEFAULTS.sourceTimeoutMs,
    returnAfterMs: opt(i.return_after, parseDuration) ?? DEFAULTS.returnAfterMs,
    rtspTransport: i.rtsp_transport,
    srtLatencyMs: opt(i.srt_latency, parseDuration),
    srtPassphrase: i.srt_passphrase,
    srtStreamId: i.srt_streamid,
    interface: i.interface,
    loop: i.loop ?? true,
    publishPassword: i.publish_password,
    connectTimeoutMs: opt(i.connect_timeout, parseDuration),
    title: i.title,
    headers: i.headers,
    userAgent: i.user_agent,
    srtMode: schemeOf(i.url) === 'srt' ? (i.srt_mode ?? srtModeOf(i.url)) : undefined,
    multicastSource: i.multicast_source,
    program: i.program,
    ...(i.failover_on ? { failoverOn: resolveFailoverOn(i.failover_on) } : {}),
    ...(i.warm ? { warm: true } : {}),
  };
}

/** `failover_on`: a list takes the default thresholds; an object gives its own. */
export function resolveFailoverOn(f: NonNullable<InputInput['failover_on']>): ResolvedFailoverOn {
  if (Array.isArray(f)) {
    const d = DEFAULTS.failoverOn;
    return {
      ...(f.includes('black') ? { blackMs: d.blackMs } : {}),
      ...(f.includes('frozen') ? { frozenMs: d.frozenMs } : {}),
      ...(f.includes('silence') ? { silenceMs: d.silenceMs } : {}),
      ...(f.includes('cc_errors') ? { ccErrors: { ...d.ccErrors } } : {}),
    };
  }
  return {
    ...(f.black !== undefined ? { blackMs: parseDuration(f.black) } : {}),
    ...(f.frozen !== undefined ? { frozenMs: parseDuration(f.frozen) } : {}),
    ...(f.silence !== undefined ? { silenceMs: parseDuration(f.silence) } : {}),
    ...(f.cc_errors !== undefined ? { ccErrors: parseCcThreshold(f.cc_errors) } : {}),
  };
}

/** `?mode=listener` in the URL, or listener when there is no host (`srt://:9000`), else caller. */
function srtModeOf(url: string): 'caller' | 'listener' | 'rendezvous' {
  const m = /[?&]mode=(caller|listener|rendezvous)\b/i.exec(url);
  if (m) return m[1]!.toLowerCase() as 'caller' | 'listener' | 'rendezvous';
  return /^srt:\/\/(?:[^@/?#]*@)?(?::|\/|$)/i.test(url) ? 'listener' : 'caller';
}

function resolveTranscoder(t: NonNullable<StreamInput['transcoder']>, baseDir: string): ResolvedTranscoder {
  const video = (t.video ?? []).map((p, i) => {
    const size = opt(p.size, parseFrameSize);
    return {
      name: p.name ?? `v${i + 1}`,
      codec: p.codec ?? 'h264',
      bitrate: parseBitrate(p.bitrate),
      width: size?.width,
      height: size?.height,
      preset: p.preset,
      profile: p.profile,
      level: p.level,
      fps: p.fps,
      gopMs: opt(p.gop, parseDuration),
      bframes: p.bframes,
      maxrate: opt(p.maxrate, parseBitrate),
      bufsize: opt(p.bufsize, parseBitrate),
    };
  });
  const a = t.audio ?? {};
  return {
    hw: t.hw ?? 'cpu',
    device: t.device,
    fallback: t.fallback ?? 'none',
    deinterlace: t.deinterlace === true ? 'yadif' : t.deinterlace || false,
    logo: t.logo && {
      path: path.resolve(baseDir, t.logo.path),
      position: t.logo.position ?? 'top-right',
      x: t.logo.x ?? 10,
      y: t.logo.y ?? 10,
      opacity: t.logo.opacity ?? 1,
    },
    video,
    audio: {
      codec: a.codec ?? 'aac',
      bitrate: opt(a.bitrate, parseBitrate) ?? DEFAULTS.audioBitrate,
      channels: a.channels,
      sampleRate: a.sample_rate,
      perProfile: a.per_profile ?? false,
    },
  };
}

function resolveStorage(name: string, s: NonNullable<ConfigInput['dvr']>[string], baseDir: string): ResolvedStorage {
  return {
    name,
    path: path.resolve(baseDir, s.path),
    retentionMs: opt(s.retention, parseDuration),
    maxSizeBytes: opt(s.max_size, parseSize),
    diskUsageLimitPercent: opt(s.disk_usage_limit, parsePercent),
    diskHeadroomBytes: opt(s.disk_headroom, parseSize),
  };
}

export function resolveStream(
  cfg: ConfigInput,
  name: string,
  raw: StreamInput,
  ctx: { baseDir: string; dataDir: string; storages: Record<string, ResolvedStorage> },
): ResolvedStream {
  const s = applyTemplates(cfg, name, raw);
  const transcoder = s.transcoder?.video?.length ? resolveTranscoder(s.transcoder, ctx.baseDir) : undefined;
  let dvr: ResolvedDvr | undefined;
  if (s.dvr) {
    const st = s.dvr.storage ? ctx.storages[s.dvr.storage] : undefined;
    const root = s.dvr.path
      ? path.resolve(ctx.baseDir, s.dvr.path)
      : st
        ? safeJoin(st.path, name)
        : safeJoin(ctx.dataDir, name);
    dvr = {
      root,
      storage: s.dvr.storage,
      retentionMs: opt(s.dvr.retention, parseDuration) ?? st?.retentionMs,
      maxSizeBytes: opt(s.dvr.max_size, parseSize) ?? st?.maxSizeBytes,
      diskUsageLimitPercent: opt(s.dvr.disk_usage_limit, parsePercent) ?? st?.diskUsageLimitPercent,
      diskHeadroomBytes: opt(s.dvr.disk_headroom, parseSize) ?? st?.diskHeadroomBytes,
    };
  }
  const inputs = s.inputs.map(resolveInput).sort((a, b) => a.priority - b.priority);
  return {
    name,
    title: s.title,
    disabled: s.disabled ?? false,
    inputs,
    transcoder,
    root: dvr?.root ?? safeJoin(ctx.dataDir, name),
    dvr,
    push: (s.push ?? []).map((p) =>
      typeof p === 'string'
        ? { url: p, retryDelayMs: DEFAULTS.pushRetryDelayMs, disabled: false }
        : {
            url: p.url,
            rendition: p.rendition,
            retryDelayMs: opt(p.retry_delay, parseDuration) ?? DEFAULTS.pushRetryDelayMs,
            disabled: p.disabled ?? false,
          },
    ),
    ...(s.thumbnails ? { thumbnails: true } : {}),
    ...(s.protocols ? { protocols: [...new Set(s.protocols)] } : {}),
    hls: {
      segmentDurationMs: opt(s.hls?.segment_duration, parseDuration) ?? DEFAULTS.segmentDurationMs,
      window: s.hls?.window ?? DEFAULTS.window,
      ...(s.hls?.encrypt !== undefined && { encrypt: s.hls.encrypt }),
      ...(s.hls?.key_rotation !== undefined && { keyRotation: s.hls.key_rotation }),
      // only fmp4 is written out: streams left at ts keep the spec (and spec hash) they had before
      ...((s.hls?.container ?? (s.hls?.low_latency ? 'fmp4' : 'ts')) === 'fmp4' ? { container: 'fmp4' as const } : {}),
      ...(s.hls?.low_latency ? { lowLatency: { partDurationMs: opt(s.hls.part_duration, parseDuration) ?? DEFAULTS.partDurationMs } } : {}),
    },
    auth: {
      publishPassword: s.auth?.publish_password ?? inputs.find((i) => i.publishPassword)?.publishPassword ?? cfg.auth?.publish_password,
      playToken: s.auth?.play_token ?? false,
      secureLink: s.auth?.secure_link ?? false,
      playBackend: s.auth?.play_backend ?? s.auth?.on_play,
      securetoken: s.auth?.securetoken,
      maxSessions: s.auth?.max_sessions,
      publishBackend: s.auth?.publish_backend ?? s.auth?.on_publish,
      allowIps: s.auth?.allow_ips,
      denyIps: s.auth?.deny_ips,
    },
    renditions: transcoder ? transcoder.video.map((_, i) => `v${i + 1}a1`) : ['v1a1'],
    ...(s.cluster_ingest ? { cluster: { ingest: true as const, ...(s.capture_at ? { captureAt: s.capture_at } : {}) } } : {}),
  };
}

/**
 * mosaic:// inputs → their tiles' live playlists, from the tile streams' resolved roots and first
 * renditions (a supervisor gets its whole spec and never reads the config). `streams` are the ones
 * the tiles may name; `targets` the ones whose inputs are linked (default: all of them). A tile
 * naming no known stream (refused by validate; possible with cluster streams) points where that
 * stream would write under the data dir. A URL that does not parse is left without `mosaic`: the
 * supervisor reports the reason.
 */
export function linkMosaicInputs(streams: Record<string, ResolvedStream>, dataDir: string, targets: Record<string, ResolvedStream> = streams): void {
  for (const s of Object.values(targets)) {
    s.inputs.forEach((input, i) => {
      if (input.scheme !== 'mosaic') return;
      try {
        s.inputs[i] = { ...input, mosaic: resolveMosaic(input.url, streams, dataDir) };
      } catch {
        /* validate reports it; the supervisor says why it cannot run */
      }
    });
  }
}

function resolveMosaic(url: string, streams: Record<string, ResolvedStream>, dataDir: string): ResolvedMosaic {
  const m = parseMosaicUrl(url);
  const tiles = m.tiles.map((name) => {
    const t = Object.prototype.hasOwnProperty.call(streams, name) ? streams[name] : undefined;
    const root = t?.root ?? safeJoin(dataDir, name);
    const rendition = t?.renditions[0] ?? 'v1a1';
    const playlist = path.join(safeJoin(root, rendition), 'index.m3u8');
    const fallback = path.join(safeJoin(safeJoin(dataDir, name), rendition), 'index.m3u8');
    return {
      name,
      playlist,
      ...(fallback !== playlist ? { fallbackPlaylist: fallback } : {}),
      segmentDurationMs: t?.hls.segmentDurationMs ?? DEFAULTS.segmentDurationMs,
    };
  });
  const { tiles: _names, ...opts } = m;
  return { ...opts, tiles };
}

/** `file` is the config path (relative paths resolve against its directory). */
export function resolveConfig(cfg: ConfigInput, file?: string): ResolvedConfig {
  const baseDir = file ? path.dirname(path.resolve(file)) : process.cwd();
  const srv = cfg.server ?? {};
  const dataDir = path.resolve(baseDir, srv.data_dir ?? DEFAULTS.dataDir);
  const storages: Record<string, ResolvedStorage> = {};
  for (const [n, s] of Object.entries(cfg.dvr ?? {})) storages[n] = resolveStorage(n, s, baseDir);
  const streams: Record<string, ResolvedStream> = {};
  for (const [n, s] of Object.entries(cfg.streams ?? {})) streams[n] = resolveStream(cfg, n, s, { baseDir, dataDir, storages });
  linkMosaicInputs(streams, dataDir);
  return {
    file: file ? path.resolve(file) : undefined,
    server: {
      host: srv.host ?? DEFAULTS.host,
      http: srv.http ?? DEFAULTS.http,
      rtmp: srv.rtmp === undefined ? DEFAULTS.rtmp : srv.rtmp,
      srt: srv.srt ?? false,
      dataDir,
      runDir: path.resolve(baseDir, srv.run_dir ?? DEFAULTS.runDir),
      logDir: opt(srv.log_dir, (d) => path.resolve(baseDir, d)),
      logLevel: srv.log_level ?? 'info',
      ffmpeg: srv.ffmpeg,
      ffprobe: srv.ffprobe,
      names: srv.names,
      httpWorkers: srv.http_workers === 'auto' ? Math.max(1, availableParallelism() - 1) : (srv.http_workers ?? 0),
      https: srv.https && {
        port: srv.https.port,
        cert: path.resolve(baseDir, srv.https.cert),
        key: path.resolve(baseDir, srv.https.key),
        httpMode: srv.https.http_mode ?? 'serve',
      },
    },
    streams,
    storages,
    auth: {
      users: (cfg.auth?.users ?? []).map((u) => ({ name: u.name, passwordHash: u.password_hash, role: u.role ?? 'admin' })),
      playBackend: cfg.auth?.play_backend ?? cfg.auth?.on_play,
      publishPassword: cfg.auth?.publish_password,
      secureLinkKey: cfg.auth?.securetoken ?? cfg.auth?.secure_link_key,
      maxSessions: cfg.auth?.max_sessions,
      playBackendTimeoutMs: opt(cfg.auth?.play_backend_timeout, parseDuration) ?? DEFAULTS.playBackendTimeoutMs,
      playCacheMs: opt(cfg.auth?.play_cache, parseDuration) ?? DEFAULTS.playCacheMs,
      playDefault: cfg.auth?.play_default ?? 'deny',
      allowIps: cfg.auth?.allow_ips,
      denyIps: cfg.auth?.deny_ips,
      failOpen: cfg.auth?.fail_open ?? cfg.auth?.play_default === 'allow',
      publishBackend: cfg.auth?.publish_backend ?? cfg.auth?.on_publish,
      sessionTimeoutMs: opt(cfg.auth?.session_timeout, parseDuration) ?? DEFAULTS.sessionTimeoutMs,
      apiAllowIps: cfg.auth?.api_allow_ips,
      apiDenyIps: cfg.auth?.api_deny_ips,
    },
    events: { sinks: (cfg.events?.sinks ?? []).map((k) => ({ url: k.url, only: k.only, except: k.except })) },
    webrtc: {
      portRange: cfg.webrtc?.port_range ? (cfg.webrtc.port_range.split('-').map(Number) as [number, number]) : undefined,
      iceServers: (cfg.webrtc?.ice_servers ?? []).map((x) => ({ urls: x.urls, username: x.username, credential: x.credential })),
      maxSessions: cfg.webrtc?.max_sessions ?? 200,
      iceTimeoutMs: opt(cfg.webrtc?.ice_timeout, parseDuration) ?? 10_000,
    },
    cluster: cfg.cluster && {
      etcd: cfg.cluster.etcd,
      nodeName: cfg.cluster.node_name ?? hostname(),
      advertise: cfg.cluster.advertise,
      keyPrefix: cfg.cluster.key_prefix ?? DEFAULTS.clusterKeyPrefix,
      leaseTtlMs: opt(cfg.cluster.lease_ttl, parseDuration) ?? DEFAULTS.clusterLeaseTtlMs,
      returnAfterMs: opt(cfg.cluster.return_after, parseDuration) ?? DEFAULTS.clusterReturnAfterMs,
      clusterKey: cfg.cluster.cluster_key,
      maxBitrate: opt(cfg.cluster.max_bitrate, parseBitrate),
      username: cfg.cluster.username,
      password: cfg.cluster.password,
    },
    ...(cfg.vod ? { vod: Object.fromEntries(Object.entries(cfg.vod).map(([n, v]) => [n, { path: path.resolve(baseDir, v.path) }])) } : {}),
  };
}
