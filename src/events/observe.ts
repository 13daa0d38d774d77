/**
 * The node agent's observability in one place: the event bus, the supervisors' event feeds, the
 * webhook sinks, play sessions and the Prometheus metrics. The agent holds one of these and calls
 * a handful of hooks (see agent.ts): it owns no media and adds no work on the media path.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../core/logger.js';
import { EventCollector, type CollectorSource } from './collector.js';
import { EventHub } from './hub.js';
import { SinkSet, type SinkConfig } from './sinks.js';
import type { FluxMetrics, MetricsStatus, MetricsStream, MetricsWebrtc, MetricsHttpWorkers } from './metrics.js';

export interface ObservedSupervisor {
  state: string;
  restarts: number;
  status: unknown;
  events: { type: string; reason?: string }[];
}

export interface ObservabilityOptions {
  node: () => string;
  logger: Logger;
  /** configured stream names (enabled or not) */
  streamNames: () => string[];
  isStream: (name: string) => boolean;
  supervisorNames: () => string[];
  supervisor: (name: string) => ObservedSupervisor | undefined;
  socketOf: (name: string) => string;
  userAgent?: string;
  /** play sessions per stream (src/auth/sessions.ts: the one session table, shared with protection) */
  sessionCounts: () => ReadonlyMap<string, number>;
  /** WebRTC counters of streams that have had sessions (src/webrtc/stats.ts) */
  webrtc?: () => MetricsWebrtc[];
  /** playback workers' counters (server.http_workers), undefined when there are none */
  httpWorkers?: () => MetricsHttpWorkers | undefined;
}

export class Observability {
  readonly hub: EventHub;
  private readonly sinks: SinkSet;
  private readonly collector: EventCollector;
  private metricsMod: Promise<FluxMetrics> | undefined;
  private totals = new Map<string, number>();
  private byStream = new Map<string, number>();
  readonly startedAt = Date.now();

  constructor(private readonly opts: ObservabilityOptions) {
    this.hub = new EventHub(opts.node);
    this.sinks = new SinkSet({
      userAgent: opts.userAgent,
      onError: (url, msg) => opts.logger.debug({ sink: url, err: msg }, 'event sink POST failed (will retry)'),
    });
    this.hub.subscribe((e) => {
      this.totals.set(e.event, (this.totals.get(e.event) ?? 0) + 1);
      if (e.stream !== null) this.byStream.set(`${e.event}\u0000${e.stream}`, (this.byStream.get(`${e.event}\u0000${e.stream}`) ?? 0) + 1);
      this.sinks.offer(e);
    });
    const src: CollectorSource = {
      names: opts.supervisorNames,
      socketOf: opts.socketOf,
      restartsOf: (name) => {
        const v = opts.supervisor(name);
        if (!v) return undefined;
        const exit = [...v.events].reverse().find((e) => e.type === 'supervisor_exit');
        return { restarts: v.restarts, reason: exit?.reason };
      },
    };
    this.collector = new EventCollector(this.hub, src);
  }

  start(sinks: SinkConfig[]): void {
    this.sinks.configure(sinks);
    this.collector.start();
  }

  configure(sinks: SinkConfig[]): void {
    this.sinks.configure(sinks);
  }

  /** A play session opened (src/auth/sessions.ts): play_opened. */
  sessionOpened(s: { stream: string; ip: string; userAgent?: string; proto: string }): void {
    this.hub.emit('play_opened', s.stream, s.proto, { message: `${s.ip} ${s.userAgent ?? ''}`.trim() });
  }

  /** A play session closed (idle, killed, denied): play_closed. */
  sessionClosed(s: { stream: string; ip: string; userAgent?: string }, why: string): void {
    this.hub.emit('play_closed', s.stream, why, { message: `${s.ip} ${s.userAgent ?? ''}`.trim() });
  }

  sinkStats(): ReturnType<SinkSet['stats']> {
    return this.sinks.stats();
  }

  async metrics(): Promise<{ contentType: string; text: string }> {
    this.metricsMod ??= import('./metrics.js').then(
      ({ FluxMetrics }) =>
        new FluxMetrics({
          node: this.opts.node,
          startedAt: this.startedAt,
          streams: () => {
            const clients = this.opts.sessionCounts();
            return this.opts.streamNames().map((name): MetricsStream => {
              const v = this.opts.supervisor(name);
              return { name, supervisor: v?.state, restarts: v?.restarts ?? 0, status: v?.status as MetricsStatus | undefined, clients: clients.get(name) ?? 0 };
            });
          },
          eventCount: (event, stream) => (stream === undefined ? (this.totals.get(event) ?? 0) : (this.byStream.get(`${event}\u0000${stream}`) ?? 0)),
          eventTotals: () => Object.fromEntries(this.totals),
          sinks: () => this.sinks.stats(),
          webrtc: () => this.opts.webrtc?.() ?? [],
          httpWorkers: () => this.opts.httpWorkers?.(),
        }),
    );
    return (await this.metricsMod).render();
  }

  /** Stop polling; give the sinks up to `drainMs` to deliver what is queued (node stop). */
  async close(drainMs = 2000): Promise<void> {
    this.collector.stop();
    await this.sinks.close(drainMs);
  }
}
