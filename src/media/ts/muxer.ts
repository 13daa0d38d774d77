/**
 * MPEG-TS muxer from elementary frames (what RTMP/FLV delivers): H.264/H.265 access units with
 * length-prefixed NAL units, raw AAC frames (+ AudioSpecificConfig), MP3 frames.
 *
 * - Video: AVCC/HVCC → Annex B (4-byte start codes), an access unit delimiter first, SPS/PPS
 *   (VPS/SPS/PPS) before every keyframe that does not carry them in-band.
 * - AAC: each raw frame gets a 7-byte ADTS header built from the AudioSpecificConfig.
 * - Timestamps: input in ms (FLV/RTMP, unsigned 32-bit, wrap handled by unwrapping against the
 *   last timestamp seen), output PTS/DTS = (ms + timestampOffsetMs) × 90 modulo 2^33.
 * - PCR on the video PID (audio PID without video), DTS − pcrDelayMs, never decreasing: in every
 *   video PES (first packet; random_access_indicator on keyframes). Audio writes add a PCR-only
 *   packet when, judging by each track's pace, no write is expected before the PCR would be
 *   `pcrIntervalMs` old (low frame rates); so PCRs are ≤ pcrIntervalMs apart for regular input.
 * - PAT/PMT before every keyframe and, by the same look-ahead, at most `psiIntervalMs` apart.
 * - One output Buffer per call, sized exactly up front; PES bytes are written straight into
 *   188-byte packets (no intermediate PES buffer); the last packet of a PES is padded with
 *   adaptation-field stuffing.
 *
 * Pure: no I/O, never throws on frame contents (bad NAL lengths are cut off; a frame that cannot
 * be muxed yields an empty Buffer and counts in `stats.dropped`).
 */
import { Buffer } from 'node:buffer';
import { ADTS_HEADER_SIZE, parseAudioSpecificConfig, writeAdtsHeader, type AacConfig } from '../flv/audio.js';
import { crc32Mpeg2 } from './crc32.js';

export const TS_PACKET_SIZE = 188;

export const TsStreamType = { MPEG1Audio: 0x03, AACAdts: 0x0f, H264: 0x1b, H265: 0x24 } as const;

export interface TsMuxerVideoOptions {
  codec: 'h264' | 'h265';
  /** SPS/PPS (H.264) or VPS/SPS/PPS (H.265) NAL units, without start codes or length prefixes */
  parameterSets?: Buffer[];
  /** NAL length prefix size of the frames (1..4, default 4) */
  nalLengthSize?: number;
}

export type TsMuxerAudioOptions =
  | { codec: 'aac'; /** AudioSpecificConfig bytes or a parsed config (may be set later) */ config?: Buffer | AacConfig }
  | { codec: 'mp3' };

export interface TsMuxerOptions {
  video?: TsMuxerVideoOptions;
  audio?: TsMuxerAudioOptions;
  pmtPid?: number;
  videoPid?: number;
  audioPid?: number;
  programNumber?: number;
  transportStreamId?: number;
  /** PAT/PMT repetition (default 100 ms); they also precede every keyframe */
  psiIntervalMs?: number;
  /** largest PCR interval (default 40 ms) */
  pcrIntervalMs?: number;
  /** added to every input timestamp before conversion to 90 kHz (default 700 ms) */
  timestampOffsetMs?: number;
  /** PCR runs this far behind DTS (default 700 ms; with the default offset PCR starts at 0) */
  pcrDelayMs?: number;
  /** drop video until the first keyframe, and audio before it when there is video (default true) */
  startOnKeyframe?: boolean;
}

export interface TsMuxerStats {
  videoFrames: number;
  audioFrames: number;
  packets: number;
  bytes: number;
  /** frames dropped: before the first keyframe, without config, or unmuxable */
  dropped: number;
}

const EMPTY = Buffer.alloc(0);
const START_CODE = Buffer.from([0, 0, 0, 1]);
const AUD_H264 = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
const AUD_H265 = Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]);
const TWO_POW_33 = 8589934592;
const TWO_POW_32 = 4294967296;

/** One 188-byte packet carrying a PSI section (pointer field 0), CC 0 (patched when written). */
function psiPacket(pid: number, section: Buffer): Buffer {
  const pkt = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  pkt[0] = 0x47;
  pkt[1] = 0x40 | ((pid >> 8) & 0x1f);
  pkt[2] = pid & 0xff;
  pkt[3] = 0x10;
  pkt[4] = 0; // pointer_field
  section.copy(pkt, 5);
  const crc = crc32Mpeg2(section);
  pkt.writeUInt32BE(crc, 5 + section.length);
  return pkt;
}

function writeTimestamp(buf: Buffer, pos: number, prefix: number, ts: number): void {
  const hi = Math.floor(ts / 1073741824) & 0x07; // bits 32..30
  const lo = ts % 1073741824; // bits 29..0
  buf[pos] = (prefix << 4) | (hi << 1) | 1;
  buf[pos + 1] = (lo >>> 22) & 0xff;
  buf[pos + 2] = (((lo >>> 15) & 0x7f) << 1) | 1;
  buf[pos + 3] = (lo >>> 7) & 0xff;
  buf[pos + 4] = ((lo & 0x7f) << 1) | 1;
}

function mod33(v: number): number {
  const m = v % TWO_POW_33;
  return m < 0 ? m + TWO_POW_33 : m;
}

const enum Track {
  Video = 0,
  Audio = 1,
}

export class TsMuxer {
  readonly stats: TsMuxerStats = { videoFrames: 0, audioFrames: 0, packets: 0, bytes: 0, dropped: 0 };

  private readonly videoCodec: 'h264' | 'h265' | undefined;
  private readonly audioCodec: 'aac' | 'mp3' | undefined;
  private readonly pmtPid: number;
  private readonly videoPid: number;
  private readonly audioPid: number;
  private readonly pcrPid: number;
  private readonly pat: Buffer;
  private readonly pmt: Buffer;
  private readonly psiInterval: number;
  private readonly pcrInterval: number;
  private readonly offsetMs: number;
  private readonly pcrDelay90: number;
  private readonly startOnKeyframe: boolean;

  private parameterSets: Buffer[] = [];
  private nalLengthSize = 4;
  private aac: AacConfig | undefined;

  private ccPat = 0;
  private ccPmt = 0;
  private ccVideo = 0;
  private ccAudio = 0;
  /** unwrapped ms of the last input timestamp (either track) */
  private lastMs: number | undefined;
  /** latest unwrapped ms seen (to detect a source clock reset) */
  private clockMs = -Infinity;
  /** timestamp (ms) of the write that last carried PAT/PMT */
  private lastPsiMs = -Infinity;
  /** ms value of the last PCR written (never decreases until a reset) */
  private lastPcrMs = -Infinity;
  /** per track: last timestamp and the last positive increment (NaN = unknown) */
  private lastVideoMs = NaN;
  private videoGap = NaN;
  private lastAudioMs = NaN;
  private audioGap = NaN;
  private pcrDiscontinuity = false;
  private seenKeyframe = false;

  // packet writer state (one PES at a time)
  private out: Buffer = EMPTY;
  private pos = 0;
  private packetEnd = 0;
  private remaining = 0;
  private pesPid = 0;
  private pesTrack: Track = Track.Video;
  private pesFirst = false;
  private pesPcr = -1;
  private pesRai = false;
  private readonly hdr = Buffer.alloc(32);

  constructor(options: TsMuxerOptions) {
    if (options.video === undefined && options.audio === undefined) throw new RangeError('TsMuxer needs video or audio');
    this.videoCodec = options.video?.codec;
    this.audioCodec = options.audio?.codec;
    this.pmtPid = options.pmtPid ?? 0x1000;
    this.videoPid = options.videoPid ?? 0x100;
    this.audioPid = options.audioPid ?? 0x101;
    this.pcrPid = this.videoCodec !== undefined ? this.videoPid : this.audioPid;
    this.psiInterval = options.psiIntervalMs ?? 100;
    this.pcrInterval = options.pcrIntervalMs ?? 40;
    this.offsetMs = options.timestampOffsetMs ?? 700;
    this.pcrDelay90 = (options.pcrDelayMs ?? 700) * 90;
    this.startOnKeyframe = options.startOnKeyframe ?? true;
    if (options.video !== undefined) this.setVideoConfig(options.video.parameterSets ?? [], options.video.nalLengthSize ?? 4);
    if (options.audio?.codec === 'aac' && options.audio.config !== undefined) this.setAudioConfig(options.audio.config);

    const programNumber = options.programNumber ?? 1;
    const tsid = options.transportStreamId ?? 1;
    // PAT
    const pat = Buffer.alloc(12);
    pat[0] = 0x00;
    pat.writeUInt16BE(0xb000 | 13, 1);
    pat.writeUInt16BE(tsid, 3);
    pat[5] = 0xc1;
    pat[6] = 0;
    pat[7] = 0;
    pat.writeUInt16BE(programNumber, 8);
    pat.writeUInt16BE(0xe000 | this.pmtPid, 10);
    this.pat = psiPacket(0, pat);
    // PMT
    const es: [number, number][] = [];
    if (this.videoCodec !== undefined) es.push([this.videoCodec === 'h264' ? TsStreamType.H264 : TsStreamType.H265, this.videoPid]);
    if (this.audioCodec !== undefined) es.push([this.audioCodec === 'aac' ? TsStreamType.AACAdts : TsStreamType.MPEG1Audio, this.audioPid]);
    const pmt = Buffer.alloc(12 + 5 * es.length);
    pmt[0] = 0x02;
    pmt.writeUInt16BE(0xb000 | (pmt.length - 3 + 4), 1);
    pmt.writeUInt16BE(programNumber, 3);
    pmt[5] = 0xc1;
    pmt[6] = 0;
    pmt[7] = 0;
    pmt.writeUInt16BE(0xe000 | this.pcrPid, 8);
    pmt.writeUInt16BE(0xf000, 10);
    let p = 12;
    for (const [type, pid] of es) {
      pmt[p] = type;
      pmt.writeUInt16BE(0xe000 | pid, p + 1);
      pmt.writeUInt16BE(0xf000, p + 3);
      p += 5;
    }
    this.pmt = psiPacket(this.pmtPid, pmt);
  }

  /** Replaces the parameter sets inserted before keyframes (new sequence header). */
  setVideoConfig(parameterSets: Buffer[], nalLengthSize = 4): void {
    this.parameterSets = parameterSets.filter((b) => b.length > 0);
    this.nalLengthSize = nalLengthSize >= 1 && nalLengthSize <= 4 ? nalLengthSize : 4;
  }

  /** Sets the AAC AudioSpecificConfig. Returns false when it cannot be parsed. */
  setAudioConfig(config: Buffer | AacConfig): boolean {
    const c = Buffer.isBuffer(config) ? parseAudioSpecificConfig(config) : config;
    if (typeof c === 'string') return false;
    this.aac = c;
    return true;
  }

  get hasAudioConfig(): boolean {
    return this.aac !== undefined;
  }

  /** PAT + PMT alone (e.g. to start a file). */
  writePsi(): Buffer {
    const out = Buffer.allocUnsafe(2 * TS_PACKET_SIZE);
    this.putPsi(out, 0);
    this.stats.packets += 2;
    this.stats.bytes += out.length;
    return out;
  }

  /**
   * Muxes one video access unit.
   * @param dtsMs decode timestamp in ms (FLV/RTMP timestamp)
   * @param ctsMs composition offset in ms (PTS = DTS + cts; negative values are clamped to 0)
   * @param keyframe IDR / random access point
   * @param nalus length-prefixed NAL units (AVCC/HVCC, prefix size from setVideoConfig)
   * @returns whole TS packets (possibly empty)
   */
  writeVideo(dtsMs: number, ctsMs: number, keyframe: boolean, nalus: Buffer): Buffer {
    const codec = this.videoCodec;
    if (codec === undefined) return this.drop();
    if (!keyframe && this.startOnKeyframe && !this.seenKeyframe) return this.drop();
    const ms = this.unwrap(dtsMs);

    // pass 1: size of the Annex B access unit
    const ls = this.nalLengthSize;
    const aud = codec === 'h264' ? AUD_H264 : AUD_H265;
    let esSize = aud.length;
    let nalCount = 0;
    let hasParams = false;
    for (let p = 0; p + ls <= nalus.length; ) {
      let len = 0;
      for (let i = 0; i < ls; i++) len = len * 256 + nalus[p + i]!;
      p += ls;
      if (len > nalus.length - p) len = nalus.length - p;
      if (len > 0) {
        const t = codec === 'h264' ? nalus[p]! & 0x1f : (nalus[p]! >> 1) & 0x3f;
        const isAud = codec === 'h264' ? t === 9 : t === 35;
        if (!isAud) {
          esSize += 4 + len;
          nalCount++;
          if (codec === 'h264' ? t === 7 : t === 33) hasParams = true;
        }
      }
      p += len;
    }
    if (nalCount === 0) return this.drop();
    const prependParams = keyframe && !hasParams && this.parameterSets.length > 0;
    if (prependParams) for (const ps of this.parameterSets) esSize += 4 + ps.length;
    if (keyframe) this.seenKeyframe = true;

    const dts90 = (ms + this.offsetMs) * 90;
    const pts90 = dts90 + (ctsMs > 0 ? ctsMs * 90 : 0);
    const withDts = pts90 !== dts90;
    const pesHeaderLen = withDts ? 19 : 14;

    this.noteVideo(ms);
    const psi = keyframe || this.nextWriteMs() > this.lastPsiMs + this.psiInterval;
    if (psi) this.lastPsiMs = ms;
    // every video PES carries a PCR (8 bytes of adaptation field): video frames set the pace
    const pcr = this.nextPcr(ms);
    const total = this.beginPes(psi, this.videoPid, Track.Video, pesHeaderLen + esSize, pcr, keyframe);

    // PES header
    const h = this.hdr;
    h[0] = 0;
    h[1] = 0;
    h[2] = 1;
    h[3] = 0xe0;
    h[4] = 0; // PES_packet_length 0: unbounded (video)
    h[5] = 0;
    h[6] = 0x84; // '10', data_alignment_indicator
    h[7] = withDts ? 0xc0 : 0x80;
    h[8] = withDts ? 10 : 5;
    writeTimestamp(h, 9, withDts ? 3 : 2, mod33(pts90));
    if (withDts) writeTimestamp(h, 14, 1, mod33(dts90));
    this.put(h, 0, pesHeaderLen);
    this.put(aud, 0, aud.length);
    if (prependParams) {
      for (const ps of this.parameterSets) {
        this.put(START_CODE, 0, 4);
        this.put(ps, 0, ps.length);
      }
    }
    // pass 2: copy NAL units
    for (let p = 0; p + ls <= nalus.length; ) {
      let len = 0;
      for (let i = 0; i < ls; i++) len = len * 256 + nalus[p + i]!;
      p += ls;
      if (len > nalus.length - p) len = nalus.length - p;
      if (len > 0) {
        const t = codec === 'h264' ? nalus[p]! & 0x1f : (nalus[p]! >> 1) & 0x3f;
        if (!(codec === 'h264' ? t === 9 : t === 35)) {
          this.put(START_CODE, 0, 4);
          this.put(nalus, p, p + len);
        }
      }
      p += len;
    }
    this.stats.videoFrames++;
    return this.finish(total);
  }

  /**
   * Muxes one audio frame: a raw AAC frame (ADTS header added; frames already in ADTS pass as
   * they are) or an MP3 frame.
   * @param ptsMs presentation timestamp in ms (FLV/RTMP timestamp)
   */
  writeAudio(ptsMs: number, frame: Buffer): Buffer {
    const codec = this.audioCodec;
    if (codec === undefined || frame.length === 0) return this.drop();
    if (this.startOnKeyframe && this.videoCodec !== undefined && !this.seenKeyframe) return this.drop();
    let adts = false;
    if (codec === 'aac') {
      const already = frame.length >= 7 && frame[0] === 0xff && (frame[1]! & 0xf6) === 0xf0;
      if (!already) {
        if (this.aac === undefined || frame.length + ADTS_HEADER_SIZE > 0x1fff) return this.drop();
        adts = true;
      }
    }
    const ms = this.unwrap(ptsMs);
    const pts90 = (ms + this.offsetMs) * 90;
    const esSize = frame.length + (adts ? ADTS_HEADER_SIZE : 0);
    const pesLen = 14 + esSize;

    const audioOnly = this.videoCodec === undefined;
    this.noteAudio(ms);
    const next = this.nextWriteMs();
    const psi = next > this.lastPsiMs + this.psiInterval;
    if (psi) this.lastPsiMs = ms;
    let pcr = -1;
    let pcrOnly = false;
    let pcrOnlyValue = -1;
    // a PCR now when no later write is expected before the PCR deadline
    if (next > this.lastPcrMs + this.pcrInterval) {
      // without video the audio PID carries PCR; with video a PCR-only packet keeps the interval
      if (audioOnly) pcr = this.nextPcr(ms);
      else {
        pcrOnly = true;
        pcrOnlyValue = this.nextPcr(ms);
      }
    }
    const total = this.beginPes(psi, this.audioPid, Track.Audio, pesLen, pcr, audioOnly, pcrOnly);
    if (pcrOnly) this.putPcrOnlyPacket(pcrOnlyValue);

    const h = this.hdr;
    h[0] = 0;
    h[1] = 0;
    h[2] = 1;
    h[3] = 0xc0;
    const pesPacketLength = pesLen - 6;
    h.writeUInt16BE(pesPacketLength <= 0xffff ? pesPacketLength : 0, 4);
    h[6] = 0x84;
    h[7] = 0x80;
    h[8] = 5;
    writeTimestamp(h, 9, 2, mod33(pts90));
    this.put(h, 0, 14);
    if (adts) {
      writeAdtsHeader(h, 14, this.aac!, frame.length);
      this.put(h, 14, 14 + ADTS_HEADER_SIZE);
    }
    this.put(frame, 0, frame.length);
    this.stats.audioFrames++;
    return this.finish(total);
  }

  // ------------------------------------------------------------------------------------------

  private drop(): Buffer {
    this.stats.dropped++;
    return EMPTY;
  }

  /** Unwraps a 32-bit ms timestamp against the last one seen (either track). */
  private unwrap(ms: number): number {
    const raw = (ms >>> 0) % TWO_POW_32;
    let ext: number;
    if (this.lastMs === undefined) ext = raw;
    else {
      const lastRaw = ((this.lastMs % TWO_POW_32) + TWO_POW_32) % TWO_POW_32;
      let delta = raw - lastRaw;
      if (delta > 2147483648) delta -= TWO_POW_32;
      else if (delta < -2147483648) delta += TWO_POW_32;
      ext = this.lastMs + delta;
    }
    this.lastMs = ext;
    if (ext > this.clockMs) this.clockMs = ext;
    else if (ext < this.clockMs - 2000) {
      // the source restarted its clock: follow it and flag the PCR discontinuity
      this.clockMs = ext;
      this.lastPsiMs = -Infinity;
      this.lastPcrMs = -Infinity;
      this.lastVideoMs = this.videoGap = this.lastAudioMs = this.audioGap = NaN;
      this.pcrDiscontinuity = true;
    }
    return ext;
  }

  private noteVideo(ms: number): void {
    const g = ms - this.lastVideoMs;
    if (g > 0 && g <= 1000) this.videoGap = g;
    this.lastVideoMs = ms;
  }

  private noteAudio(ms: number): void {
    const g = ms - this.lastAudioMs;
    if (g > 0 && g <= 1000) this.audioGap = g;
    this.lastAudioMs = ms;
  }

  /** When the next write of either track is expected (Infinity while a track's pace is unknown). */
  private nextWriteMs(): number {
    const v = this.videoCodec === undefined ? Infinity : this.lastVideoMs + this.videoGap;
    const a = this.audioCodec === undefined ? Infinity : this.lastAudioMs + this.audioGap;
    const n = Math.min(Number.isNaN(v) ? Infinity : v, Number.isNaN(a) ? Infinity : a);
    return n;
  }

  /** PCR for a write at `ms`: DTS − pcrDelay, never decreasing (except after a clock reset). */
  private nextPcr(ms: number): number {
    if (ms > this.lastPcrMs) this.lastPcrMs = ms;
    let pcr = (this.lastPcrMs + this.offsetMs) * 90 - this.pcrDelay90;
    if (pcr < 0) pcr = 0;
    return mod33(pcr);
  }

  private putPsi(out: Buffer, pos: number): void {
    this.pat.copy(out, pos);
    out[pos + 3] = 0x10 | this.ccPat;
    this.ccPat = (this.ccPat + 1) & 0x0f;
    this.pmt.copy(out, pos + TS_PACKET_SIZE);
    out[pos + TS_PACKET_SIZE + 3] = 0x10 | this.ccPmt;
    this.ccPmt = (this.ccPmt + 1) & 0x0f;
  }

  /**
   * Allocates the output for [PAT, PMT], [PCR-only packet], and the PES of `pesLen` bytes, writes
   * PSI, and prepares the packet writer. Returns the total size.
   */
  private beginPes(psi: boolean, pid: number, track: Track, pesLen: number, pcr: number, rai: boolean, pcrOnly = false): number {
    const afBase = pcr >= 0 ? 8 : rai ? 2 : 0;
    const firstCap = TS_PACKET_SIZE - 4 - afBase;
    const packets = pesLen <= firstCap ? 1 : 1 + Math.ceil((pesLen - firstCap) / (TS_PACKET_SIZE - 4));
    const total = ((psi ? 2 : 0) + (pcrOnly ? 1 : 0) + packets) * TS_PACKET_SIZE;
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    if (psi) {
      this.putPsi(out, 0);
      pos = 2 * TS_PACKET_SIZE;
    }
    this.out = out;
    this.pos = pos;
    this.packetEnd = pos;
    this.remaining = pesLen;
    this.pesPid = pid;
    this.pesTrack = track;
    this.pesFirst = true;
    this.pesPcr = pcr;
    this.pesRai = rai;
    return total;
  }

  /** An adaptation-field-only packet with a PCR on the PCR PID (CC unchanged: no payload). */
  private putPcrOnlyPacket(pcr: number): void {
    const out = this.out;
    const p = this.pos;
    const pid = this.pcrPid;
    out[p] = 0x47;
    out[p + 1] = (pid >> 8) & 0x1f;
    out[p + 2] = pid & 0xff;
    const cc = pid === this.videoPid ? this.ccVideo : this.ccAudio;
    out[p + 3] = 0x20 | ((cc - 1) & 0x0f);
    out[p + 4] = 183;
    out[p + 5] = this.pcrDiscontinuity ? 0x90 : 0x10;
    this.pcrDiscontinuity = false;
    this.writePcr(out, p + 6, pcr);
    out.fill(0xff, p + 12, p + TS_PACKET_SIZE);
    this.pos = p + TS_PACKET_SIZE;
    this.packetEnd = this.pos;
  }

  private writePcr(out: Buffer, p: number, pcr: number): void {
    // 33-bit base, 6 reserved bits, 9-bit extension (0)
    const hi = Math.floor(pcr / 2); // bits 32..1
    out[p] = Math.floor(hi / 16777216) & 0xff;
    out[p + 1] = (hi >>> 16) & 0xff;
    out[p + 2] = (hi >>> 8) & 0xff;
    out[p + 3] = hi & 0xff;
    out[p + 4] = ((pcr & 1) << 7) | 0x7e;
    out[p + 5] = 0;
  }

  /** Starts the next TS packet of the current PES: header, adaptation field, stuffing. */
  private nextPacket(): void {
    const out = this.out;
    const p = this.pos;
    const pid = this.pesPid;
    let cc: number;
    if (this.pesTrack === Track.Video) {
      cc = this.ccVideo;
      this.ccVideo = (cc + 1) & 0x0f;
    } else {
      cc = this.ccAudio;
      this.ccAudio = (cc + 1) & 0x0f;
    }
    const first = this.pesFirst;
    this.pesFirst = false;
    const pcr = first ? this.pesPcr : -1;
    const rai = first && this.pesRai;
    const afBase = pcr >= 0 ? 8 : rai ? 2 : 0;
    const cap = TS_PACKET_SIZE - 4 - afBase;
    // adaptation field total bytes (including its length byte)
    let af = afBase;
    if (this.remaining < cap) af = TS_PACKET_SIZE - 4 - this.remaining;
    out[p] = 0x47;
    out[p + 1] = (first ? 0x40 : 0) | ((pid >> 8) & 0x1f);
    out[p + 2] = pid & 0xff;
    out[p + 3] = (af > 0 ? 0x30 : 0x10) | cc;
    let q = p + 4;
    if (af > 0) {
      out[q] = af - 1; // adaptation_field_length
      if (af > 1) {
        let flags = 0;
        if (rai) flags |= 0x40;
        if (pcr >= 0) {
          flags |= 0x10;
          if (this.pcrDiscontinuity) {
            flags |= 0x80;
            this.pcrDiscontinuity = false;
          }
        }
        out[q + 1] = flags;
        let s = q + 2;
        if (pcr >= 0) {
          this.writePcr(out, s, pcr);
          s += 6;
        }
        out.fill(0xff, s, q + af);
      }
      q += af;
    }
    this.pos = q;
    this.packetEnd = p + TS_PACKET_SIZE;
  }

  /** Appends src[start, end) to the current PES, spilling into new packets as needed. */
  private put(src: Buffer, start: number, end: number): void {
    while (start < end) {
      if (this.pos === this.packetEnd) this.nextPacket();
      const n = Math.min(end - start, this.packetEnd - this.pos);
      if (n <= 16) {
        // start codes, PES/ADTS headers: a loop beats Buffer.copy's per-call cost
        const out = this.out;
        for (let i = 0; i < n; i++) out[this.pos + i] = src[start + i]!;
      } else src.copy(this.out, this.pos, start, start + n);
      this.pos += n;
      start += n;
      this.remaining -= n;
    }
  }

  private finish(total: number): Buffer {
    const out = this.out;
    this.out = EMPTY;
    this.stats.packets += total / TS_PACKET_SIZE;
    this.stats.bytes += total;
    return out;
  }
}
