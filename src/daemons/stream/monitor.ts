/**
 * Input monitor: what one input delivers, measured on the bytes as they arrive (bitrate, last
 * packet age) and on a light demux pass from src/media/ts (CC errors, video frames → fps).
 * Bitrate and fps are rates over the last few seconds, updated by tick().
 */

import { PKT_DISCONTINUITY, PKT_DUPLICATE, PKT_NULL, PKT_TEI, TsDemuxer } from '../../media/ts/demuxer.js';

/** The part of src/media/ts's demuxer the monitor reads. */
export interface TsAnalyzer {
  push(chunk: Buffer): void;
  readonly stats: { ccErrors: number; videoFrames: number; packets?: number; lostPackets?: number };
}

const SKIP = PKT_TEI | PKT_NULL | PKT_DUPLICATE;

/**
 * The monitor's demux pass: src/media/ts's TsDemuxer (CC errors, video frames, media info) plus a
 * lost-packet estimate from its per-packet callback: the size of each continuity-counter gap
 * (mod 16, so a loss of 16+ packets in a row is undercounted; it is an estimate).
 */
export function createTsAnalyzer(): TsAnalyzer {
  const lastCc = new Int8Array(8192).fill(-1);
  const extra = { lostPackets: 0 };
  const demux = new TsDemuxer({
    packet(buf, off, pid, flags) {
      if (flags & SKIP) return;
      const b3 = buf[off + 3]!;
      if ((b3 & 0x10) === 0) return; // no payload: CC does not advance
      const cc = b3 & 0x0f;
      const last = lastCc[pid]!;
      if (last >= 0 && (flags & PKT_DISCONTINUITY) === 0 && cc !== ((last + 1) & 0x0f)) extra.lostPackets += (cc - last - 1) & 0x0f || 16;
      lastCc[pid] = cc;
    },
  });
  return {
    push: (chunk) => demux.push(chunk),
    get stats() {
      const st = demux.stats;
      return { ccErrors: st.ccErrors, videoFrames: st.videoFrames, packets: st.packets, lostPackets: extra.lostPackets };
    },
  };
}

export interface MonitorSnapshot {
  bytes: number;
  bitrate: number;
  fps: number;
  ccErrors: number;
  lostPackets: number;
  lastPacketAt: number;
}

const WINDOW_MS = 2000;

export class InputMonitor {
  bytes = 0;
  lastPacketAt = 0;
  bitrate = 0;
  fps = 0;
  private winStart = 0;
  private winBytes = 0;
  private winFrames = 0;
  private analyzer: TsAnalyzer | null = null;
  private ccBase = 0;
  private lostBase = 0;
  private framesBase = 0;

  constructor(private readonly makeAnalyzer: (() => TsAnalyzer) | null) {}

  /** A new byte stream begins (another process, a reconnect): demux state restarts, counters carry on. */
  reset(): void {
    if (this.analyzer) {
      this.ccBase += this.analyzer.stats.ccErrors;
      this.lostBase += this.analyzer.stats.lostPackets ?? this.analyzer.stats.ccErrors;
      this.framesBase += this.analyzer.stats.videoFrames;
    }
    this.analyzer = null;
  }

  feed(chunk: Buffer, now = Date.now()): void {
    this.bytes += chunk.length;
    this.lastPacketAt = now;
    if (this.makeAnalyzer) {
      this.analyzer ??= this.makeAnalyzer();
      this.analyzer.push(chunk);
    }
  }

  get ccErrors(): number {
    return this.ccBase + (this.analyzer?.stats.ccErrors ?? 0);
  }

  get lostPackets(): number {
    const a = this.analyzer?.stats;
    return this.lostBase + (a ? (a.lostPackets ?? a.ccErrors) : 0);
  }

  get videoFrames(): number {
    return this.framesBase + (this.analyzer?.stats.videoFrames ?? 0);
  }

  /** Update the rates; call every few hundred ms. */
  tick(now = Date.now()): void {
    if (this.winStart === 0) {
      this.winStart = now;
      this.winBytes = this.bytes;
      this.winFrames = this.videoFrames;
      return;
    }
    const dt = now - this.winStart;
    if (dt >= WINDOW_MS) {
      this.bitrate = Math.round(((this.bytes - this.winBytes) * 8 * 1000) / dt);
      this.fps = Math.round(((this.videoFrames - this.winFrames) * 1000 * 100) / dt) / 100;
      this.winStart = now;
      this.winBytes = this.bytes;
      this.winFrames = this.videoFrames;
    }
    // silent input: the rates fall to zero at once rather than after a window
    if (this.lastPacketAt && now - this.lastPacketAt > WINDOW_MS) {
      this.bitrate = 0;
      this.fps = 0;
    }
  }

  snapshot(): MonitorSnapshot {
    return {
      bytes: this.bytes,
      bitrate: this.bitrate,
      fps: this.fps,
      ccErrors: this.ccErrors,
      lostPackets: this.lostPackets,
      lastPacketAt: this.lastPacketAt,
    };
  }
}
