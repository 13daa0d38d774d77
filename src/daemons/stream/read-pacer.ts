/**
 * Read pacing of a socket or pipe handed over by the node (an RTMP publisher's socket, an SRT
 * publisher's TS pipe): read what is there, then nothing for a while, so each read runs the whole
 * chain once (parse → TS → demux → segmenter → writer) on a batch instead of once per packet. The
 * fixed cost of a run, not the bytes, is most of an ingest stream's CPU (rtmp-publication.ts).
 *
 * At the handle when it can be (net.Socket's `_handle`): between reads the bytes wait in the
 * kernel and nothing wakes up for them (a paused stream would go on reading into its buffer as
 * they arrive). Otherwise the stream is paused and resumed.
 */
import type net from 'node:net';

/**
 * Read pacing while nothing downstream needs the frames at once (no live TS reader such as a
 * WebRTC viewer, no LL-HLS parts): 200 ms. Each read wakes the process and runs the whole chain
 * once (RTMP chunks → FLV → TS → demux → segmenter → writer), and that fixed cost per run, not the
 * bytes, is most of an ingest stream's CPU: measured on one 3 Mbit/s publisher, 1.9 % of a core at
 * 40 ms, 1.2 % at 100 ms, 0.93 % at 200 ms. A segment then closes at most 200 ms late, which an
 * HLS viewer 3 segments behind never sees; a low-latency reader switches the pacing back to the
 * agent's limit (40 ms) at the next read.
 */
export const RELAXED_READ_PACING_MS = 200;

/**
 * The pause after a read: the agent's limit (0: no pacing at all), or the stream's batching pause
 * when that is longer (Supervisor.batchPauseMs: 0 while a reader needs frames at once).
 */
export function pacingMs(limitMs: number, batchPauseMs: number): number {
  if (limitMs <= 0) return 0;
  return Math.max(limitMs, batchPauseMs);
}

/** The node's read buffer for a stream (64 KiB): a read that fills it may have left bytes in the kernel. */
const READ_BUFFER_BYTES = 64 * 1024;

/** The part of a socket's libuv handle the pacing uses. */
interface ReadHandle {
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

export class ReadPacer {
  private timer: NodeJS.Timeout | null = null;
  private handle: ReadHandle | undefined;
  /** a stop of the reads is scheduled after this poll's reads */
  private burst = false;
  private stopped = false;

  /** `pauseMs()`: the pause after a read, asked each time (0: no pacing) */
  constructor(
    private readonly socket: net.Socket,
    private readonly pauseMs: () => number,
  ) {
    const h = (socket as unknown as { _handle?: Partial<ReadHandle> | null })._handle;
    if (h && typeof h.readStop === 'function' && typeof h.readStart === 'function') {
      this.handle = h as ReadHandle;
      // the pacer starts and stops the handle's reads; the stream must not restart them itself
      (socket as unknown as { _read: () => void })._read = () => {};
    }
  }

  /** After a chunk was handled: pause the reads unless pacing is off or a pause runs already. */
  afterRead(chunkLength: number): void {
    if (this.stopped || this.timer !== null) return;
    const ms = this.pauseMs();
    if (ms <= 0) return;
    if (this.handle !== undefined) {
      // A read short of the buffer drained the kernel (libuv reads no more this poll): stop now.
      // A full one may have more behind it that this poll's reads take: stop after them.
      if (chunkLength < READ_BUFFER_BYTES) this.stopReads(ms);
      else if (!this.burst) {
        this.burst = true;
        setImmediate(() => this.stopReads(this.pauseMs()));
      }
      return;
    }
    this.socket.pause();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.socket.resume();
    }, ms);
  }

  private stopReads(ms: number): void {
    this.burst = false;
    if (this.timer !== null || this.stopped || ms <= 0) return;
    const h = this.handle!;
    const live = () => !this.stopped && (this.socket as unknown as { _handle?: unknown })._handle === h;
    if (!live()) return;
    h.reading = false;
    h.readStop();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!live()) return;
      h.reading = true;
      h.readStart();
    }, ms);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
