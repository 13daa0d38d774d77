/**
 * One stream's live media for WebRTC viewers: the agent reads the supervisor's `GET /live.ts`
 * (the first rendition's TS as it is produced, on the supervisor's Unix socket) and demuxes it with
 * the project's TS demuxer into H.264 access units. Raw TS chunks go to `onTs` listeners too (the
 * shared Opus transcoder).
 *
 * Why a live socket feed rather than tailing segment files: segments are renamed into place whole,
 * so tailing them costs a segment duration (1–2 s) of latency; the socket feed costs one frame.
 *
 * Started on the first viewer, stopped with the last; reconnects (1 s) while viewers remain, e.g.
 * while the supervisor restarts.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import { TsDemuxer, type TsTrack } from '../media/ts/demuxer.js';
import { silentLogger } from '../core/logger.js';

export interface AccessUnit {
  /** Annex B bytes of the whole access unit (owned: may be kept) */
  data: Buffer;
  /** 90 kHz presentation time (unwrapped) */
  pts: number;
  keyframe: boolean;
  /**
   * Wall clock (ms since the epoch) when the access unit's first bytes reached the agent: the
   * stream's clock for the viewer's latency (src/webrtc/clock-channel.ts). The access unit itself
   * is complete one PES later (video PES have no length in TS), and that wait counts as latency.
   */
  arrivedAt: number;
}

export class LiveFeed {
  private req: http.ClientRequest | null = null;
  private retry: NodeJS.Timeout | null = null;
  private running = false;
  private readonly auListeners = new Set<(au: AccessUnit) => void>();
  private readonly tsListeners = new Set<(chunk: Buffer) => void>();
  /** video codec of the feed once the PMT is seen ('h264' is the only one WebRTC gets) */
  codec: string | null = null;
  hasAudio = false;
  private readonly log: Logger;

  constructor(
    readonly stream: string,
    private readonly socketPath: () => string | undefined,
    logger?: Logger,
  ) {
    this.log = (logger ?? silentLogger).child({ webrtcFeed: stream });
  }

  get listeners(): number {
    return this.auListeners.size + this.tsListeners.size;
  }

  onAccessUnit(fn: (au: AccessUnit) => void): () => void {
    this.auListeners.add(fn);
    this.ensure();
    return () => {
      this.auListeners.delete(fn);
      this.maybeStop();
    };
  }

  onTs(fn: (chunk: Buffer) => void): () => void {
    this.tsListeners.add(fn);
    this.ensure();
    return () => {
      this.tsListeners.delete(fn);
      this.maybeStop();
    };
  }

  stop(): void {
    this.running = false;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.req?.destroy();
    this.req = null;
  }

  private maybeStop(): void {
    if (this.listeners === 0) this.stop();
  }

  private ensure(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  private connect(): void {
    if (!this.running) return;
    const sock = this.socketPath();
    if (!sock) {
      this.scheduleRetry();
      return;
    }
    // arrival of the chunk being demuxed, and of the chunk that began the current video PES
    let chunkAt = 0;
    let videoStartAt = 0;
    const demux = new TsDemuxer({
      pesBegin: (track: TsTrack) => {
        if (track.codec === 'h264') videoStartAt = chunkAt;
      },
      pes: (track: TsTrack, payload: Buffer) => {
        if (track.codec !== 'h264' || !this.auListeners.size) return;
        const au: AccessUnit = { data: Buffer.from(payload), pts: track.pts, keyframe: track.keyframe, arrivedAt: videoStartAt };
        for (const fn of this.auListeners) fn(au);
      },
      program: (info) => {
        this.codec = info.tracks.find((t) => t.kind === 'video')?.codec ?? null;
        this.hasAudio = info.tracks.some((t) => t.kind === 'audio');
      },
    });
    const req = http.get({ socketPath: sock, path: '/live.ts' }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.scheduleRetry();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        chunkAt = Date.now();
        for (const fn of this.tsListeners) fn(chunk);
        demux.push(chunk);
      });
      res.on('close', () => {
        if (this.req === req) this.scheduleRetry();
      });
    });
    req.on('error', (err) => {
      this.log.debug({ err: err.message }, 'live feed unavailable');
      if (this.req === req) this.scheduleRetry();
    });
    this.req = req;
  }

  private scheduleRetry(): void {
    this.req = null;
    if (!this.running || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect();
    }, 1000);
  }
}
