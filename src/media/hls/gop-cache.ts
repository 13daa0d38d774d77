/**
 * GOP cache: the MPEG-TS of one rendition since its latest keyframe, PAT and PMT first, so that a
 * consumer joining now can start decoding at once instead of waiting for the next keyframe.
 *
 * It is the segmenter (same keyframe rules, same injected PAT/PMT) with a target duration of 1 ms,
 * so every keyframe opens a new "segment", and the sink keeps only the open one. Chunks are kept by
 * reference (views of the input, as the segmenter hands them over): the producer must not reuse its
 * buffers. Memory is bounded: past `maxBytes` without a keyframe the cache empties until the next one.
 */
import type { Buffer } from 'node:buffer';
import { Segmenter, type SegmenterSink } from './segmenter.js';

export class GopCache {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private overflow = false;
  private readonly segmenter: Segmenter;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {
    const sink: SegmenterSink = {
      openSegment: (info) => {
        this.chunks = [];
        this.bytes = 0;
        // a cut forced without a keyframe is not a place to start decoding
        this.overflow = !info.keyframe;
      },
      data: (chunk) => {
        if (this.overflow) return;
        this.bytes += chunk.length;
        if (this.bytes > this.maxBytes) {
          this.overflow = true;
          this.chunks = [];
          this.bytes = 0;
          return;
        }
        this.chunks.push(chunk);
      },
      closeSegment: () => {},
    };
    // every keyframe cuts; a GOP longer than a minute is not cached (maxBytes bounds it anyway)
    this.segmenter = new Segmenter(sink, { targetDurationMs: 1, maxDurationMs: 60_000 });
  }

  push(chunk: Buffer): void {
    this.segmenter.push(chunk);
  }

  /** The cached TS (PAT, PMT, the latest keyframe and what followed), emptied. */
  take(): Buffer[] {
    const out = this.overflow ? [] : this.chunks;
    this.chunks = [];
    this.bytes = 0;
    this.overflow = true; // until the next keyframe: what comes now continues what was taken
    return out;
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }

  /** The producer restarted: its bytes start over. */
  reset(): void {
    this.segmenter.markDiscontinuity();
    this.chunks = [];
    this.bytes = 0;
    this.overflow = true;
  }
}
