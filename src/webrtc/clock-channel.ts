/**
 * The WHEP viewer's clock: a DataChannel labelled `flux-clock` (opened by the viewer before its
 * offer; a viewer without one plays the same, without a latency figure) over which the node tells
 * the viewer when the frames it sends reached Flux, so the player can show glass-to-glass latency
 * measured, not guessed. JSON text messages:
 *
 *   node → viewer  {"type":"clock","rtp":R,"wall":W}    the frame sent with RTP timestamp R (this
 *                  viewer's timestamps) reached the agent at W (ms since the epoch, the node's
 *                  clock); one at most every CLOCK_INTERVAL_MS of stream time, the first on the
 *                  first frame sent
 *   viewer → node  {"type":"ping","id":N,"t":T}          T: the viewer's clock, echoed back
 *   node → viewer  {"type":"pong","id":N,"t":T,"wall":W} W: the node's clock when it answered
 *
 * The viewer maps a frame it renders (requestVideoFrameCallback's rtpTimestamp) to W, and corrects
 * its own clock by the ping/pong offset (NTP style, from the round trip with the smallest delay),
 * so the figure holds between machines whose clocks differ. See templates/embed.html.
 */
import type { RTCDataChannel } from 'werift';

export const CLOCK_LABEL = 'flux-clock';
/** Stream time between two clock messages: a few per second keep the mapping fresh and cost little. */
export const CLOCK_INTERVAL_MS = 200;
/** Viewer messages longer than this, or more pings than PING_BUDGET a second, are ignored. */
const MAX_MESSAGE = 256;
const PING_BUDGET = 20;

export class ClockChannel {
  private dc: RTCDataChannel | null = null;
  private lastWall = -Infinity;
  private pingWindowStart = 0;
  private pingsInWindow = 0;
  /** clock messages sent (tests, status) */
  sent = 0;

  /** Takes the viewer's channel if it is the clock channel; false for any other. */
  attach(dc: RTCDataChannel): boolean {
    if (dc.label !== CLOCK_LABEL) return false;
    this.dc = dc;
    dc.onMessage.subscribe((m) => this.onMessage(m));
    return true;
  }

  /**
   * A frame was sent to the viewer with this RTP timestamp; it reached the agent at `arrivedAt`.
   * Called per frame: it costs a comparison unless a message is due.
   */
  frameSent(rtpTimestamp: number, arrivedAt: number): void {
    const dc = this.dc;
    if (!dc || arrivedAt - this.lastWall < CLOCK_INTERVAL_MS || dc.readyState !== 'open') return;
    this.lastWall = arrivedAt;
    this.sent++;
    dc.send(`{"type":"clock","rtp":${rtpTimestamp >>> 0},"wall":${arrivedAt}}`);
  }

  private onMessage(m: string | Buffer): void {
    const dc = this.dc;
    if (!dc || typeof m !== 'string' || m.length > MAX_MESSAGE) return;
    const now = Date.now();
    if (now - this.pingWindowStart >= 1000) {
      this.pingWindowStart = now;
      this.pingsInWindow = 0;
    }
    if (++this.pingsInWindow > PING_BUDGET) return;
    let msg: unknown;
    try {
      msg = JSON.parse(m);
    } catch {
      return;
    }
    const { type, id, t } = (msg ?? {}) as { type?: unknown; id?: unknown; t?: unknown };
    if (type !== 'ping' || !Number.isFinite(id) || !Number.isFinite(t) || dc.readyState !== 'open') return;
    dc.send(JSON.stringify({ type: 'pong', id, t, wall: Date.now() }));
  }
}
