/**
 * Test helpers for src/media: real ffmpeg fixtures (generated into a temp dir, removed after the test file),
 * ffprobe, a capturing segmenter sink, a seeded RNG and a tiny synthetic TS packet builder.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Segmenter, type SegmentClose, type SegmenterOptions, type SegmenterSink, type SegmentOpen } from '../../../src/media/hls/segmenter.js';

const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
const FFPROBE = process.env.FLUX_FFPROBE ?? 'ffprobe';

let dir: string | undefined;

/** A temp dir for this test file, removed when the file's tests are done. */
export function fixtureDir(): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'flux-media-test-'));
    const d = dir;
    // Removed when the test file's process ends (node:test runs each file in its own process).
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

const cache = new Map<string, { path: string; data: Buffer }>();

/** Runs ffmpeg once per (name) with `args` + the output file; returns its path and bytes. */
export function ffmpegFixture(name: string, args: string[]): { path: string; data: Buffer } {
  const hit = cache.get(name);
  if (hit) return hit;
  const path = join(fixtureDir(), name);
  const r = spawnSync(FFMPEG, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args, path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`ffmpeg failed for ${name}: ${r.error?.message ?? r.stderr}`);
  const out = { path, data: readFileSync(path) };
  cache.set(name, out);
  return out;
}

/** H.264 320x180 (cropped), 25 fps, keyframe every `gop` frames, with AAC mono 48 kHz. */
export function h264Fixture(seconds = 6, gop = 25, extra: string[] = []): { path: string; data: Buffer } {
  // prettier-ignore
  return ffmpegFixture(`h264-${seconds}-${gop}-${extra.join('_').replace(/[^a-zA-Z0-9]/g, '')}.ts`, [
    '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-bf', '2',
    '-c:a', 'aac', '-b:a', '64k', ...extra, '-f', 'mpegts',
  ]);
}

/** H.265 320x180, 25 fps, keyframe every 25 frames, no audio. */
export function h265Fixture(seconds = 4): { path: string; data: Buffer } {
  // prettier-ignore
  return ffmpegFixture(`h265-${seconds}.ts`, [
    '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25',
    '-t', String(seconds), '-pix_fmt', 'yuv420p',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=25:min-keyint=25:scenecut=0:log-level=error',
    '-f', 'mpegts',
  ]);
}

/** AAC-only stream (stereo 44.1 kHz). */
export function audioFixture(seconds = 6): { path: string; data: Buffer } {
  // prettier-ignore
  return ffmpegFixture(`aac-${seconds}.ts`, [
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-ac', '2',
    '-t', String(seconds), '-c:a', 'aac', '-b:a', '96k', '-f', 'mpegts',
  ]);
}

const probeCache = new Map<string, unknown>();

/** ffprobe JSON output for a file (cached per path and arguments). */
export function ffprobeJson(path: string, args: string[]): any {
  const key = `${path}\0${args.join('\0')}`;
  if (probeCache.has(key)) return probeCache.get(key);
  const r = spawnSync(FFPROBE, ['-v', 'error', '-of', 'json', ...args, path], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`ffprobe failed: ${r.error?.message ?? r.stderr}`);
  const json: unknown = JSON.parse(r.stdout);
  probeCache.set(key, json);
  return json;
}

/** ffprobe the bytes (written to a temp file). Returns parsed JSON and ffprobe's stderr. */
export function ffprobeBytes(name: string, data: Buffer, args: string[]): { json: any; stderr: string } {
  const path = join(fixtureDir(), name);
  writeFileSync(path, data);
  const r = spawnSync(FFPROBE, ['-v', 'warning', '-of', 'json', ...args, path], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`ffprobe failed: ${r.error?.message ?? r.stderr}`);
  return { json: JSON.parse(r.stdout), stderr: r.stderr };
}

export interface CapturedSegment {
  open: SegmentOpen;
  close?: SegmentClose;
  parts: Buffer[];
  data: Buffer;
}

/** A sink that records segments and checks the open/data/close protocol. */
export function captureSink(): { sink: SegmenterSink; segments: CapturedSegment[] } {
  const segments: CapturedSegment[] = [];
  let cur: CapturedSegment | undefined;
  const sink: SegmenterSink = {
    openSegment(info) {
      if (cur !== undefined && cur.close === undefined) throw new Error('openSegment while a segment is open');
      cur = { open: info, parts: [], data: Buffer.alloc(0) };
      segments.push(cur);
    },
    data(chunk) {
      if (cur === undefined || cur.close !== undefined) throw new Error('data outside a segment');
      if (chunk.length % 188 !== 0) throw new Error(`data of ${chunk.length} bytes`);
      cur.parts.push(Buffer.from(chunk));
    },
    closeSegment(info) {
      if (cur === undefined || cur.close !== undefined) throw new Error('closeSegment without open segment');
      cur.close = info;
      cur.data = Buffer.concat(cur.parts);
    },
  };
  return { sink, segments };
}

/** Segments `input` split into chunks of sizes given by `nextSize` (default: one chunk). */
export function segmentAll(
  input: Buffer,
  opts: Partial<SegmenterOptions> = {},
  nextSize?: () => number,
): { segments: CapturedSegment[]; segmenter: Segmenter } {
  const { sink, segments } = captureSink();
  const segmenter = new Segmenter(sink, opts);
  if (nextSize === undefined) {
    segmenter.push(input);
  } else {
    for (let o = 0; o < input.length; ) {
      const n = Math.max(1, nextSize());
      segmenter.push(input.subarray(o, Math.min(input.length, o + n)));
      o += n;
    }
  }
  segmenter.flush();
  return { segments, segmenter };
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function packetsOf(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o + 188 <= buf.length; o += 188) out.push(buf.subarray(o, o + 188));
  return out;
}

export function pidOf(pkt: Uint8Array): number {
  return ((pkt[1]! & 0x1f) << 8) | pkt[2]!;
}

export function ccOf(pkt: Uint8Array): number {
  return pkt[3]! & 0x0f;
}

export function isPusi(pkt: Uint8Array): boolean {
  return (pkt[1]! & 0x40) !== 0;
}

/** PTS of a PES starting in this packet, or undefined. */
export function pesPtsOf(pkt: Uint8Array): number | undefined {
  if (!isPusi(pkt) || !(pkt[3]! & 0x10)) return undefined;
  let p = 4;
  if (pkt[3]! & 0x20) p += 1 + pkt[4]!;
  if (p + 14 > 188 || pkt[p] !== 0 || pkt[p + 1] !== 0 || pkt[p + 2] !== 1) return undefined;
  if (!(pkt[p + 7]! & 0x80)) return undefined;
  const b = p + 9;
  return ((pkt[b]! >> 1) & 7) * 2 ** 30 + (((pkt[b + 1]! << 7) | (pkt[b + 2]! >> 1)) * 2 ** 15) + ((pkt[b + 3]! << 7) | (pkt[b + 4]! >> 1));
}

export interface PacketSpec {
  pid: number;
  cc: number;
  pusi?: boolean;
  payload?: Uint8Array;
  /** Adaptation field only (no payload). */
  afOnly?: boolean;
  pcr?: number;
  rai?: boolean;
  discontinuity?: boolean;
  /** Force at least this many adaptation-field bytes (stuffing). */
  minAf?: number;
}

/** One 188-byte TS packet; the payload is padded with adaptation-field stuffing (it must fit). */
export function tsPacket(spec: PacketSpec): Buffer {
  const pkt = Buffer.alloc(188, 0xff);
  const payload = spec.afOnly ? new Uint8Array(0) : (spec.payload ?? new Uint8Array(0));
  const flagsByte = (spec.discontinuity ? 0x80 : 0) | (spec.rai ? 0x40 : 0) | (spec.pcr !== undefined ? 0x10 : 0);
  const afBody = 1 + (spec.pcr !== undefined ? 6 : 0);
  let afLen = 0; // adaptation_field_length value; -1 = no adaptation field
  const room = 184 - payload.length;
  if (room < 0) throw new Error('payload too big');
  let hasAf = spec.afOnly || flagsByte !== 0 || room > 0 || (spec.minAf ?? 0) > 0;
  if (hasAf) {
    afLen = room - 1; // whole room minus the length byte
    if (afLen < 0) hasAf = false;
    else if (afLen < (flagsByte !== 0 ? afBody : 0)) throw new Error('no room for the adaptation field');
  }
  pkt[0] = 0x47;
  pkt[1] = (spec.pusi ? 0x40 : 0) | ((spec.pid >> 8) & 0x1f);
  pkt[2] = spec.pid & 0xff;
  pkt[3] = (hasAf ? 0x20 : 0) | (spec.afOnly ? 0 : 0x10) | (spec.cc & 0x0f);
  let p = 4;
  if (hasAf) {
    pkt[4] = afLen;
    if (afLen > 0) {
      pkt[5] = flagsByte;
      if (spec.pcr !== undefined) {
        const base = spec.pcr;
        pkt[6] = Math.floor(base / 2 ** 25) & 0xff;
        pkt[7] = Math.floor(base / 2 ** 17) & 0xff;
        pkt[8] = Math.floor(base / 2 ** 9) & 0xff;
        pkt[9] = Math.floor(base / 2) & 0xff;
        pkt[10] = ((base % 2) << 7) | 0x7e;
        pkt[11] = 0;
      }
    }
    p = 5 + afLen;
  }
  pkt.set(payload, p);
  return pkt;
}

function ptsBytes(prefix: number, v: number): number[] {
  v = ((v % 2 ** 33) + 2 ** 33) % 2 ** 33;
  const hi = Math.floor(v / 2 ** 30) & 7;
  const mid = Math.floor(v / 2 ** 15) & 0x7fff;
  const lo = v & 0x7fff;
  return [(prefix << 4) | (hi << 1) | 1, mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1];
}

/** PES packet bytes (header + ES). */
export function pesBytes(streamId: number, es: Uint8Array, pts?: number, dts?: number): Buffer {
  const opt: number[] = [];
  let flags = 0;
  if (pts !== undefined && dts !== undefined) {
    flags = 0xc0;
    opt.push(...ptsBytes(3, pts), ...ptsBytes(1, dts));
  } else if (pts !== undefined) {
    flags = 0x80;
    opt.push(...ptsBytes(2, pts));
  }
  const len = 3 + opt.length + es.length;
  const head = [0, 0, 1, streamId, streamId >= 0xe0 && streamId <= 0xef ? 0 : (len >> 8) & 0xff, streamId >= 0xe0 && streamId <= 0xef ? 0 : len & 0xff, 0x80, flags, opt.length, ...opt];
  return Buffer.concat([Buffer.from(head), Buffer.from(es)]);
}

/**
 * Packetizes a PES on `pid`. `firstPayload` limits the payload bytes of the first packet (to split the
 * PES header across packets). Returns the packets and the next continuity counter.
 */
export function pesToPackets(
  pid: number,
  pes: Uint8Array,
  cc: number,
  opts: { firstPayload?: number; pcr?: number; rai?: boolean } = {},
): { packets: Buffer[]; cc: number } {
  const packets: Buffer[] = [];
  let o = 0;
  let first = true;
  while (o < pes.length) {
    let max = first ? (opts.firstPayload ?? (opts.pcr !== undefined || opts.rai ? 176 : 184)) : 184;
    if (first && (opts.pcr !== undefined || opts.rai)) max = Math.min(max, 176);
    const n = Math.min(max, pes.length - o);
    const spec: PacketSpec = { pid, cc, pusi: first, payload: pes.subarray(o, o + n) };
    if (first && opts.pcr !== undefined) spec.pcr = opts.pcr;
    if (first && opts.rai) spec.rai = true;
    packets.push(tsPacket(spec));
    cc = (cc + 1) & 15;
    o += n;
    first = false;
  }
  return { packets, cc };
}
