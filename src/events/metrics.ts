/**
 * Prometheus exposition (prom-client's Registry and text format) built at scrape time from what
 * the agent already holds: the supervisors' status documents it polls (at most a few seconds
 * old), its own counters and the event bus. Nothing asks a supervisor during a scrape, so a scrape
 * costs one pass over the streams and never touches playback (200 streams: a few ms).
 *
 * Values are totals kept elsewhere (a supervisor's byte counters), so the metrics are prom-client
 * "metric objects" whose get() reports them, not Counters incremented here. A supervisor that
 * restarts starts its totals over: Prometheus reads that as a counter reset, as it should.
 *
 * This module is loaded on the first scrape only (keeps prom-client out of a node nobody scrapes).
 */
import { Registry } from 'prom-client';

type Labels = Record<string, string | number>;
interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** The parts of a supervisor's status the metrics read (status.ts SupervisorStatus), structurally. */
export interface MetricsStatus {
  state: string;
  activeInput: number | null;
  fps: number;
  restarts: number;
  inputs: { index: number; priority: number; bitrate: number; ccErrors: number; switches: number; bytes?: number; fps: number; quality?: { failovers: Record<string, number> } }[];
  renditions: { name: string; segments: number; bytes?: number; durations?: { le: number[]; counts: number[]; sum: number; count: number } }[];
  push: { url: string; state: string; bytes: number; outBytes?: number; restarts: number }[];
  dvr: unknown;
}

export interface MetricsStream {
  name: string;
  /** supervisor process state (running/starting/backoff/stopping), undefined when none runs */
  supervisor: string | undefined;
  /** supervisor restarts by the node */
  restarts: number;
  status: MetricsStatus | undefined;
  clients: number;
}

/** One stream's WebRTC counters (src/webrtc/stats.ts WebrtcStreamStats), structurally. */
export interface MetricsWebrtc {
  stream: string;
  viewers: number;
  publishers: number;
  sessions: { whep: number; whip: number };
  iceFailures: { whep: number; whip: number };
  bytesSent: number;
  bytesReceived: number;
}

/** The playback workers' counters (src/daemons/node/playback-workers.ts), totals since the node started. */
export interface MetricsHttpWorkers {
  workers: number;
  ready: number;
  /** requests the workers answered themselves / passed to the agent (as reported, once a second) */
  served: number;
  proxied: number;
  restarts: number;
}

export interface MetricsSource {
  node(): string;
  streams(): MetricsStream[];
  /** counts of events by stream and name (dvr_write_error …) and by name */
  eventCount(event: string, stream?: string): number;
  eventTotals(): Record<string, number>;
  sinks(): { url: string; queued: number; sent: number; dropped: number; failed: number }[];
  /** streams that have had WebRTC sessions */
  webrtc?(): MetricsWebrtc[];
  /** playback workers (server.http_workers), undefined when there are none */
  httpWorkers?(): MetricsHttpWorkers | undefined;
  startedAt: number;
}

const metric = (name: string, help: string, type: 'gauge' | 'counter' | 'histogram', fill: (out: Value[]) => void) => ({
  name,
  help,
  type,
  aggregator: 'sum',
  get() {
    const values: Value[] = [];
    fill(values);
    return { name, help, type, values, aggregator: 'sum' };
  },
  reset() {},
});

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export class FluxMetrics {
  readonly registry = new Registry();
  private snapshot: MetricsStream[] = [];
  private webrtc: MetricsWebrtc[] = [];
  private openFiles = 0;

  constructor(private readonly src: MetricsSource) {
    const r = this.registry;
    const each = (fn: (s: MetricsStream, st: MetricsStatus, out: Value[]) => void) => (out: Value[]) => {
      for (const s of this.snapshot) if (s.status) fn(s, s.status, out);
    };
    const inputs = (fn: (s: MetricsStream, i: MetricsStatus['inputs'][number]) => number) =>
      each((s, st, out) => {
        for (const i of st.inputs) out.push({ labels: { stream: s.name, input: i.index }, value: fn(s, i) });
      });
    const add = (m: ReturnType<typeof metric>) => r.registerMetric(m as never);

    // per stream
    add(metric('flux_stream_up', 'stream has fresh media from its active input (1) or not (0)', 'gauge', (out) => {
      for (const s of this.snapshot) out.push({ labels: { stream: s.name }, value: s.status?.state === 'running' ? 1 : 0 });
    }));
    add(metric('flux_stream_input_bitrate_bits', 'input bitrate, bit/s, over the last seconds', 'gauge', inputs((_, i) => n(i.bitrate))));
    add(metric('flux_stream_input_bytes_total', 'bytes received from the input (since the supervisor started)', 'counter', inputs((_, i) => n(i.bytes))));
    add(metric('flux_stream_input_cc_errors_total', 'MPEG-TS continuity counter errors on the input', 'counter', inputs((_, i) => n(i.ccErrors))));
    add(metric('flux_stream_input_source_switches_total', 'failovers to this input', 'counter', inputs((_, i) => n(i.switches))));
    add(metric('flux_stream_input_quality_failovers_total', 'failovers away from the input on bad media (failover_on), by reason', 'counter', each((s, st, out) => {
      for (const i of st.inputs) for (const [reason, v] of Object.entries(i.quality?.failovers ?? {})) out.push({ labels: { stream: s.name, input: i.index, reason }, value: n(v) });
    })));
    add(metric('flux_stream_fps', 'video frames per second of the active input', 'gauge', each((s, st, out) => out.push({ labels: { stream: s.name }, value: n(st.fps) }))));
    add(metric('flux_stream_active_input', 'priority of the active input (1 = preferred), 0 when none', 'gauge', each((s, st, out) => {
      const a = st.inputs.find((i) => i.index === st.activeInput);
      out.push({ labels: { stream: s.name }, value: a ? n(a.priority) : 0 });
    })));
    add(metric('flux_stream_output_bytes_total', 'MPEG-TS bytes written to segments (all renditions)', 'counter', each((s, st, out) => {
      out.push({ labels: { stream: s.name }, value: st.renditions.reduce((a, x) => a + n(x.bytes), 0) });
    })));
    add(metric('flux_stream_segments_total', 'segments written (all renditions)', 'counter', each((s, st, out) => {
      out.push({ labels: { stream: s.name }, value: st.renditions.reduce((a, x) => a + n(x.segments), 0) });
    })));
    add(metric('flux_stream_segment_duration_seconds', 'durations of written segments', 'histogram', each((s, st, out) => {
      for (const rd of st.renditions) {
        const d = rd.durations;
        if (!d) continue;
        const labels = { stream: s.name, rendition: rd.name };
        let cum = 0;
        d.le.forEach((le, k) => {
          cum += n(d.counts[k]);
          out.push({ metricName: 'flux_stream_segment_duration_seconds_bucket', labels: { ...labels, le }, value: cum });
        });
        out.push({ metricName: 'flux_stream_segment_duration_seconds_bucket', labels: { ...labels, le: '+Inf' }, value: d.count });
        out.push({ metricName: 'flux_stream_segment_duration_seconds_sum', labels, value: d.sum });
        out.push({ metricName: 'flux_stream_segment_duration_seconds_count', labels, value: d.count });
      }
    })));
    add(metric('flux_stream_online_clients', 'open play sessions (auth.session_timeout without a request closes one)', 'gauge', (out) => {
      for (const s of this.snapshot) out.push({ labels: { stream: s.name }, value: s.clients });
    }));
    add(metric('flux_stream_ffmpeg_restarts_total', 'restarts of the stream\'s ffmpeg children and sources by its supervisor', 'counter', each((s, st, out) => out.push({ labels: { stream: s.name }, value: n(st.restarts) }))));

    // per push
    const pushes = (fn: (p: MetricsStatus['push'][number]) => number) =>
      each((s, st, out) => st.push.forEach((p, k) => out.push({ labels: { stream: s.name, push: k, url: p.url }, value: fn(p) })));
    add(metric('flux_push_up', 'push target connected and sending (1) or not (0)', 'gauge', pushes((p) => (p.state === 'running' ? 1 : 0))));
    add(metric('flux_push_bytes_total', 'bytes sent to the push target', 'counter', pushes((p) => n(p.outBytes ?? p.bytes))));
    add(metric('flux_push_reconnects_total', 'reconnects to the push target', 'counter', pushes((p) => n(p.restarts))));

    // WebRTC (streams that have had a WHEP or WHIP session since the node started)
    const rtc = (fn: (w: MetricsWebrtc, out: Value[]) => void) => (out: Value[]) => {
      for (const w of this.webrtc) fn(w, out);
    };
    const kinds = ['whep', 'whip'] as const;
    add(metric('flux_webrtc_viewers', 'WHEP sessions connected now', 'gauge', rtc((w, out) => out.push({ labels: { stream: w.stream }, value: n(w.viewers) }))));
    add(metric('flux_webrtc_publishers', 'WHIP sessions connected now', 'gauge', rtc((w, out) => out.push({ labels: { stream: w.stream }, value: n(w.publishers) }))));
    add(metric('flux_webrtc_sessions_total', 'WebRTC sessions answered, by kind (whep: play, whip: publish)', 'counter', rtc((w, out) => {
      for (const kind of kinds) out.push({ labels: { stream: w.stream, kind }, value: n(w.sessions[kind]) });
    })));
    add(metric('flux_webrtc_bytes_sent_total', 'SRTP/SRTCP bytes sent to WebRTC peers', 'counter', rtc((w, out) => out.push({ labels: { stream: w.stream }, value: n(w.bytesSent) }))));
    add(metric('flux_webrtc_bytes_received_total', 'SRTP/SRTCP bytes received from WebRTC peers', 'counter', rtc((w, out) => out.push({ labels: { stream: w.stream }, value: n(w.bytesReceived) }))));
    add(metric('flux_webrtc_ice_failures_total', 'WebRTC sessions closed because ICE did not complete within webrtc.ice_timeout or the connection failed, by kind', 'counter', rtc((w, out) => {
      for (const kind of kinds) out.push({ labels: { stream: w.stream, kind }, value: n(w.iceFailures[kind]) });
    })));

    // DVR
    const dvr = (fn: (d: { bytes?: number; oldest?: number }) => number | undefined) =>
      each((s, st, out) => {
        const d = st.dvr as { bytes?: number; oldest?: number } | null;
        if (!d) return;
        const v = fn(d);
        if (v !== undefined) out.push({ labels: { stream: s.name }, value: v });
      });
    add(metric('flux_dvr_disk_bytes', 'bytes the stream\'s archive takes on disk', 'gauge', dvr((d) => n(d.bytes))));
    add(metric('flux_dvr_oldest_seconds', 'age of the oldest archived segment, seconds (the archive depth)', 'gauge', dvr((d) => (d.oldest ? Math.max(0, (Date.now() - d.oldest) / 1000) : 0))));
    add(metric('flux_dvr_write_errors_total', 'DVR write errors (dvr_write_error events since the node started)', 'counter', each((s, st, out) => {
      if (st.dvr) out.push({ labels: { stream: s.name }, value: this.src.eventCount('dvr_write_error', s.name) });
    })));

    // node
    add(metric('flux_node_cpu_seconds_total', 'CPU time of the node agent process', 'counter', (out) => {
      const u = process.cpuUsage();
      out.push({ labels: {}, value: (u.user + u.system) / 1e6 });
    }));
    add(metric('flux_node_rss_bytes', 'resident memory of the node agent process', 'gauge', (out) => out.push({ labels: {}, value: process.memoryUsage.rss() })));
    add(metric('flux_node_open_files', 'open file descriptors of the node agent process', 'gauge', (out) => out.push({ labels: {}, value: this.openFiles })));
    add(metric('flux_node_uptime_seconds', 'seconds since the node agent started', 'gauge', (out) => out.push({ labels: {}, value: (Date.now() - this.src.startedAt) / 1000 })));
    add(metric('flux_node_supervisors', 'stream supervisors by state (up: answering; down: starting, backing off or none)', 'gauge', (out) => {
      let up = 0;
      for (const s of this.snapshot) if (s.supervisor === 'running') up++;
      out.push({ labels: { state: 'up' }, value: up }, { labels: { state: 'down' }, value: this.snapshot.length - up });
    }));
    add(metric('flux_node_supervisor_restarts_total', 'supervisor processes the node restarted', 'counter', (out) => {
      out.push({ labels: {}, value: this.snapshot.reduce((a, s) => a + s.restarts, 0) });
    }));
    add(metric('flux_node_ffmpeg_restarts_total', 'ffmpeg/source restarts summed over all streams', 'counter', (out) => {
      out.push({ labels: {}, value: this.snapshot.reduce((a, s) => a + n(s.status?.restarts), 0) });
    }));
    const hw = (fn: (w: MetricsHttpWorkers, out: Value[]) => void) => (out: Value[]) => {
      const w = this.src.httpWorkers?.();
      if (w) fn(w, out);
    };
    add(metric('flux_http_workers', 'playback worker processes (server.http_workers) by state (ready: accepting; down: starting or restarting)', 'gauge', hw((w, out) => {
      out.push({ labels: { state: 'ready' }, value: w.ready }, { labels: { state: 'down' }, value: w.workers - w.ready });
    })));
    add(metric('flux_http_worker_requests_total', 'requests accepted by playback workers: answered by the worker or passed to the agent', 'counter', hw((w, out) => {
      out.push({ labels: { handled_by: 'worker' }, value: w.served }, { labels: { handled_by: 'agent' }, value: w.proxied });
    })));
    add(metric('flux_http_worker_restarts_total', 'playback worker processes the node restarted', 'counter', hw((w, out) => out.push({ labels: {}, value: w.restarts }))));
    add(metric('flux_events_total', 'events emitted since the node started, by name', 'counter', (out) => {
      for (const [event, v] of Object.entries(this.src.eventTotals())) out.push({ labels: { event }, value: v });
    }));
    const sinks = (fn: (s: ReturnType<MetricsSource['sinks']>[number]) => number) => (out: Value[]) => {
      for (const s of this.src.sinks()) out.push({ labels: { sink: s.url }, value: fn(s) });
    };
    add(metric('flux_sink_queued_events', 'events waiting for a webhook sink', 'gauge', sinks((s) => s.queued)));
    add(metric('flux_sink_sent_events_total', 'events a webhook sink accepted', 'counter', sinks((s) => s.sent)));
    add(metric('flux_sink_dropped_events_total', 'events dropped (oldest first) because a sink\'s queue was full', 'counter', sinks((s) => s.dropped)));
    add(metric('flux_sink_failed_posts_total', 'POSTs to a webhook sink that failed (and were retried)', 'counter', sinks((s) => s.failed)));
  }

  /** The exposition text (one snapshot of the streams for every metric). */
  async render(): Promise<{ contentType: string; text: string }> {
    this.snapshot = this.src.streams();
    this.webrtc = this.src.webrtc?.() ?? [];
    this.registry.setDefaultLabels({ node: this.src.node() });
    this.openFiles = await countOpenFiles();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

async function countOpenFiles(): Promise<number> {
  try {
    const { readdir } = await import('node:fs/promises');
    return (await readdir('/proc/self/fd')).length;
  } catch {
    return 0;
  }
}
