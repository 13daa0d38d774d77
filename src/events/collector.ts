/**
 * Agent side of the supervisors' event feeds: one long poll per supervisor on its status socket
 * (`GET /events?since=SEQ&wait=20000`), relayed into the EventHub. A poll restarts from 0 when the
 * supervisor's pid changes (a new process, a new sequence). After an agent restart, the events a
 * supervisor still holds from before this agent started are replayed into the ring (history) but
 * not pushed to sinks (the previous agent delivered them).
 *
 * It also watches the supervisor manager's restart counters: a supervisor process the agent had
 * to restart is `supervisor_restarted`.
 */
import { socketRequest } from '../protocol/socket-http.js';
import type { EventHub } from './hub.js';
import type { StreamEventsPage } from './stream-events.js';

export interface CollectorSource {
  names(): string[];
  socketOf(name: string): string;
  /** supervisor restarts by the node, and the reason of the last exit */
  restartsOf(name: string): { restarts: number; reason?: string } | undefined;
}

const WAIT_MS = 20_000;

export class EventCollector {
  private polls = new Map<string, { stop: () => void }>();
  private restarts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly hub: EventHub,
    private readonly src: CollectorSource,
    private readonly tickMs = 500,
  ) {}

  start(): void {
    this.sync();
    this.timer = setInterval(() => this.sync(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const p of this.polls.values()) p.stop();
    this.polls.clear();
  }

  /** Start polls for new supervisors, end those of removed ones, see restarts. */
  sync(): void {
    const names = new Set(this.src.names());
    for (const n of names) {
      if (!this.polls.has(n)) this.polls.set(n, this.poll(n));
      const r = this.src.restartsOf(n);
      if (r) {
        const seen = this.restarts.get(n);
        if (seen !== undefined && r.restarts > seen) this.hub.emit('supervisor_restarted', n, r.reason ?? 'supervisor exited');
        this.restarts.set(n, r.restarts);
      }
    }
    for (const [n, p] of this.polls) {
      // a removed stream: its poll ends by itself once its last events (stream_stopped) are read
      if (!names.has(n)) {
        p.stop();
        this.polls.delete(n);
        this.restarts.delete(n);
      }
    }
  }

  private poll(name: string): { stop: () => void } {
    const ac = new AbortController();
    let stopped = false;
    let pid = 0;
    let seq = 0;
    let first = true;
    const loop = async () => {
      while (!stopped) {
        let page: StreamEventsPage | undefined;
        try {
          const res = await socketRequest(this.src.socketOf(name), `/events?since=${seq}&wait=${first ? 0 : WAIT_MS}${pid ? `&pid=${pid}` : ''}`, {
            timeoutMs: WAIT_MS + 5000,
            noKeepAlive: true,
            signal: ac.signal,
          });
          if (res.status === 200) page = res.json as StreamEventsPage;
        } catch {
          /* not up yet, or gone: retry below */
        }
        if (!page || !Array.isArray(page.events)) {
          if (stopped) return;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        if (page.pid !== pid) {
          // a new supervisor process: its sequence starts over (told our pid, it answered from its start)
          pid = page.pid;
          seq = 0;
        }
        for (const e of page.events) {
          this.hub.relay(e, first && e.utc_ms < this.startedAt);
          seq = Math.max(seq, e.seq);
        }
        if (page.seq < seq) seq = 0;
        first = false;
        if (stopped) return;
      }
    };
    void loop();
    return {
      stop: () => {
        stopped = true;
        // let an in-flight poll deliver stream_stopped: abort only after a grace
        setTimeout(() => ac.abort(), 2000).unref();
      },
    };
  }
}
