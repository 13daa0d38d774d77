/**
 * The node's event bus: numbers events (event_id increases per node), keeps the last 10,000 in a
 * ring for `GET /api/v3/events`, and hands each one to subscribers (the follow stream, webhook
 * sinks) synchronously and cheaply: a subscriber that needs I/O queues on its own side.
 */
import type { EventName, FluxEvent, StreamEvent } from '../protocol/events.js';

export const EVENT_RING_SIZE = 10_000;

export type EventListener = (e: FluxEvent) => void;

export interface EventQuery {
  /** events with event_id > since */
  since?: number;
  stream?: string;
  limit?: number;
}

export class EventHub {
  private ring: FluxEvent[] = [];
  private nextId = 1;
  private listeners = new Set<EventListener>();

  constructor(
    private readonly node: () => string,
    private readonly size = EVENT_RING_SIZE,
  ) {}

  /** An event of the node itself (config_reloaded, supervisor_restarted). */
  emit(event: EventName, stream: string | null, reason: string, extra: Partial<Pick<FluxEvent, 'input' | 'from' | 'to' | 'url' | 'message'>> = {}, utcMs = Date.now()): FluxEvent {
    const e: FluxEvent = { event_id: this.nextId++, event, utc_ms: utcMs, node: this.node(), stream, reason, ...extra };
    this.ring.push(e);
    if (this.ring.length > this.size) this.ring.splice(0, this.ring.length - this.size);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's bug must not stop the others */
      }
    }
    return e;
  }

  /** A supervisor's event, relayed. `replay`: read back after an agent restart, kept but not pushed to listeners. */
  relay(se: StreamEvent, replay = false): FluxEvent {
    const { seq: _seq, event, utc_ms, stream, reason, ...extra } = se;
    if (!replay) return this.emit(event, stream, reason, extra, utc_ms);
    const e: FluxEvent = { event_id: this.nextId++, event, utc_ms, node: this.node(), stream, reason, ...extra };
    this.ring.push(e);
    if (this.ring.length > this.size) this.ring.splice(0, this.ring.length - this.size);
    return e;
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  /** Oldest first. `limit` keeps the newest N of the match. */
  list(q: EventQuery = {}): FluxEvent[] {
    const since = q.since ?? 0;
    let out = this.ring;
    if (since > 0) {
      const first = out.length ? out[0]!.event_id : this.nextId;
      out = out.slice(Math.max(0, since + 1 - first));
    }
    if (q.stream !== undefined) out = out.filter((e) => e.stream === q.stream);
    if (q.limit !== undefined && out.length > q.limit) out = out.slice(out.length - q.limit);
    return out === this.ring ? out.slice() : out;
  }
}
