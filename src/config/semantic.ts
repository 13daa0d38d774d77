/**
 * Checks the schema cannot express: stream names, references, listener ports, URL schemes.
 *
 * They run on the raw parsed data even when the schema rejected parts of it, so one run reports
 * every problem: every check looks at the shape it needs and silently skips what is malformed
 * (the schema already reported that). Returns issues with YAML offsets; load.ts turns them into
 * file:line:col.
 *
 * Listener ports: a port is a conflict only within one transport. UDP listeners are server.srt,
 * udp:// and rtp:// inputs, and srt:// inputs in listener mode; TCP listeners are server.http and
 * server.rtmp. Two UDP listeners conflict when they use the same port and the same address, or
 * when either listens on every address (udp://:1234, udp://0.0.0.0:1234, server.srt); two
 * multicast groups on one port are fine, and so are two receivers of one group and port (the UDP
 * source binds with SO_REUSEADDR). A disabled stream listens on nothing: its inputs take no port.
 */
import type { Document } from 'yaml';
import { INPUT_SCHEMES, PUSH_SCHEMES } from './schema.js';
import { pushUrlIssue } from '../ffmpeg/args.js';
import { fakeUrlProblem } from '../ffmpeg/test-pattern.js';
import { parseMosaicUrl, type MosaicUrl } from '../ffmpeg/mosaic.js';
import { streamNameProblem } from '../core/paths.js';
import { isMulticast } from '../core/net.js';
import { nodeAt, findKeyNode, formatPath } from './yaml-pos.js';
import { DEFAULTS } from './model.js';
import { parseDuration } from './units.js';
import { applyTemplates, schemeOf } from './resolve.js';
import { unsupportedKeys } from './unsupported.js';

export interface SemanticIssue {
  offset: number | undefined;
  message: string;
  path: (string | number)[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);


interface Listener {
  host: string;
  port: number;
  where: string;
  path: (string | number)[];
}

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]', '*']);

/** host/port of a udp://, rtp:// or srt:// URL (`udp://@239.0.0.1:1234`, `udp://:1234`, `srt://[::1]:9000`). */
export function listenAddress(url: string): { host: string; port: number | undefined; portText: string | undefined; query: string } | undefined {
  const m = /^[a-z]+:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?[^?#]*(?:\?([^#]*))?/i.exec(url);
  if (!m) return undefined;
  const portText = m[2];
  const port = portText !== undefined && /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
  return { host: (m[1] ?? '').toLowerCase(), port, portText, query: m[3] ?? '' };
}

/** `doc` may be a function: the document is then only parsed when there is an issue to place. */
export function semanticIssues(cfg: unknown, docOrGet: Document | (() => Document)): SemanticIssue[] {
  const out: SemanticIssue[] = [];
  const add = (p: (string | number)[], message: string, key = false) => {
    const doc = typeof docOrGet === 'function' ? docOrGet() : docOrGet;
    const node = key ? findKeyNode(doc, p.slice(0, -1), String(p[p.length - 1])) : nodeAt(doc, p);
    out.push({ offset: node?.range?.[0], message, path: p });
  };
  if (!isObj(cfg)) return out;

  const storageNames = isObj(cfg.dvr) ? Object.keys(cfg.dvr) : [];
  // vod location names are one URL segment: /vod/<name>/…
  if (isObj(cfg.vod)) for (const n of Object.keys(cfg.vod)) if (!/^[A-Za-z0-9_-]{1,64}$/.test(n)) add(['vod', n], `vod location name "${n}": use 1..64 of A-Z a-z 0-9 _ -`, true);
  const auth = isObj(cfg.auth) ? cfg.auth : {};
  const srv = isObj(cfg.server) ? cfg.server : {};
  const udp: Listener[] = [];

  // server listeners
  const tcp: [string, number][] = [];
  const http = srv.http === undefined ? DEFAULTS.http : srv.http;
  const rtmp = srv.rtmp === undefined ? DEFAULTS.rtmp : srv.rtmp;
  if (typeof http === 'number') tcp.push(['http', http]);
  if (typeof rtmp === 'number') tcp.push(['rtmp', rtmp]);
  if (typeof http === 'number' && typeof rtmp === 'number' && http === rtmp) {
    add(['server', srv.rtmp === undefined ? 'http' : 'rtmp'], `server.rtmp port ${rtmp} is already used by server.http`);
  }
  const tls = isObj(srv.https) ? srv.https : undefined;
  if (tls && typeof tls.port === 'number') {
    const clash = tcp.find(([, p]) => p === tls.port);
    if (clash) add(['server', 'https', 'port'], `server.https port ${tls.port} is already used by server.${clash[0]}`);
  }
  if (typeof srv.srt === 'number') udp.push({ host: '', port: srv.srt, where: 'server.srt', path: ['server', 'srt'] });

  const streams = isObj(cfg.streams) ? cfg.streams : {};
  for (const [name, s] of Object.entries(streams)) {
    const problem = streamNameProblem(name);
    if (problem) add(['streams', name], `invalid stream name ${JSON.stringify(name)}: ${problem}`, true);
    if (!isObj(s)) continue;
    const sp = ['streams', name];

    arr(s.inputs).forEach((inp, i) => {
      if (!isObj(inp)) return;
      const url = str(inp.url);
      const ip = [...sp, 'inputs', i];
      // failover_on switches to another input: alone, it would be a key without effect
      if (inp.failover_on !== undefined && arr(s.inputs).length < 2) add([...ip, 'failover_on'], 'failover_on needs another input to fail over to', true);
      if (inp.warm !== undefined && arr(s.inputs).length < 2) add([...ip, 'warm'], 'warm (standby) needs another input: it runs while another input is active', true);
      if (url === undefined || url === '') return;
      const scheme = schemeOf(url);
      if (!scheme) {
        add([...ip, 'url'], `input URL "${url}" has no scheme: expected one of ${INPUT_SCHEMES.map((x) => `${x}://`).join(', ')}`);
        return;
      }
      if (!(INPUT_SCHEMES as readonly string[]).includes(scheme)) {
        add([...ip, 'url'], `unsupported input URL scheme "${scheme}": expected one of ${INPUT_SCHEMES.join(', ')}`);
        return;
      }
      if (inp.rtsp_transport !== undefined && !scheme.startsWith('rtsp')) add([...ip, 'rtsp_transport'], 'rtsp_transport applies only to rtsp:// inputs', true);
      for (const k of ['srt_mode', 'srt_latency', 'srt_passphrase', 'srt_streamid'] as const) {
        if (inp[k] !== undefined && scheme !== 'srt') add([...ip, k], `${k} applies only to srt:// inputs`, true);
      }
      for (const k of ['interface', 'multicast_source'] as const) {
        if (inp[k] !== undefined && scheme !== 'udp' && scheme !== 'rtp') add([...ip, k], `${k} applies only to udp:// and rtp:// inputs`, true);
      }
      if (inp.publish_password !== undefined && scheme !== 'publish') add([...ip, 'publish_password'], 'publish_password applies only to publish:// inputs', true);
      if (inp.loop !== undefined && scheme !== 'file') add([...ip, 'loop'], 'loop applies only to file:// inputs', true);
      if (inp.headers !== undefined && !/^(https?|tshttps?|hlss?)$/.test(scheme)) add([...ip, 'headers'], 'headers apply only to http(s)://, tshttp(s):// and hls(s):// inputs', true);

      if (scheme === 'udp' || scheme === 'rtp' || scheme === 'srt') {
        const a = listenAddress(url);
        if (!a || a.port === undefined || a.port < 1 || a.port > 65535) {
          add([...ip, 'url'], `${scheme}:// input needs a port 1..65535, e.g. ${scheme}://${scheme === 'srt' ? ':9000?mode=listener' : '239.0.0.1:1234'}`);
          return;
        }
        const modeInUrl = /(?:^|&)mode=([a-z]+)/i.exec(a.query)?.[1]?.toLowerCase();
        const listens = scheme !== 'srt' || inp.srt_mode === 'listener' || modeInUrl === 'listener' || (a.host === '' && inp.srt_mode === undefined && modeInUrl === undefined);
        if (listens && s.disabled !== true) udp.push({ host: a.host.replace(/^@/, ''), port: a.port, where: formatPath([...ip, 'url']), path: [...ip, 'url'] });
      } else if (scheme === 'fake') {
        const problem = fakeUrlProblem(url);
        if (problem) add([...ip, 'url'], problem);
      } else if (scheme === 'mosaic') {
        mosaicCheck(cfg, streams, name, s, url, [...ip, 'url'], add);
      } else if (scheme !== 'publish') {
        if (scheme === 'file') {
          if (!/^file:\/\/.+/.test(url)) add([...ip, 'url'], 'file:// input needs a path, e.g. file:///srv/video/loop.mp4');
        } else if (scheme === 'peer') {
          if (!/^peer:\/\/[^/?#@:]+(\/[^?#]+)?$/i.test(url)) add([...ip, 'url'], `peer:// input "${url}": expected peer://NODE or peer://NODE/STREAM (a cluster node's stream)`);
        } else if (!URL.canParse(url.replace(/^[a-z0-9+.-]+:/i, 'http:'))) {
          add([...ip, 'url'], `invalid URL "${url}"`);
        }
      }
    });

    fmp4DvrCheck(cfg, name, s, sp, add);
    protocolsCheck(cfg, name, s, sp, add);

    const dvr = s.dvr;
    if (isObj(dvr)) {
      const storage = str(dvr.storage);
      if (storage !== undefined && !storageNames.includes(storage)) {
        add([...sp, 'dvr', 'storage'], `unknown dvr storage "${storage}"${storageNames.length ? ` (defined: ${storageNames.join(', ')})` : ' (no storages defined under top-level dvr:)'}`);
      }
      if (dvr.storage !== undefined && dvr.path !== undefined) add([...sp, 'dvr', 'path'], 'dvr: give either storage or path, not both', true);
    }

    arr(s.push).forEach((p, i) => {
      const url = typeof p === 'string' ? p : isObj(p) ? str(p.url) : undefined;
      if (!url) return;
      const scheme = schemeOf(url);
      if (!(PUSH_SCHEMES as readonly string[]).includes(scheme)) {
        const at = typeof p === 'string' ? [...sp, 'push', i] : [...sp, 'push', i, 'url'];
        add(at, scheme ? `unsupported push URL scheme "${scheme}": expected one of ${PUSH_SCHEMES.join(', ')}` : `push URL "${url}" has no scheme: expected one of ${PUSH_SCHEMES.map((x) => `${x}://`).join(', ')}`);
      }
      const why = pushUrlIssue(url);
      if (why) add(typeof p === 'string' ? [...sp, 'push', i] : [...sp, 'push', i, 'url'], why);
    });

    const tr = s.transcoder;
    if (isObj(tr)) {
      const names = new Map<string, number>();
      arr(tr.video).forEach((v, i) => {
        if (!isObj(v) || typeof v.name !== 'string') return;
        if (names.has(v.name)) add([...sp, 'transcoder', 'video', i, 'name'], `duplicate profile name "${v.name}" (also used by video[${names.get(v.name)}])`);
        else names.set(v.name, i);
      });
    }

    // templates count: the stream's effective hls.encrypt and dvr (its own keys win)
    const tpls = Object.values(isObj(cfg.templates) ? cfg.templates : {}).filter((tp): tp is Obj => isObj(tp) && (Array.isArray(tp.prefix) ? tp.prefix : [tp.prefix]).some((p) => typeof p === 'string' && p !== '' && name.startsWith(p)));
    const hlsKey = (k: string): unknown => (isObj(s.hls) && s.hls[k] !== undefined ? s.hls[k] : tpls.reduce<unknown>((v, tp) => (isObj(tp.hls) && tp.hls[k] !== undefined ? tp.hls[k] : v), undefined));
    const encrypt = hlsKey('encrypt');
    if (encrypt === true && (hlsKey('container') === 'fmp4' || hlsKey('low_latency') === true)) {
      add(isObj(s.hls) && s.hls.encrypt !== undefined ? [...sp, 'hls', 'encrypt'] : ['streams', name], 'hls.encrypt with fmp4 or low_latency is not supported yet (AES-128 is applied to TS segments)', isObj(s.hls) && s.hls.encrypt !== undefined);
    }
    const hasDvr = s.dvr !== undefined || tpls.some((tp) => tp.dvr !== undefined);
    if (encrypt === true && hasDvr) {
      add(isObj(s.hls) && s.hls.encrypt !== undefined ? [...sp, 'hls', 'encrypt'] : ['streams', name], 'hls.encrypt with dvr is not supported yet (archive playlists carry no keys)', isObj(s.hls) && s.hls.encrypt !== undefined);
    }
    if (isObj(s.hls) && s.hls.key_rotation !== undefined && s.hls.encrypt !== true) add([...sp, 'hls', 'key_rotation'], 'key_rotation applies only with hls.encrypt: true', true);

    const sa = s.auth;
    if (isObj(sa)) {
      for (const [a, b] of [['play_backend', 'on_play'], ['publish_backend', 'on_publish']] as const) {
        if (sa[a] !== undefined && sa[b] !== undefined) add([...sp, 'auth', b], `give ${a} or its alias ${b}, not both`, true);
      }
      if (sa.play_token === true && sa.play_backend === undefined && sa.on_play === undefined && auth.play_backend === undefined && auth.on_play === undefined) {
        add([...sp, 'auth', 'play_token'], 'play_token needs a play backend: set auth.play_backend (or this stream\'s auth.play_backend)', true);
      }
      if (sa.secure_link === true && auth.secure_link_key === undefined && auth.securetoken === undefined && sa.securetoken === undefined) {
        add([...sp, 'auth', 'secure_link'], 'secure_link needs a secret: auth.securetoken (or this stream\'s auth.securetoken)', true);
      }
    }
  }

  for (const [a, b] of [['play_backend', 'on_play'], ['publish_backend', 'on_publish'], ['securetoken', 'secure_link_key']] as const) {
    if (auth[a] !== undefined && auth[b] !== undefined) add(['auth', b], `give ${a} or its alias ${b}, not both`, true);
  }
  if (auth.fail_open !== undefined && auth.play_default !== undefined) add(['auth', 'play_default'], 'give fail_open or the older play_default, not both', true);

  // UDP listener conflicts, reported at the later one (grouped by port: linear in the number of listeners)
  const byPort = new Map<number, Listener[]>();
  const on = (l: Listener) => (WILDCARD.has(l.host) ? 'all addresses' : l.host);
  for (const b of udp) {
    const same = byPort.get(b.port);
    if (!same) {
      byPort.set(b.port, [b]);
      continue;
    }
    const a = same.find((x) => (x.host === b.host && !isMulticast(b.host)) || WILDCARD.has(x.host) || WILDCARD.has(b.host));
    if (a) add(b.path, `udp port ${b.port} (${on(b)}) is already used by ${a.where} (${on(a)}): two listeners cannot share it`);
    same.push(b);
  }

  const templates = isObj(cfg.templates) ? cfg.templates : {};
  for (const [tname, t] of Object.entries(templates)) {
    if (!isObj(t)) continue;
    const prefixes = Array.isArray(t.prefix) ? t.prefix : [t.prefix];
    prefixes.forEach((p, i) => {
      if (p === '') add(Array.isArray(t.prefix) ? ['templates', tname, 'prefix', i] : ['templates', tname, 'prefix'], 'template prefix is empty: it would match every stream');
    });
    if (isObj(t.dvr) && typeof t.dvr.storage === 'string' && !storageNames.includes(t.dvr.storage)) {
      add(['templates', tname, 'dvr', 'storage'], `unknown dvr storage "${t.dvr.storage}"${storageNames.length ? ` (defined: ${storageNames.join(', ')})` : ' (no storages defined under top-level dvr:)'}`);
    }
  }
  for (const u of unsupportedKeys(cfg)) add(u.path, u.message, true);
  return out;
}

/** The tiles of a stream's mosaic:// inputs (its own inputs; URLs that do not parse count for nothing). */
function mosaicTiles(s: unknown): string[] {
  if (!isObj(s)) return [];
  const out: string[] = [];
  for (const inp of arr(s.inputs)) {
    const url = isObj(inp) ? str(inp.url) : undefined;
    if (!url || schemeOf(url) !== 'mosaic') continue;
    try {
      out.push(...parseMosaicUrl(url).tiles);
    } catch {
      /* reported at that url */
    }
  }
  return out;
}

/**
 * A mosaic:// input: its URL parses; every tile is a stream of this config, not the mosaic itself
 * nor a mosaic that leads back to it; `bitrate=` only without a transcoder (the ladder's bitrates
 * win), and no `copy` profile (a mosaic is a new picture: there is nothing to copy).
 */
function mosaicCheck(cfg: Obj, streams: Obj, name: string, s: Obj, url: string, at: (string | number)[], add: (p: (string | number)[], message: string, key?: boolean) => void): void {
  let m: MosaicUrl;
  try {
    m = parseMosaicUrl(url);
  } catch (e) {
    add(at, (e as Error).message);
    return;
  }
  const has = (n: string) => Object.prototype.hasOwnProperty.call(streams, n);
  for (const tile of new Set(m.tiles)) {
    if (tile === name) add(at, `mosaic:// tile "${tile}" is this stream itself`);
    else if (!has(tile)) add(at, `mosaic:// tile "${tile}" is not a stream of this config`);
    else {
      // a cycle through other mosaics: tile → … → this stream (breadth-first, each stream once)
      const from = new Map<string, string>([[tile, name]]);
      const queue = [tile];
      let found = false;
      while (queue.length && !found) {
        const cur = queue.shift()!;
        for (const next of mosaicTiles(streams[cur])) {
          if (next === name) {
            const path = [name];
            for (let n: string | undefined = cur; n !== undefined && n !== name; n = from.get(n)) path.splice(1, 0, n);
            add(at, `mosaic:// cycle: ${[...path, name].join(' → ')} (a mosaic cannot show itself)`);
            found = true;
            break;
          }
          if (!from.has(next) && has(next)) {
            from.set(next, cur);
            queue.push(next);
          }
        }
      }
    }
  }
  let eff: Obj;
  try {
    eff = applyTemplates(cfg as never, name, s as never) as Obj;
  } catch {
    return;
  }
  const video = isObj(eff.transcoder) ? arr(eff.transcoder.video) : [];
  if (video.length && m.bitrate !== undefined) add(at, 'mosaic:// option bitrate= has no effect with a transcoder: the ladder\'s profiles set the bitrates');
  if (video.some((v) => isObj(v) && v.codec === 'copy')) add(at, 'mosaic:// needs every transcoder profile to encode (a mosaic is a new picture: there is nothing to copy)');
}

/**
 * DVR archive playlists, exports and thumbnails read MPEG-TS segments: a recorded stream must keep
 * `hls.container: ts` until the archive handles CMAF (templates count: they may set either key).
 */
function fmp4DvrCheck(cfg: Obj, name: string, s: Obj, sp: (string | number)[], add: (p: (string | number)[], message: string, key?: boolean) => void): void {
  let eff: Obj;
  try {
    eff = applyTemplates(cfg as never, name, s as never) as Obj;
  } catch {
    return; // malformed templates: the schema reports them
  }
  const hls = isObj(eff.hls) ? eff.hls : {};
  const ownHls = isObj(s.hls) ? s.hls : {};
  if (hls.low_latency === true && hls.container === 'ts') {
    const at = ownHls.container !== undefined ? [...sp, 'hls', 'container'] : ownHls.low_latency !== undefined ? [...sp, 'hls', 'low_latency'] : sp;
    add(at, 'hls.low_latency needs container: fmp4 (LL-HLS parts are CMAF); leave container out or set it to fmp4', at === sp);
    return;
  }
  const seg = typeof hls.segment_duration === 'string' || typeof hls.segment_duration === 'number' ? safeMs(hls.segment_duration) : DEFAULTS.segmentDurationMs;
  const part = typeof hls.part_duration === 'string' || typeof hls.part_duration === 'number' ? safeMs(hls.part_duration) : DEFAULTS.partDurationMs;
  if (hls.low_latency === true && part !== undefined && seg !== undefined && part >= seg) {
    const at = ownHls.part_duration !== undefined ? [...sp, 'hls', 'part_duration'] : [...sp, 'hls'];
    add(at, `hls.part_duration (${part} ms) must be shorter than the segment duration (${seg} ms)`, ownHls.part_duration === undefined && s.hls === undefined);
  }
  if (hls.part_duration !== undefined && hls.low_latency !== true && ownHls.part_duration !== undefined) {
    add([...sp, 'hls', 'part_duration'], 'hls.part_duration has no effect without low_latency: true', true);
  }
  const fmp4 = hls.container === 'fmp4' || (hls.container === undefined && hls.low_latency === true);
  if (!fmp4 || eff.dvr === undefined) return;
  const own = ownHls.container !== undefined || ownHls.low_latency !== undefined;
  const at = own ? [...sp, 'hls', ownHls.container !== undefined ? 'container' : 'low_latency'] : s.dvr !== undefined ? [...sp, 'dvr'] : sp;
  add(at, 'hls.container: fmp4 (and low_latency) together with dvr is not supported yet (the archive reads MPEG-TS segments); use container: ts for recorded streams', !own && s.dvr === undefined);
}

function safeMs(v: string | number): number | undefined {
  try {
    return parseDuration(v);
  } catch {
    return undefined;
  }
}

/** Protocols this build serves; the others of the schema's list are refused until they are. */
const SERVED_PROTOCOLS: readonly string[] = ['hls', 'll-hls', 'dash', 'mpegts'];

/** `protocols`: only served ones, and `ll-hls` exactly when the stream is low-latency. */
function protocolsCheck(cfg: Obj, name: string, s: Obj, sp: (string | number)[], add: (p: (string | number)[], message: string, key?: boolean) => void): void {
  let eff: Obj;
  try {
    eff = applyTemplates(cfg as never, name, s as never) as Obj;
  } catch {
    return;
  }
  if (!Array.isArray(eff.protocols)) return;
  const own = Array.isArray(s.protocols);
  const list = eff.protocols as unknown[];
  list.forEach((p, i) => {
    if (typeof p === 'string' && !SERVED_PROTOCOLS.includes(p) && ['dash', 'mpegts'].includes(p)) {
      add(own ? [...sp, 'protocols', i] : sp, `protocols: ${p} is not supported yet (served: ${SERVED_PROTOCOLS.join(', ')})`, !own);
    }
  });
  const ll = isObj(eff.hls) && eff.hls.low_latency === true;
  const fmp4 = isObj(eff.hls) && (eff.hls.container === 'fmp4' || (eff.hls.container === undefined && ll));
  if (list.includes('dash') && !fmp4 && eff.dvr === undefined) {
    add(own ? [...sp, 'protocols', list.indexOf('dash')] : sp, 'protocols: dash needs hls.container: fmp4 (live DASH is served from the CMAF segments) or dvr (archive MPDs)', !own);
  }
  if (ll && !list.includes('ll-hls')) add(own ? [...sp, 'protocols'] : sp, 'hls.low_latency needs ll-hls in protocols', !own);
  if (!ll && list.includes('ll-hls')) add(own ? [...sp, 'protocols', list.indexOf('ll-hls')] : sp, 'protocols: ll-hls needs hls.low_latency: true', !own);
}
