/**
 * MPEG-TS demuxer: a pure, push-driven state machine over bytes (no I/O).
 *
 * - 188-byte packets split across any chunk boundary (a small carry buffer bridges chunks);
 * - sync: locks after 3 consecutive sync bytes 188 apart, resyncs the same way after garbage;
 * - adaptation fields (PCR, discontinuity and random-access indicators), stuffing;
 * - PAT/PMT sections (multi-packet, CRC-checked, re-parsed only when their bytes change);
 * - PES headers (also when split across packets), PTS/DTS unwrapped over the 33-bit wrap;
 * - H.264/H.265: the PES payload is scanned at each PES start only until its first VCL NAL, which
 *   tells whether the access unit is a keyframe (IDR, I slice after a recovery-point SEI, IRAP);
 *   SPS/VPS met on the way update the media info;
 * - AAC (ADTS), MPEG audio, AC-3/E-AC-3 headers give sample rate and channels;
 * - continuity counters: errors counted, one duplicate allowed, adaptation-only packets not counted;
 *   each gap's size (mod 16) is added to `stats.lostPackets` (two integer ops, only on an error);
 * - optional full PES reassembly (only when the listener has a `pes` method).
 *
 * PES headers are read by ./pes-header.ts, payloads reassembled by ./pes-assembly.ts, PSI sections
 * by ./section-reader.ts and ./psi.ts, elementary streams scanned by ./es-scan.ts: this file is the
 * framing (sync, carry across chunks), packet headers and the per-track state machine tying them.
 *
 * It never throws on bad bytes (it counts errors in `stats`) and every loop advances.
 * The hot path does no per-packet allocation: header bits are read by direct byte indexing.
 */
import { Buffer } from 'node:buffer';
import { crc32Mpeg2 } from './crc32.js';
import { classifyStream, parsePat, parsePmt } from './psi.js';
import { readPcrBase, TimestampUnwrapper } from './timestamp.js';
import { applyAudioHeader, applyParamSet, PARAM_BAD, PARAM_CHANGED, scanAnnexB } from './es-scan.js';
import * as packet from './packet.js';
import * as track from './track.js';
import { noOptionalHeader, TsTrack } from './track.js';
import { SectionReader } from './section-reader.js';
import { continuePesHeader, HEADER_BAD, HEADER_PENDING, pesPayloadLength, readPesTimestamps, startPesHeader } from './pes-header.js';
import { abortPes, appendPes, ASM_COMPLETE, ASM_OVERFLOW, beginPes, takePes } from './pes-assembly.js';
import { summarizeMediaInfo } from './media-summary.js';
import {
  createDemuxStats,
  PID_NULL,
  PID_PAT,
  type DemuxStats,
  type MediaInfo,
  type TrackCodec,
  type TrackKind,
} from './types.js';

/** Flags passed to `TsDemuxListener.packet`. */
export const PKT_NULL = 1;
/** PAT or the selected program's PMT. */
export const PKT_PSI = 2;
/** transport_error_indicator set: the packet was not parsed. */
export const PKT_TEI = 4;
/** A repeated packet (same continuity counter): its payload was ignored. */
export const PKT_DUPLICATE = 8;
export const PKT_PUSI = 16;
/** random_access_indicator set in the adaptation field. */
export const PKT_RAI = 32;
/** discontinuity_indicator set in the adaptation field. */
export const PKT_DISCONTINUITY = 64;

export interface TsDemuxListener {
  /**
   * Called once for every 188-byte packet, in stream order, after the events it caused
   * (pesBegin/pesReady/program/mediaInfo/pes). `buf` is the input chunk or, for a packet split across
   * chunks, a fresh buffer: both stay valid after the call (the caller must not mutate its input).
   */
  packet(buf: Buffer, offset: number, pid: number, flags: number): void;
  /** The packet at buf[offset] starts a new PES on this track (payload_unit_start_indicator). */
  pesBegin(track: TsTrack, buf: Buffer, offset: number): void;
  /**
   * The current PES of the track is known: `track.pts/dts` (NaN when absent), `track.jump` and, for video,
   * `track.keyframe` (decided at its first VCL NAL, which may come some packets after pesBegin).
   * Exactly one pesReady follows each pesBegin of a PES track (unless `reset()` intervenes).
   */
  pesReady(track: TsTrack): void;
  /** A complete PES payload (only when the listener defines it). `payload` is valid during the call only. */
  pes(track: TsTrack, payload: Buffer): void;
  /** The PMT of the selected program changed (tracks added/removed/changed). */
  program(info: MediaInfo): void;
  /** Codec parameters of a track changed (SPS, audio header, measured frame rate). */
  mediaInfo(info: MediaInfo): void;
}

export interface TsDemuxerOptions {
  /** A PTS/DTS/PCR step forward larger than this, or any step back, counts as a jump. Default 5000. */
  jumpThresholdMs: number;
  /** Program to demux; default: the first one of the PAT. */
  programNumber?: number;
  /** Bytes of a video PES scanned for its first VCL NAL before giving up (not a keyframe). Default 65536. */
  maxScanBytes: number;
  /** Largest PES reassembled for `pes` (bigger ones are dropped and counted as format errors). Default 16 MiB. */
  maxPesBytes: number;
  /** Reassemble whole PES payloads for `listener.pes`. Default: true when the listener has a `pes` method. */
  reassemble?: boolean;
}

/** PIDs are 13 bits: per-PID state lives in arrays of this size, indexed by PID. */
const PID_COUNT = 8192;
/** MPEG-TS timestamps (PTS, DTS, PCR base) count 90 kHz ticks. */
const TICKS_PER_MS = 90;
const TICKS_PER_SECOND = 90_000;
/** Consecutive equal frame durations before the measured frame rate is trusted. */
const STABLE_FRAMES_FOR_FPS = 3;
const DEFAULT_JUMP_THRESHOLD_MS = 5000;
const DEFAULT_MAX_SCAN_BYTES = 64 * 1024;
const MIN_MAX_SCAN_BYTES = 16;
const DEFAULT_MAX_PES_BYTES = 16 * 1024 * 1024;
const MIN_MAX_PES_BYTES = 1024;

/** What a PID carries (pidType). */
const PT_NONE = 0;
const PT_PAT = 1;
const PT_PMT = 2;
const PT_PES = 3;
const PT_NULL = 4;
const PT_OTHER = 5;

// Module-local copies of hot constants: imported bindings can cost a getter call per access under
// some loaders (tsx/CJS interop), and these are read for every packet.
const C_H264 = track.C_H264;
const C_H265 = track.C_H265;
const C_AAC = track.C_AAC;
const C_MPA = track.C_MPA;
const C_AC3 = track.C_AC3;
const C_VIDEO_OTHER = track.C_VIDEO_OTHER;
const S_IDLE = track.S_IDLE;
const S_HEADER = track.S_HEADER;
const S_SCAN = track.S_SCAN;
const PEEK_NONE = track.PEEK_NONE;
const PACKET = packet.TS_PACKET;
const TS_SYNC = packet.TS_SYNC;
const TEI_BIT = packet.TEI_BIT;
const PUSI_BIT = packet.PUSI_BIT;
const PID_HIGH_MASK = packet.PID_HIGH_MASK;
const AF_PRESENT_BIT = packet.AF_PRESENT_BIT;
const PAYLOAD_PRESENT_BIT = packet.PAYLOAD_PRESENT_BIT;
const CC_MASK = packet.CC_MASK;
const AF_DISCONTINUITY_BIT = packet.AF_DISCONTINUITY_BIT;
const AF_RANDOM_ACCESS_BIT = packet.AF_RANDOM_ACCESS_BIT;
const AF_PCR_BIT = packet.AF_PCR_BIT;
const AF_PCR_MIN_LENGTH = packet.AF_PCR_MIN_LENGTH;
const PES_SHORT_HEADER = packet.PES_SHORT_HEADER;
const PES_FIXED_HEADER = packet.PES_FIXED_HEADER;
const PTS_FORBIDDEN = packet.PTS_FORBIDDEN;
/** Bytes kept between chunks: a partial packet and a sync candidate's look-ahead are under 3 packets. */
const CARRY_CAP = 1024;
/** Sync is confirmed by 3 sync bytes one packet apart: the bridge takes that much of the next chunk. */
const SYNC_CONFIRM_PACKETS = 3;
const BRIDGE_TAIL = SYNC_CONFIRM_PACKETS * PACKET;

const noop = (): void => {};

function completeListener(l: Partial<TsDemuxListener>): TsDemuxListener {
  if (
    typeof l.packet === 'function' &&
    typeof l.pesBegin === 'function' &&
    typeof l.pesReady === 'function' &&
    typeof l.pes === 'function' &&
    typeof l.program === 'function' &&
    typeof l.mediaInfo === 'function'
  ) {
    return l as TsDemuxListener;
  }
  return {
    packet: l.packet ? l.packet.bind(l) : noop,
    pesBegin: l.pesBegin ? l.pesBegin.bind(l) : noop,
    pesReady: l.pesReady ? l.pesReady.bind(l) : noop,
    pes: l.pes ? l.pes.bind(l) : noop,
    program: l.program ? l.program.bind(l) : noop,
    mediaInfo: l.mediaInfo ? l.mediaInfo.bind(l) : noop,
  };
}

export { TsTrack };

export class TsDemuxer {
  /** Counters, updated in place. */
  readonly stats: DemuxStats = createDemuxStats();
  /** Program/track description, updated in place. */
  readonly mediaInfo: MediaInfo = { tracks: [] };

  private readonly l: TsDemuxListener;
  private readonly reassemble: boolean;
  private readonly jumpTicks: number;
  private readonly wantProgram: number;
  private readonly maxScan: number;
  private readonly maxPes: number;

  private readonly pidType = new Uint8Array(PID_COUNT);
  private readonly trackByPid: (TsTrack | undefined)[] = new Array<TsTrack | undefined>(PID_COUNT).fill(undefined);
  private readonly lastCc = new Int8Array(PID_COUNT).fill(-1);
  private readonly dupCount = new Uint8Array(PID_COUNT);
  private readonly unwrapper = new TimestampUnwrapper();
  private trackList: TsTrack[] = [];

  private locked = false;
  private readonly carry = Buffer.allocUnsafe(CARRY_CAP);
  private carryLen = 0;

  private pmtPidSel = -1;
  private pcrPid = -1;
  private patRaw: Buffer | null = null;
  private pmtRaw: Buffer | null = null;
  private readonly patAsm = new SectionReader((b, o, n) => this.section(true, b, o, n), () => void this.stats.formatErrors++);
  private readonly pmtAsm = new SectionReader((b, o, n) => this.section(false, b, o, n), () => void this.stats.formatErrors++);

  constructor(listener: Partial<TsDemuxListener> = {}, opts: Partial<TsDemuxerOptions> = {}) {
    this.l = completeListener(listener);
    this.reassemble = opts.reassemble ?? typeof listener.pes === 'function';
    this.jumpTicks = Math.max(0, opts.jumpThresholdMs ?? DEFAULT_JUMP_THRESHOLD_MS) * TICKS_PER_MS;
    this.wantProgram = opts.programNumber ?? -1;
    this.maxScan = Math.max(MIN_MAX_SCAN_BYTES, opts.maxScanBytes ?? DEFAULT_MAX_SCAN_BYTES);
    this.maxPes = Math.max(MIN_MAX_PES_BYTES, opts.maxPesBytes ?? DEFAULT_MAX_PES_BYTES);
    this.pidType[PID_PAT] = PT_PAT;
    this.pidType[PID_NULL] = PT_NULL;
  }

  /** The latest valid PAT section (raw bytes, CRC included), or null. */
  get patSection(): Buffer | null {
    return this.patRaw;
  }

  /** The latest valid PMT section of the selected program (raw bytes, CRC included), or null. */
  get pmtSection(): Buffer | null {
    return this.pmtRaw;
  }

  /** PID of the selected program's PMT, -1 before the PAT. */
  get pmtPid(): number {
    return this.pmtPidSel;
  }

  /** Tracks of the selected program, in PMT order. */
  get tracks(): readonly TsTrack[] {
    return this.trackList;
  }

  /** Feeds bytes (any chunking). */
  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    this.stats.bytes += n;
    if (this.carryLen === 0) {
      const stop = this.process(chunk, 0, n, false);
      this.saveCarry(chunk, stop, n);
      return;
    }
    // Bridge: carry + the head of the chunk, in a fresh buffer (packets handed out from it stay valid).
    const carryLen = this.carryLen;
    const take = n < BRIDGE_TAIL ? n : BRIDGE_TAIL;
    const bridge = Buffer.allocUnsafe(carryLen + take);
    this.carry.copy(bridge, 0, 0, carryLen);
    chunk.copy(bridge, carryLen, 0, take);
    this.carryLen = 0;
    const s = this.process(bridge, 0, bridge.length, false);
    if (take === n) {
      this.saveCarry(bridge, s, bridge.length);
      return;
    }
    let from = s - carryLen;
    if (from < 0) {
      // Cannot happen (the bridge always has enough look-ahead); never lose track of bytes anyway.
      this.stats.droppedBytes += -from;
      this.locked = false;
      from = 0;
    }
    const stop = this.process(chunk, from, n, false);
    this.saveCarry(chunk, stop, n);
  }

  /** End of stream: parses what is left, resolves pending access units, emits pending PES. */
  flush(): void {
    if (this.carryLen > 0) {
      const rest = Buffer.from(this.carry.subarray(0, this.carryLen));
      this.carryLen = 0;
      const stop = this.process(rest, 0, rest.length, true);
      this.stats.droppedBytes += rest.length - stop;
    }
    this.locked = false;
    for (const t of this.trackList) {
      if (t.state !== S_IDLE) this.finishPending(t);
      if (t.asmActive) this.emitPes(t);
    }
  }

  /**
   * The source switched: forget partial packets, continuity counters, PES in progress and the timestamp
   * history (no jump is counted across the switch). The known program stays until a new PAT/PMT differs.
   * No pesReady is delivered for PES in progress.
   */
  reset(): void {
    this.stats.droppedBytes += this.carryLen;
    this.carryLen = 0;
    this.locked = false;
    this.lastCc.fill(-1);
    this.dupCount.fill(0);
    this.patAsm.reset();
    this.pmtAsm.reset();
    this.unwrapper.reset();
    this.stats.lastPcr = Number.NaN;
    for (const t of this.trackList) {
      t.state = S_IDLE;
      t.collect = -1;
      t.peek = PEEK_NONE;
      abortPes(t);
      t.lastT = Number.NaN;
      t.stableDur = 0;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Framing

  private saveCarry(buf: Buffer, from: number, end: number): void {
    let n = end - from;
    if (n <= 0) return;
    if (n > CARRY_CAP) {
      // Cannot happen (leftovers are < 3 packets); keep the tail.
      this.stats.droppedBytes += n - CARRY_CAP;
      from = end - CARRY_CAP;
      n = CARRY_CAP;
    }
    buf.copy(this.carry, 0, from, end);
    this.carryLen = n;
  }

  /**
   * Parses packets in buf[pos, end). Returns the offset of the first byte not consumed
   * (a partial packet, or a sync candidate that needs more look-ahead).
   */
  private process(buf: Buffer, pos: number, end: number, final: boolean): number {
    for (;;) {
      if (!this.locked) {
        const r = this.findSync(buf, pos, end, final);
        if (r < 0) {
          const p = -r - 1;
          this.stats.droppedBytes += p - pos;
          return p;
        }
        this.stats.droppedBytes += r - pos;
        pos = r;
        if (r >= end) return end;
        this.locked = true;
      }
      while (pos + PACKET <= end) {
        if (buf[pos] !== TS_SYNC) {
          this.locked = false;
          this.stats.syncLosses++;
          break;
        }
        this.pkt(buf, pos);
        pos += PACKET;
      }
      if (this.locked) return pos;
    }
  }

  /**
   * Finds a sync position: a 0x47 followed by two more 188 bytes apart. Returns its offset, `end` when the
   * range holds no candidate, or -(p+1) when the candidate at p needs more data to be verified.
   */
  private findSync(buf: Buffer, pos: number, end: number, final: boolean): number {
    for (let p = pos; p < end; p++) {
      if (buf[p] !== TS_SYNC) continue;
      if (p + 2 * PACKET < end) {
        if (buf[p + PACKET] === TS_SYNC && buf[p + 2 * PACKET] === TS_SYNC) return p;
        continue;
      }
      if (!final) return -p - 1;
      if (p + PACKET < end && buf[p + PACKET] !== TS_SYNC) continue;
      return p;
    }
    return end;
  }

  // ---------------------------------------------------------------------------------------------
  // Packets

  private pkt(buf: Buffer, i: number): void {
    const st = this.stats;
    st.packets++;
    const b1 = buf[i + 1]!;
    const pid = ((b1 & PID_HIGH_MASK) << 8) | buf[i + 2]!;
    if (b1 & TEI_BIT) {
      st.transportErrors++;
      this.l.packet(buf, i, pid, PKT_TEI);
      return;
    }
    const type = this.pidType[pid]!;
    if (type === PT_NULL) {
      st.nullPackets++;
      this.l.packet(buf, i, pid, PKT_NULL);
      return;
    }
    const b3 = buf[i + 3]!;
    const end = i + PACKET;
    let p = i + 4;
    let flags = b1 & PUSI_BIT ? PKT_PUSI : 0;
    if (type === PT_PAT || type === PT_PMT) flags |= PKT_PSI;
    if (b3 & AF_PRESENT_BIT) {
      const afLen = buf[i + 4]!;
      p += 1 + afLen;
      if (afLen > 0) {
        const af = buf[i + 5]!;
        if (af & AF_DISCONTINUITY_BIT) flags |= PKT_DISCONTINUITY;
        if (af & AF_RANDOM_ACCESS_BIT) flags |= PKT_RAI;
        if (af & AF_PCR_BIT && afLen >= AF_PCR_MIN_LENGTH && pid === this.pcrPid) this.onPcr(buf, i + 6);
      }
      if (p > end) {
        st.formatErrors++;
        p = end;
      }
    }
    if (b3 & PAYLOAD_PRESENT_BIT) {
      const cc = b3 & CC_MASK;
      const last = this.lastCc[pid]!;
      if (last >= 0 && (flags & PKT_DISCONTINUITY) === 0) {
        if (cc === last) {
          if (this.dupCount[pid]++ === 0) {
            st.duplicatePackets++;
            this.l.packet(buf, i, pid, flags | PKT_DUPLICATE);
            return;
          }
          st.ccErrors++;
          st.lostPackets += CC_MASK; // the same CC again: 15 packets (the gap size mod 16) went missing
        } else {
          if (cc !== ((last + 1) & CC_MASK)) {
            st.ccErrors++;
            // the gap's size is the lost-packet estimate (mod 16; never 0 here since cc != last + 1)
            st.lostPackets += (cc - last - 1) & CC_MASK;
            this.onCcError(type);
          }
          this.dupCount[pid] = 0;
        }
      } else {
        this.dupCount[pid] = 0;
      }
      this.lastCc[pid] = cc;
      if (p < end) {
        if (type === PT_PES) {
          const t = this.trackByPid[pid]!;
          if (flags & PKT_PUSI) this.pesStart(t, buf, i, p, end, flags);
          else if (t.state !== S_IDLE || t.asmActive) this.pesData(t, buf, p, end);
        } else if (type === PT_PAT) {
          this.patAsm.push(buf, p, end, flags & PKT_PUSI);
        } else if (type === PT_PMT) {
          this.pmtAsm.push(buf, p, end, flags & PKT_PUSI);
        }
      }
    }
    this.l.packet(buf, i, pid, flags);
  }

  private onCcError(type: number): void {
    if (type === PT_PAT) this.patAsm.reset();
    else if (type === PT_PMT) this.pmtAsm.reset();
  }

  private onPcr(buf: Buffer, off: number): void {
    const v = this.unwrapper.unwrap(readPcrBase(buf, off));
    const st = this.stats;
    const last = st.lastPcr;
    if (last === last) {
      const d = v - last;
      if (d < 0 || d > this.jumpTicks) st.pcrJumps++;
    }
    st.lastPcr = v;
  }

  // ---------------------------------------------------------------------------------------------
  // PES

  private pesStart(t: TsTrack, buf: Buffer, i: number, p: number, end: number, flags: number): void {
    if (!t.isPes) return;
    if (t.state !== S_IDLE) this.finishPending(t);
    if (t.asmActive) this.emitPes(t);
    t.randomAccess = (flags & PKT_RAI) !== 0;
    t.pts = Number.NaN;
    t.dts = Number.NaN;
    t.keyframe = false;
    t.jump = false;
    this.l.pesBegin(t, buf, i);
    const hl = startPesHeader(t, buf, p, end);
    if (hl === HEADER_PENDING) {
      t.state = S_HEADER;
    } else if (hl === HEADER_BAD) {
      this.badHeader(t);
    } else {
      if (hl === PES_SHORT_HEADER) this.shortHeader(t, buf[p + 3]!);
      else this.pesHeader(t, buf, p);
      this.esData(t, buf, p + hl, end);
    }
  }

  private pesData(t: TsTrack, buf: Buffer, p: number, end: number): void {
    if (t.state === S_HEADER) {
      const used = continuePesHeader(t, buf, p, end);
      if (used === HEADER_BAD) {
        this.badHeader(t);
        return;
      }
      p += used;
      if (t.hdrLen < t.hdrNeed) return;
      const h = t.hdr!;
      if (t.hdrNeed === PES_FIXED_HEADER && noOptionalHeader(h[3]!)) {
        this.shortHeader(t, h[3]!);
        this.esData(t, h, PES_SHORT_HEADER, PES_FIXED_HEADER);
      } else {
        this.pesHeader(t, h, 0);
      }
    }
    if (p < end) this.esData(t, buf, p, end);
  }

  /** A PES without optional header (no timestamps, length unknown to us). */
  private shortHeader(t: TsTrack, streamId: number): void {
    t.streamId = streamId;
    this.headerDone(t, Number.NaN, Number.NaN, -1);
  }

  private pesHeader(t: TsTrack, h: Buffer, o: number): void {
    if (readPesTimestamps(t, h, o, this.unwrapper) === PTS_FORBIDDEN) this.stats.formatErrors++;
    this.headerDone(t, t.pts, t.dts, pesPayloadLength(h, o));
  }

  private headerDone(t: TsTrack, pts: number, dts: number, esLen: number): void {
    t.pts = pts;
    t.dts = dts;
    const ts = dts === dts ? dts : pts;
    if (ts === ts) {
      const last = t.lastT;
      if (last === last) {
        const d = ts - last;
        if (d < 0 || d > this.jumpTicks) {
          t.jump = true;
          this.stats.ptsJumps++;
          t.stableDur = 0;
        } else if (d > 0) {
          if (d === t.frameDuration) t.stableDur++;
          else t.stableDur = 0;
          t.frameDuration = d;
        }
      }
      t.lastT = ts;
    }
    if (this.reassemble) beginPes(t, esLen);
    switch (t.codecId) {
      case C_H264:
      case C_H265:
        t.state = S_SCAN;
        t.zeros = 0;
        t.nalNext = false;
        t.collect = -1;
        t.scanned = 0;
        t.peek = PEEK_NONE;
        t.recovery = false;
        return;
      case C_VIDEO_OTHER:
        t.keyframe = t.randomAccess;
        this.ready(t);
        return;
      case C_AAC:
      case C_MPA:
      case C_AC3:
        t.keyframe = true;
        t.audioParse = true;
        this.ready(t);
        return;
      default:
        t.keyframe = t.kind === 'audio';
        this.ready(t);
    }
  }

  /** @internal EsScanHost */
  ready(t: TsTrack): void {
    t.state = S_IDLE;
    const st = this.stats;
    if (t.kind === 'video') {
      st.videoFrames++;
      if (t.keyframe) st.keyframes++;
      if (!t.vuiFps && t.stableDur >= STABLE_FRAMES_FOR_FPS && t.frameDuration > 0) {
        const fps = Math.round((TICKS_PER_SECOND / t.frameDuration) * 1000) / 1000;
        if (fps !== t.info.fps) {
          t.info.fps = fps;
          this.infoChanged();
        }
      }
    } else if (t.kind === 'audio') {
      st.audioFrames++;
    }
    this.l.pesReady(t);
  }

  /** A PES whose header is malformed: counted, reported without timestamps and not keyframe. */
  private badHeader(t: TsTrack): void {
    this.stats.formatErrors++;
    t.state = S_IDLE;
    abortPes(t);
    t.pts = Number.NaN;
    t.dts = Number.NaN;
    t.keyframe = false;
    this.ready(t);
  }

  /** A new PES started (or the stream ended) while the previous one was still undecided. */
  private finishPending(t: TsTrack): void {
    if (t.state === S_HEADER) {
      this.badHeader(t);
      return;
    }
    t.keyframe = false;
    t.collect = -1;
    t.peek = PEEK_NONE;
    this.ready(t);
  }

  private esData(t: TsTrack, buf: Buffer, p: number, end: number): void {
    if (t.state === S_SCAN) scanAnnexB(t, buf, p, end, this.maxScan, this);
    else if (t.audioParse && applyAudioHeader(t, buf, p, end)) this.infoChanged();
    if (t.asmActive) {
      const r = appendPes(t, buf, p, end, this.maxPes);
      if (r === ASM_COMPLETE) this.emitPes(t);
      else if (r === ASM_OVERFLOW) this.stats.formatErrors++;
    }
  }

  /** @internal EsScanHost */
  paramSet(t: TsTrack, type: number): void {
    const r = applyParamSet(t, type);
    if (r === PARAM_BAD) this.stats.formatErrors++;
    else if (r === PARAM_CHANGED) this.infoChanged();
  }

  private emitPes(t: TsTrack): void {
    this.l.pes(t, takePes(t));
  }

  // ---------------------------------------------------------------------------------------------
  // PSI

  private section(isPat: boolean, buf: Buffer, off: number, len: number): void {
    const raw = isPat ? this.patRaw : this.pmtRaw;
    if (raw !== null && raw.length === len && buf.compare(raw, 0, len, off, off + len) === 0) return;
    if (crc32Mpeg2(buf, off, off + len) !== 0) {
      this.stats.crcErrors++;
      return;
    }
    if (isPat) this.onPat(buf, off, len);
    else this.onPmt(buf, off, len);
  }

  private onPat(buf: Buffer, off: number, len: number): void {
    const pat = parsePat(buf, off, len);
    if (pat === null) {
      this.stats.formatErrors++;
      return;
    }
    if (!pat.currentNext) return;
    let sel = -1;
    let prog = -1;
    for (const p of pat.programs) {
      if (p.programNumber === 0) continue;
      if (this.wantProgram < 0 || p.programNumber === this.wantProgram) {
        sel = p.pid;
        prog = p.programNumber;
        break;
      }
    }
    this.patRaw = Buffer.from(buf.subarray(off, off + len));
    if (sel < 0 || sel === PID_NULL || sel === PID_PAT) return;
    if (sel !== this.pmtPidSel || prog !== this.mediaInfo.programNumber) {
      if (this.pmtPidSel >= 0 && this.pidType[this.pmtPidSel] === PT_PMT) this.pidType[this.pmtPidSel] = PT_NONE;
      const existing = this.trackByPid[sel];
      if (existing !== undefined) this.removeTrack(existing);
      this.pmtPidSel = sel;
      this.pidType[sel] = PT_PMT;
      this.pmtRaw = null;
      this.pmtAsm.reset();
      this.mediaInfo.programNumber = prog;
      this.mediaInfo.pmtPid = sel;
    }
  }

  private removeTrack(t: TsTrack): void {
    if (this.trackByPid[t.pid] === t) {
      this.trackByPid[t.pid] = undefined;
      this.pidType[t.pid] = PT_NONE;
    }
  }

  private onPmt(buf: Buffer, off: number, len: number): void {
    const pmt = parsePmt(buf, off, len);
    if (pmt === null) {
      this.stats.formatErrors++;
      return;
    }
    if (!pmt.currentNext || pmt.programNumber !== this.mediaInfo.programNumber) return;
    this.pmtRaw = Buffer.from(buf.subarray(off, off + len));
    const next: TsTrack[] = [];
    const seen = new Set<number>();
    for (const s of pmt.streams) {
      const pid = s.pid;
      if (pid <= 1 || pid === PID_NULL || pid === this.pmtPidSel || seen.has(pid)) continue;
      seen.add(pid);
      const cls = classifyStream(s.streamType, s.descriptors);
      let t = this.trackByPid[pid];
      if (t === undefined || t.streamType !== s.streamType || t.codec !== cls.codec) {
        t = new TsTrack(pid, s.streamType, cls.kind, cls.codec, cls.pes, cls.language);
      } else if (cls.language !== undefined) {
        t.info.language = cls.language;
      }
      next.push(t);
    }
    for (const old of this.trackList) if (!seen.has(old.pid) || !next.includes(old)) this.removeTrack(old);
    for (const t of next) {
      this.trackByPid[t.pid] = t;
      this.pidType[t.pid] = t.isPes ? PT_PES : PT_OTHER;
    }
    this.trackList = next;
    this.pcrPid = pmt.pcrPid === PID_NULL ? -1 : pmt.pcrPid;
    this.stats.pmtUpdates++;
    const mi = this.mediaInfo;
    mi.pmtVersion = pmt.version;
    mi.pcrPid = pmt.pcrPid;
    mi.tracks = next.map((t) => t.info);
    this.summarize();
    this.l.program(mi);
  }

  private infoChanged(): void {
    this.summarize();
    this.l.mediaInfo(this.mediaInfo);
  }

  private summarize(): void {
    summarizeMediaInfo(this.mediaInfo);
  }
}
