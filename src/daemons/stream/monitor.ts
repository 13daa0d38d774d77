/**
 * Input monitor: what one input delivers, measured on the bytes as they arrive (bitrate, last
 * packet age) and on a demux pass from src/media/ts (CC errors, lost packets, video frames → fps).
 * Bitrate and fps are rates over the last few seconds, updated by tick().
 *
 * The demux pass is the monitor's own (a TsAnalyzer it makes) or, while the input's bytes are the
 * very bytes the HLS writer demuxes anyway (a native passthrough input that is active), a
 * SharedDemuxView of the writer's pass: one demux per byte, not two (issue #14).
 */

import { TsDemuxer } from '../../media/ts/demuxer.js';
import type { DemuxStats } from '../../media/ts/types.js';

/** The part of src/media/ts's demuxer the monitor reads. */
export interface TsAnalyzer {
  push(chunk: Buffer): void;
  readonly stats: { ccErrors: number; videoFrames: number; packets?: number; lostPackets?: number };
}

/** The demux counters a shared view reads (a TsDemuxer's `stats`, updated in place). */
export type DemuxCounters = Readonly<Pick<DemuxStats, 'ccErrors' | 'lostPackets' | 'videoFrames' | 'packets'>>;

/**
 * The monitor's own demux pass: src/media/ts's TsDemuxer, whose stats carry the CC errors, the
 * lost-packet estimate (CC gap sizes) and the video frames. The same counters as the writer's
 * segmenter keeps, by the same code, so the own and the shared pass report alike.
 */
export function createTsAnalyzer(): TsAnalyzer {
  return new TsDemuxer();
}

/**
 * A TsAnalyzer that demuxes nothing: it shows the counters of another demux pass over the same
 * bytes (the HLS writer's segmenter of rendition 0), as deltas from the moment it was made, so
 * the monitor's cumulative counters go on from where its own pass left them.
 *
 * `source` names the pass to read now. The supervisor replaces a writer when live output moves
 * to another root (LiveStorage): the view then keeps what the old pass counted since it attached
 * and reads the new one from zero, since a writer only receives the active pipeline's bytes and
 * a writer first seen after the attachment got all of them while this view was attached. (Two
 * replacements between two reads would lose the middle writer's counts; the monitor reads every
 * tick, and a move opens its writers one await after another, so it does not happen in practice.)
 */
export class SharedDemuxView implements TsAnalyzer {
  private src: DemuxCounters | null;
  // counts of src when it was first seen (0 for a writer that came after the attachment)
  private baseCc = 0;
  private baseLost = 0;
  private baseFrames = 0;
  private basePackets = 0;
  // counted by the sources read before src
  private accCc = 0;
  private accLost = 0;
  private accFrames = 0;
  private accPackets = 0;

  constructor(private readonly source: () => DemuxCounters | null) {
    this.src = source();
    if (this.src) {
      this.baseCc = this.src.ccErrors;
      this.baseLost = this.src.lostPackets;
      this.baseFrames = this.src.videoFrames;
      this.basePackets = this.src.packets;
    }
  }

  /** The bytes are demuxed by the source's owner (the writer): nothing to do here. */
  push(_chunk: Buffer): void {}

  get stats(): { ccErrors: number; videoFrames: number; packets: number; lostPackets: number } {
    const now = this.source();
    if (now !== this.src) {
      const old = this.src;
      if (old) {
        this.accCc += old.ccErrors - this.baseCc;
        this.accLost += old.lostPackets - this.baseLost;
        this.accFrames += old.videoFrames - this.baseFrames;
        this.accPackets += old.packets - this.basePackets;
      }
      this.src = now;
      this.baseCc = this.baseLost = this.baseFrames = this.basePackets = 0;
    }
    const s = this.src;
    return {
      ccErrors: this.accCc + (s ? s.ccErrors - this.baseCc : 0),
      lostPackets: this.accLost + (s ? s.lostPackets - this.baseLost : 0),
      videoFrames: this.accFrames + (s ? s.videoFrames - this.baseFrames : 0),
      packets: this.accPackets + (s ? s.packets - this.basePackets : 0),
    };
  }
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
  /** the analyzer is a shared view (share()), not a pass of the monitor's own */
  private shared = false;
  private ccBase = 0;
  private lostBase = 0;
  private framesBase = 0;

  constructor(private readonly makeAnalyzer: (() => TsAnalyzer) | null) {}

  /** A new byte stream begins (another process, a reconnect): demux state restarts, counters carry on. */
  reset(): void {
    // a shared view's owner restarts its own demux state (the writer's discontinuity) and its
    // counters go on: the view stays
    if (this.shared) return;
    this.fold();
    this.analyzer = null;
  }

  /**
   * Read the demux counters from `view` (another pass over these very bytes, see SharedDemuxView)
   * instead of demuxing them again; null: back to a pass of the monitor's own, from the next byte.
   * The counters stay cumulative across the swap either way.
   */
  share(view: TsAnalyzer | null): void {
    if (view === null && !this.shared) return; // the own pass (or none yet) goes on
    this.fold();
    this.analyzer = view;
    this.shared = view !== null;
  }

  /** Whether the counters come from a shared view (share()) now. */
  get sharing(): boolean {
    return this.shared;
  }

  /** What the current analyzer counted goes into the bases (it is about to be dropped). */
  private fold(): void {
    if (!this.analyzer) return;
    const st = this.analyzer.stats;
    this.ccBase += st.ccErrors;
    this.lostBase += st.lostPackets ?? st.ccErrors;
    this.framesBase += st.videoFrames;
  }

  feed(chunk: Buffer, now = Date.now()): void {
    this.bytes += chunk.length;
    this.lastPacketAt = now;
    if (!this.shared && this.makeAnalyzer) this.analyzer ??= this.makeAnalyzer();
    this.analyzer?.push(chunk);
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
