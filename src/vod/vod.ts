/**
 * VOD: MP4 files of a `vod:` location served as HLS without transcoding. The playlist comes from
 * the file's index (moov box only, cached per file by mtime and size); each segment is cut on
 * keyframes by ffmpeg stream copy when asked for, and recent segments are kept in memory.
 */
import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { Mp4Error, parseMoov, planSegments, scanTopLevel, type Mp4Index, type VodSegment } from '../media/mp4-index.js';
import { vodSegmentArgs } from '../ffmpeg/vod.js';
import { ExternalError } from '../core/errors.js';

/** Target segment length (s): Apple's recommendation for VOD. */
export const VOD_SEGMENT_SEC = 6;
const MAX_MOOV_BYTES = 256 * 1024 * 1024;
const INDEX_CACHE_ENTRIES = 512;
const SEGMENT_CACHE_BYTES = 64 * 1024 * 1024;
const SEGMENT_TIMEOUT_MS = 30_000;
/** ffmpeg remuxes at once; further segment requests wait their turn (a burst of players cannot fork-bomb the node) */
const MAX_REMUX = 8;

/** Codecs MPEG-TS carries as they are (sample entry fourcc). */
const TS_VIDEO = new Set(['avc1', 'avc3', 'hvc1', 'hev1']);
const TS_AUDIO = new Set(['mp4a', 'ac-3', 'ec-3', '.mp3']);

export interface VodFile {
  index: Mp4Index;
  segments: VodSegment[];
  key: string;
}

/** An MP4 that cannot be served (truncated, no index, a codec TS cannot carry): HTTP 422. */
export class VodFileError extends Error {
  readonly status = 422;
}

export class VodService {
  private readonly indexes = new Map<string, VodFile>();
  private readonly segCache = new Map<string, Buffer>();
  private segBytes = 0;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly ffmpeg: () => Promise<string> | string) {}

  /** The index of `file` (cached while its mtime and size stay the same). */
  async file(file: string): Promise<VodFile> {
    const st = await stat(file);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
    const key = `${file}\u0000${st.mtimeMs}\u0000${st.size}`;
    const hit = this.indexes.get(key);
    if (hit) {
      this.indexes.delete(key);
      this.indexes.set(key, hit);
      return hit;
    }
    const fh = await open(file, 'r');
    let index: Mp4Index;
    try {
      const read = async (pos: number, len: number) => {
        const buf = Buffer.alloc(Math.min(len, st.size - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        return buf.subarray(0, bytesRead);
      };
      const { moov } = await scanTopLevel(st.size, read);
      if (moov.size > MAX_MOOV_BYTES) throw new VodFileError(`MP4 index (moov) is ${moov.size} bytes, over the ${MAX_MOOV_BYTES / 1024 / 1024} MiB limit`);
      index = parseMoov(await read(moov.offset, moov.size));
    } catch (e) {
      if (e instanceof Mp4Error) throw new VodFileError(e.message);
      throw e;
    } finally {
      await fh.close();
    }
    const video = index.tracks.find((t) => t.kind === 'video');
    const audio = index.tracks.find((t) => t.kind === 'audio');
    if (!video && !audio) throw new VodFileError('MP4 has no video or audio track');
    if (video && !TS_VIDEO.has(video.codec)) throw new VodFileError(`video codec ${video.codec || '?'} cannot be served as HLS without transcoding (H.264/H.265 only)`);
    if (!video && audio && !TS_AUDIO.has(audio.codec)) throw new VodFileError(`audio codec ${audio.codec || '?'} cannot be served as HLS without transcoding`);
    if (video && !index.keyframes.length) throw new VodFileError('MP4 video track has no keyframes');
    const vf: VodFile = { index, segments: planSegments(index, VOD_SEGMENT_SEC), key };
    if (!vf.segments.length) throw new VodFileError('MP4 has no media (duration 0)');
    this.indexes.set(key, vf);
    if (this.indexes.size > INDEX_CACHE_ENTRIES) this.indexes.delete(this.indexes.keys().next().value!);
    return vf;
  }

  /** The HLS media playlist (VOD, ended) of a file's segments; segment URIs are `seg-N.ts`. */
  static playlist(vf: VodFile): string {
    const target = Math.ceil(Math.max(...vf.segments.map((s) => s.duration)) - 0.0005);
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS'];
    vf.segments.forEach((s, i) => lines.push(`#EXTINF:${s.duration.toFixed(3)},`, `seg-${i}.ts`));
    lines.push('#EXT-X-ENDLIST', '');
    return lines.join('\n');
  }

  /** Segment `n` of `file` as MPEG-TS (remuxed once, then served from memory while it fits). */
  async segment(file: string, vf: VodFile, n: number): Promise<Buffer> {
    const seg = vf.segments[n];
    if (!seg) throw Object.assign(new Error('no such segment'), { code: 'ENOENT' });
    const key = `${vf.key}\u0000${n}`;
    const hit = this.segCache.get(key);
    if (hit) {
      this.segCache.delete(key);
      this.segCache.set(key, hit);
      return hit;
    }
    let p = this.inflight.get(key);
    if (!p) {
      p = this.remux(file, seg).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    const buf = await p;
    if (!this.segCache.has(key) && buf.length <= SEGMENT_CACHE_BYTES / 4) {
      this.segCache.set(key, buf);
      this.segBytes += buf.length;
      while (this.segBytes > SEGMENT_CACHE_BYTES) {
        const [k, v] = this.segCache.entries().next().value!;
        this.segCache.delete(k);
        this.segBytes -= v.length;
      }
    }
    return buf;
  }

  private async remux(file: string, seg: VodSegment): Promise<Buffer> {
    if (this.running >= MAX_REMUX) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await this.remuxNow(file, seg);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async remuxNow(file: string, seg: VodSegment): Promise<Buffer> {
    const ffmpeg = await this.ffmpeg();
    const args = vodSegmentArgs(file, seg.start, seg.duration, seg.lead);
    return new Promise<Buffer>((resolve, reject) => {
      const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), SEGMENT_TIMEOUT_MS);
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 4096) stderr += d;
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new ExternalError(`cannot run ${ffmpeg}: ${e.message}`, ffmpeg, args, { cause: e }));
      });
      child.once('close', (code, sig) => {
        clearTimeout(timer);
        const out = Buffer.concat(chunks);
        if (code === 0 && out.length) resolve(out);
        else reject(new VodFileError(`cannot cut segment at ${seg.start.toFixed(3)} s: ${stderr.trim().split('\n').at(-1) || (sig ? `ffmpeg killed (${sig})` : `ffmpeg exit ${code}`)}`));
      });
    });
  }
}

/** One rendition of a multi-bitrate list: a file next to the list, with its bandwidth when given. */
export interface SmilEntry {
  src: string;
  bitrate?: number;
}

/**
 * A SMIL-like multi-bitrate list (as Wowza/Flussonic write them): every `<video src="…"/>` (or
 * `<audio …/>`), with `system-bitrate`, `systemBitrate` or `bitrate` when present. Sources are file
 * names relative to the list (sub-directories allowed, never `..` or absolute: checked by the caller).
 */
export function parseSmil(text: string): SmilEntry[] {
  const out: SmilEntry[] = [];
  for (const m of text.matchAll(/<(?:video|audio)\b([^>]*)>/gi)) {
    const attrs = m[1]!;
    const src = /\bsrc\s*=\s*"([^"]+)"|\bsrc\s*=\s*'([^']+)'/i.exec(attrs);
    if (!src) continue;
    const br = /\b(?:system-bitrate|systemBitrate|bitrate)\s*=\s*["']?(\d+)/i.exec(attrs);
    out.push({ src: (src[1] ?? src[2])!.replace(/^mp4:/, ''), ...(br ? { bitrate: Number(br[1]) } : {}) });
  }
  return out;
}

/** Master playlist over several files (each `../<src>/index.m3u8` from the list's URL). */
export function masterPlaylist(variants: { src: string; vf: VodFile; size: number; bitrate?: number }[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of variants) {
    const video = v.vf.index.tracks.find((t) => t.kind === 'video');
    // without a declared bitrate: the file's average (HLS wants the peak; average + 20 % is a fair guess)
    const bw = v.bitrate ?? Math.round(((v.size * 8) / Math.max(0.001, v.vf.index.durationSec)) * 1.2);
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bw}${video?.width ? `,RESOLUTION=${video.width}x${video.height}` : ''}`, `../${v.src}/index.m3u8`);
  }
  lines.push('');
  return lines.join('\n');
}
