/**
 * Supervisor side of the event model: a ring of the stream's events with a sequence number, served
 * as a long poll on the supervisor's status socket (`GET /events?since=SEQ&wait=MS`). The node agent
 * keeps one poll open per supervisor; the ring lives in the supervisor, so an agent that restarts
 * (or re-adopts the supervisor) reads back what it missed instead of losing it.
 *
 * Events come from two places: the supervisor's own lifecycle events (start, stop, switch, restart,
 * publish) as they happen, and transitions seen in its status document (input ready/lost, push
 * failed/restored, DVR write errors, disk low), checked once a second by StatusWatcher.
 */
import type { EventName, StreamEvent } from '../protocol/events.js';

const RING = 1000;

export interface StreamEventsPage {
  pid: number;
  /** the last sequence number issued (resume with since=seq) */
  seq: number;
  events: StreamEvent[];
}

export class StreamEventLog {
  private ring: StreamEvent[] = [];
  private seq = 0;
  private waiters = new Set<() => void>();

  constructor(
    readonly stream: string,
    private readonly now: () => number = Date.now,
  ) {}

  emit(event: EventName, reason: string, extra: Partial<Pick<StreamEvent, 'input' | 'from' | 'to' | 'url' | 'message'>> = {}): StreamEvent {
    const e: StreamEvent = { seq: ++this.seq, event, utc_ms: this.now(), stream: this.stream, reason, ...extra };
    this.ring.push(e);
    if (this.ring.length > RING) this.ring.splice(0, this.ring.length - RING);
    for (const w of [...this.waiters]) w();
    return e;
  }

  get lastSeq(): number {
    return this.seq;
  }

  since(seq: number): StreamEvent[] {
    // a seq larger than ours is from a previous process (the agent kept an old seq): all of ours
    if (seq > this.seq) seq = 0;
    const first = this.ring.length ? this.ring[0]!.seq : this.seq + 1;
    return this.ring.slice(Math.max(0, seq + 1 - first));
  }

  /**
   * Events after `seq`; waits up to `waitMs` for one when there is none yet. `pid`: the process the
   * caller's `seq` came from; another one's (a restarted supervisor) means from the start.
   */
  async page(seq: number, waitMs: number, signal?: AbortSignal, pid?: number): Promise<StreamEventsPage> {
    if (pid && pid !== process.pid) seq = 0;
    let events = this.since(seq);
    if (!events.length && waitMs > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, waitMs);
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
      events = this.since(seq);
    }
    return { pid: process.pid, seq: this.seq, events };
  }

  /** Wake every pending poll (stop: the agent reads the last events before the socket goes). */
  close(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** The supervisor's lifecycle event (status.ts SupervisorEvent), structurally. */
export interface LifecycleEvent {
  type: string;
  reason: string;
  from?: number;
  to?: number;
  input?: number;
  message?: string;
}

/** The parts of the supervisor status the watcher diffs (status.ts SupervisorStatus), structurally. */
export interface WatchedStatus {
  activeInput: number | null;
  inputs: { index: number; url: string; state: string; lastError: string | null }[];
  push: { url: string; state: string; errors: number; lastError: string | null }[];
  dvr: unknown;
}

/** Disk use (percent) of the DVR volume at which disk_low fires; it re-arms below DISK_LOW_CLEAR. */
export const DISK_LOW_PERCENT = 95;
const DISK_LOW_CLEAR = 90;

/**
 * Turns lifecycle events and status transitions into model events, in the order they happened:
 * a failover is source_lost (old input) → source_switched → source_ready (new input, once media flows).
 */
export class StatusWatcher {
  /** per input: true once source_lost was said since it was last ready */
  private lost = new Map<number, boolean>();
  private ready = new Map<number, boolean>();
  private pushFailed = new Map<number, boolean>();
  private pushErrors = new Map<number, number>();
  private dvrError: string | undefined;
  private diskLow = false;

  constructor(private readonly log: StreamEventLog) {}

  lifecycle(e: LifecycleEvent): void {
    switch (e.type) {
      case 'start':
        this.log.emit('stream_started', e.reason);
        break;
      case 'stop':
        this.log.emit('stream_stopped', e.reason);
        break;
      case 'publish':
        this.log.emit('publish_started', e.reason, e.message ? { message: e.message } : {});
        break;
      case 'unpublish':
        this.log.emit('publish_stopped', e.reason, e.message ? { message: e.message } : {});
        break;
      case 'switch':
        if (e.from !== undefined && e.reason !== 'priority_return') this.sourceLost(e.from, e.reason);
        this.log.emit('source_switched', e.reason, { from: e.from ?? null, to: e.to });
        if (e.to !== undefined) this.ready.set(e.to, false);
        break;
      case 'restart':
        // a single input restarted in place because it went silent or its ffmpeg died
        if (e.input !== undefined && (e.reason === 'source_timeout' || e.reason === 'ffmpeg_exit')) this.sourceLost(e.input, e.reason, e.message);
        break;
    }
  }

  private sourceLost(input: number, reason: string, message?: string): void {
    if (this.lost.get(input)) return;
    this.lost.set(input, true);
    this.ready.set(input, false);
    this.log.emit('source_lost', reason, { input, ...(message ? { message } : {}) });
  }

  /** Diff one status document against the previous one. */
  observe(st: WatchedStatus): void {
    for (const i of st.inputs) {
      if (i.index !== st.activeInput) continue;
      if (i.state === 'active') {
        if (!this.ready.get(i.index)) {
          this.ready.set(i.index, true);
          this.lost.set(i.index, false);
          this.log.emit('source_ready', 'media flows', { input: i.index, url: i.url });
        }
      } else if (this.ready.get(i.index)) {
        this.sourceLost(i.index, i.state === 'failed' ? 'input_error' : 'no_media', i.lastError ?? undefined);
      }
    }
    st.push.forEach((p, idx) => {
      const errs = this.pushErrors.get(idx) ?? 0;
      this.pushErrors.set(idx, p.errors);
      const failing = p.state === 'retrying' || p.state === 'failed' || p.errors > errs;
      if (failing && !this.pushFailed.get(idx)) {
        this.pushFailed.set(idx, true);
        this.log.emit('push_failed', p.lastError ?? p.state, { url: p.url });
      } else if (p.state === 'running' && this.pushFailed.get(idx) && p.errors === errs) {
        this.pushFailed.set(idx, false);
        this.log.emit('push_restored', 'running', { url: p.url });
      }
    });
    const dvr = st.dvr as { lastError?: string; disk?: { usedPercent: number } } | null | undefined;
    if (dvr) {
      if (dvr.lastError && dvr.lastError !== this.dvrError) this.log.emit('dvr_write_error', dvr.lastError);
      this.dvrError = dvr.lastError;
      const used = dvr.disk?.usedPercent;
      if (used !== undefined) {
        if (!this.diskLow && used >= DISK_LOW_PERCENT) {
          this.diskLow = true;
          this.log.emit('disk_low', `DVR volume ${used.toFixed(1)} % used`);
        } else if (this.diskLow && used < DISK_LOW_CLEAR) this.diskLow = false;
      }
    }
  }
}
