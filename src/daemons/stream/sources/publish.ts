/**
 * publish:// — the node's RTMP/SRT listener pipes the publisher's MPEG-TS into POST /ingest.
 * One publisher at a time (a second one gets 409); the body's end means the publisher left.
 */
import type { IncomingMessage } from 'node:http';
import type { NativeSource, SourceHandlers } from './source.js';

export interface PublisherInfo {
  since: number;
  bytes: number;
  remote: string | null;
}

export interface PublishHubEvents {
  onPublish?: (info: PublisherInfo) => void;
  onUnpublish?: (info: PublisherInfo, reason: string) => void;
}

export class PublishHub {
  private current: { req: IncomingMessage; info: PublisherInfo } | null = null;
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
   * Take a publisher's request body. Returns null when another publisher is active (→ 409),
   * else a promise resolved with the byte count when the body ends or breaks.
   */
  accept(req: IncomingMessage): Promise<PublisherInfo> | null {
    if (this.current) return null;
    const info: PublisherInfo = { since: Date.now(), bytes: 0, remote: req.headers['x-flux-publisher']?.toString() ?? req.socket.remoteAddress ?? null };
    this.current = { req, info };
    for (const s of this.sinks) s.onEpoch();
    this.events.onPublish?.(info);
    return new Promise((resolve) => {
      let done = false;
      const finish = (reason: string) => {
        if (done) return;
        done = true;
        if (this.current?.req === req) this.current = null;
        this.events.onUnpublish?.(info, reason);
        resolve(info);
      };
      req.on('data', (chunk: Buffer) => {
        info.bytes += chunk.length;
        this.lastDataAt = Date.now();
        for (const s of this.sinks) s.onData(chunk);
      });
      req.on('end', () => finish('publisher ended'));
      req.on('error', (e) => finish(`publisher connection broke: ${e.message}`));
      req.on('close', () => finish('publisher connection closed'));
    });
  }

  /** Drop the current publisher (stop). */
  kick(): void {
    this.current?.req.destroy();
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
