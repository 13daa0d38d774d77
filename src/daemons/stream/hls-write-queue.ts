/**
 * The HLS writer's disk queue: operations run one at a time, in the order they were queued, so the
 * synchronous segmenter callbacks never wait for the disk and a segment is closed only after all of
 * its bytes are written. Consecutive data chunks of one file are coalesced into one `writev`.
 *
 * Data is held in memory until `coalesceBytes` of it are queued or another operation (open, close,
 * fn) or a drain needs the disk: a 3 Mbit/s feed arrives in ~130 network chunks a second, and a
 * write per chunk cost a thread-pool round trip each (most of a passthrough supervisor's CPU). The
 * open segment's file is then behind its bytes by at most `coalesceBytes`; nothing reads a segment
 * before its close (live playlists, DVR, playback and LL-HLS parts all start after it).
 *
 * The queue owns the data path (writev, short-write and error handling, queued-byte accounting); the
 * writer runs opens and closes (`step`). A failed write marks the file `failed` and later data for it is
 * skipped: the writer drops the segment at its close.
 */
import type { promises as fsp } from 'node:fs';

/** A file being written through the queue. */
export interface QueuedFile {
  fh: fsp.FileHandle | null;
  /** first error met; the file's later data is skipped */
  failed: Error | null;
  /** bytes written so far */
  bytes: number;
}

export type WriteOp<F extends QueuedFile> =
  | { kind: 'open'; seg: F }
  | { kind: 'data'; seg: F; chunk: Buffer }
  | { kind: 'close'; seg: F; durationMs: number; keyframe: boolean }
  | { kind: 'fn'; fn: () => Promise<void> };

export type StepOp<F extends QueuedFile> = Extract<WriteOp<F>, { kind: 'open' | 'close' }>;

/** Buffers per writev (IOV_MAX is 1024 on Linux). */
export const MAX_WRITEV = 1024;
/** Data held before it is written (see the header); a 2 s segment at 3 Mbit/s is ~750 KB. */
export const DEFAULT_COALESCE_BYTES = 256 * 1024;
/** Done operations kept at the head of the array before it is compacted. */
const COMPACT_AFTER = 4096;

export class WriteQueue<F extends QueuedFile> {
  /** bytes of data chunks queued and not yet written */
  queuedBytes = 0;
  private ops: WriteOp<F>[] = [];
  private head = 0;
  private pumping: Promise<void> | null = null;

  constructor(
    /** runs an open or close */
    private readonly step: (op: StepOp<F>) => Promise<void>,
    /** an open, close or fn threw (the queue goes on) */
    private readonly onError: (err: unknown, msg: string) => void,
    /** data bytes held before a write starts (0: write each chunk at once) */
    private readonly coalesceBytes = DEFAULT_COALESCE_BYTES,
  ) {}

  push(op: WriteOp<F>): void {
    this.ops.push(op);
    if (op.kind === 'data') {
      this.queuedBytes += op.chunk.length;
      if (this.queuedBytes < this.coalesceBytes) return; // held (see the header); a running pump takes it anyway
    }
    if (!this.pumping) this.pumping = this.pump();
  }

  /** Resolves when everything queued so far (and queued meanwhile) is done, held data included. */
  async drain(): Promise<void> {
    if (!this.pumping && this.head < this.ops.length) this.pumping = this.pump();
    while (this.pumping) await this.pumping;
  }

  /** Operations not started yet, oldest first. */
  *pending(): Generator<WriteOp<F>> {
    for (let k = this.head; k < this.ops.length; k++) yield this.ops[k]!;
  }

  private async pump(): Promise<void> {
    try {
      while (this.head < this.ops.length) {
        const op = this.ops[this.head]!;
        if (op.kind === 'data') {
          const bufs: Buffer[] = [];
          let n = 0;
          while (this.head < this.ops.length && bufs.length < MAX_WRITEV) {
            const o = this.ops[this.head]!;
            if (o.kind !== 'data' || o.seg !== op.seg) break;
            bufs.push(o.chunk);
            n += o.chunk.length;
            this.head++;
          }
          await this.writeData(op.seg, bufs, n);
        } else {
          this.head++;
          try {
            if (op.kind === 'fn') await op.fn();
            else await this.step(op);
          } catch (err) {
            this.onError(err, 'hls writer step failed');
          }
        }
        if (this.head > COMPACT_AFTER && this.head * 2 > this.ops.length) {
          this.ops = this.ops.slice(this.head);
          this.head = 0;
        }
      }
      this.ops = [];
      this.head = 0;
    } finally {
      this.pumping = null;
    }
  }

  private async writeData(seg: F, bufs: Buffer[], n: number): Promise<void> {
    try {
      if (seg.failed || !seg.fh) return;
      const { bytesWritten } = await seg.fh.writev(bufs);
      if (bytesWritten !== n) throw Object.assign(new Error(`short write (${bytesWritten} of ${n} bytes): disk full?`), { code: 'ENOSPC' });
      seg.bytes += n;
    } catch (err) {
      seg.failed = err as Error;
    } finally {
      this.queuedBytes -= n;
    }
  }
}
