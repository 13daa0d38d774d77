/**
 * WebRTC counters per stream, for /metrics (src/events/metrics.ts): sessions created, sessions
 * connected now, ICE failures and the SRTP/SRTCP bytes of every session. Kept by the lazily loaded
 * gateway but owned by the handler (index.ts), so a scrape reads them without loading werift.
 *
 * Bytes are read from the live sessions at scrape time (werift's DTLS transport counts them) and
 * folded into the stream's totals when a session closes, so a scrape costs nothing on the media path.
 */

export type WebrtcKind = 'whep' | 'whip';

/** Why a session closes when ICE did not complete within webrtc.ice_timeout. */
export const ICE_TIMEOUT = 'ICE did not complete';

/** Close reasons counted in flux_webrtc_ice_failures_total: no ICE in time, or the connection failed (consent lost). */
export function isIceFailure(why: string): boolean {
  return why === ICE_TIMEOUT || why === 'connection failed';
}

export interface WebrtcStreamStats {
  stream: string;
  /** WHEP sessions connected now */
  viewers: number;
  /** WHIP sessions connected now */
  publishers: number;
  /** sessions answered (201), by kind */
  sessions: Record<WebrtcKind, number>;
  /** sessions closed because ICE did not complete in time or the connection failed, by kind */
  iceFailures: Record<WebrtcKind, number>;
  bytesSent: number;
  bytesReceived: number;
}

export interface ByteReading {
  sent: number;
  received: number;
}

/** A session's SRTP/SRTCP bytes so far, from werift's DTLS transports (they count what they encrypt and decrypt). */
export function pcBytes(pc: { readonly dtlsTransports: readonly { bytesSent: number; bytesReceived: number }[] }): ByteReading {
  let sent = 0;
  let received = 0;
  for (const t of pc.dtlsTransports) {
    sent += t.bytesSent;
    received += t.bytesReceived;
  }
  return { sent, received };
}

interface Meter {
  stream: string;
  read: () => ByteReading;
}

export class WebrtcStats {
  private readonly streams = new Map<string, WebrtcStreamStats>();
  private readonly meters = new Set<Meter>();

  private of(stream: string): WebrtcStreamStats {
    let s = this.streams.get(stream);
    if (!s) {
      s = { stream, viewers: 0, publishers: 0, sessions: { whep: 0, whip: 0 }, iceFailures: { whep: 0, whip: 0 }, bytesSent: 0, bytesReceived: 0 };
      this.streams.set(stream, s);
    }
    return s;
  }

  /** A session was answered. */
  opened(stream: string, kind: WebrtcKind): void {
    this.of(stream).sessions[kind]++;
  }

  /** A session connected; the function returned ends that (once, whatever the number of calls). */
  connected(stream: string, kind: WebrtcKind): () => void {
    const s = this.of(stream);
    const key = kind === 'whep' ? 'viewers' : 'publishers';
    s[key]++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      s[key]--;
    };
  }

  iceFailed(stream: string, kind: WebrtcKind): void {
    this.of(stream).iceFailures[kind]++;
  }

  /** Count a session's bytes; the function returned takes the last reading into the totals (call it before the transport goes). */
  meter(stream: string, read: () => ByteReading): () => void {
    const m: Meter = { stream, read };
    this.meters.add(m);
    this.of(stream);
    return () => {
      if (!this.meters.delete(m)) return;
      const r = safeRead(read);
      const s = this.of(stream);
      s.bytesSent += r.sent;
      s.bytesReceived += r.received;
    };
  }

  /** Streams that have had WebRTC sessions, with live bytes included. */
  snapshot(): WebrtcStreamStats[] {
    const out = new Map<string, WebrtcStreamStats>();
    for (const s of this.streams.values()) out.set(s.stream, { ...s, sessions: { ...s.sessions }, iceFailures: { ...s.iceFailures } });
    for (const m of this.meters) {
      const s = out.get(m.stream)!;
      const r = safeRead(m.read);
      s.bytesSent += r.sent;
      s.bytesReceived += r.received;
    }
    return [...out.values()];
  }
}

function safeRead(read: () => ByteReading): ByteReading {
  try {
    const r = read();
    return { sent: Number.isFinite(r.sent) ? r.sent : 0, received: Number.isFinite(r.received) ? r.received : 0 };
  } catch {
    return { sent: 0, received: 0 };
  }
}
