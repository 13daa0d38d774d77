/**
 * publish:// — a publisher's MPEG-TS, from one of two feeds: the node's RTMP/SRT listener pipes it
 * into POST /ingest (control.ts), or an RTMP socket handed over by the node is read here
 * (rtmp-ingest.ts, protocol/rtmp-handoff.ts). Both go through `open`: one publisher at a time (a
 * second one is refused: 409 over HTTP); the feed's end means the publisher left.
 */
import type { IncomingMessage } from 'node:http';
import type { NativeSource, SourceHandlers } from './source.js';
import type { PublisherStatus } from '../../../protocol/supervisor-status.js';

export interface PublisherInfo {
  since: number;
  bytes: number;
  remote: string | null;
  /** how the TS arrives: an HTTP body from the node, an RTMP socket or a TS pipe handed over by the node */
  via: PublisherStatus['via'];
}

export interface PublishHubEvents {
  onPublish?: (info: PublisherInfo) => void;
  onUnpublish?: (info: PublisherInfo, reason: string) => void;
}

/** One publisher's TS into the hub. */
export interface PublishFeed {
  readonly info: PublisherInfo;
  /** TS bytes as they come (whole packets or not: the consumers reassemble) */
  data(chunk: Buffer): void;
  /** the publisher is gone (the first call counts) */
  end(reason: string): void;
}

export class PublishHub {
  private current: { info: PublisherInfo; kick: () => void } | null = null;
  private sinks = new Set<SourceHandlers>();
  lastDataAt = 0;

  constructor(private readonly events: PublishHubEvents = {}) {}

  get publisher(): PublisherInfo | null {
    return this.current?.info ?? null;
  }

  attach(h: SourceHandlers): void {
    this.sinks.add(h);
    // joining mid-publish: the bytes start now, as a new epoch
    if (this.current) h.onEpoch();
  }

  detach(h: SourceHandlers): void {
    this.sinks.delete(h);
  }

  /**
   * A publisher starts. Returns null when another publisher is active (refused), else its feed.
   * `kick` disconnects it (stop); its feed ends then.
   */
  open(remote: string | null, via: PublisherInfo['via'], kick: () => void): PublishFeed | null {
    if (this.current) return null;
    const info: PublisherInfo = { since: Date.now(), bytes: 0, remote, via };
    const cur = { info, kick };
    this.current = cur;
    for (const s of this.sinks) s.onEpoch();
    this.events.onPublish?.(info);
    let done = false;
    return {
      info,
      data: (chunk) => {
        if (done) return;
        info.bytes += chunk.length;
        this.lastDataAt = Date.now();
        for (const s of this.sinks) s.onData(chunk);
      },
      end: (reason) => {
        if (done) return;
        done = true;
        if (this.current === cur) this.current = null;
        this.events.onUnpublish?.(info, reason);
      },
    };
  }

  /**
   * Take a publisher's request body. Returns null when another publisher is active (→ 409),
   * else a promise resolved with the byte count when the body ends or breaks.
   */
  accept(req: IncomingMessage): Promise<PublisherInfo> | null {
    const feed = this.open(req.headers['x-flux-publisher']?.toString() ?? req.socket.remoteAddress ?? null, 'http', () => req.destroy());
    if (!feed) return null;
    return new Promise((resolve) => {
      const finish = (reason: string) => {
        feed.end(reason);
        resolve(feed.info);
      };
      req.on('data', (chunk: Buffer) => feed.data(chunk));
      req.on('end', () => finish('publisher ended'));
      req.on('error', (e) => finish(`publisher connection broke: ${e.message}`));
      req.on('close', () => finish('publisher connection closed'));
    });
  }

  /** Drop the current publisher (stop). */
  kick(): void {
    this.current?.kick();
  }
}

export class PublishSource implements NativeSource {
  readonly kind = 'publish';
  lastError: string | null = null;
  reconnects = 0;
  private attached = false;

  constructor(
    private readonly hub: PublishHub,
    private readonly h: SourceHandlers,
  ) {}

  start(): void {
    if (this.attached) return;
    this.attached = true;
    this.hub.attach(this.h);
  }

  async stop(): Promise<void> {
    this.attached = false;
    this.hub.detach(this.h);
  }
}
