/**
 * `flux top`'s data: one poll of the node (node info, stream list, new events) per refresh, the
 * history behind the sparklines, CPU % from the agent's CPU seconds, and what the screen shows when
 * the node goes away (the poller keeps trying and says so). Pure of ink/react: the plain (non-TTY)
 * output and the tests use it directly.
 */
import { NodeUnreachableError } from '../../core/errors.js';
import type { FluxClient, NodeInfoDoc, StreamDoc } from '../../client/index.js';
import { listEvents, type EventDoc } from '../../client/events.js';

const HISTORY = 24;
const MAX_EVENTS = 200;
const SPARK = '▁▂▃▄▅▆▇█';

export interface TopStream {
  name: string;
  state: string;
  activeInput: number | null;
  activeUrl: string;
  bitrate: number;
  spark: string;
  fps: number;
  ccErrors: number;
  clients: number;
  dvrDepthS: number | null;
  pushes: { ok: number; total: number };
  doc: StreamDoc;
}

export interface TopSnapshot {
  /** null while the node cannot be reached */
  node: (NodeInfoDoc & { cpu_percent: number | null }) | null;
  streams: TopStream[];
  events: EventDoc[];
  /** why the node is not shown (unreachable …), with the time of the last good poll */
  error: string | null;
  lastOkAt: number | null;
  at: number;
}

/** The calls the poller makes (a FluxClient; tests may wrap one). */
export interface TopSource {
  node(): Promise<NodeInfoDoc>;
  listStreams(): Promise<{ streams: StreamDoc[] }>;
  events(since: number): Promise<{ events: EventDoc[]; last_event_id: number }>;
  restart(name: string): Promise<unknown>;
}

export function clientSource(client: FluxClient): TopSource {
  return {
    node: () => client.node(),
    listStreams: () => client.listStreams(),
    events: (since) => listEvents(client, since > 0 ? { since } : { limit: 50 }),
    restart: (name) => client.restartStream(name),
  };
}

export function sparkline(values: number[], width = 12): string {
  const v = values.slice(-width);
  const max = Math.max(...v, 1);
  return v.map((x) => SPARK[Math.min(SPARK.length - 1, Math.round((x / max) * (SPARK.length - 1)))]).join('').padStart(width, ' ');
}

export class TopPoller {
  private history = new Map<string, number[]>();
  private events: EventDoc[] = [];
  private lastEventId = 0;
  private lastNodePid = 0;
  private cpu: { at: number; s: number } | null = null;
  private lastOkAt: number | null = null;
  private last: TopSnapshot = { node: null, streams: [], events: [], error: 'connecting…', lastOkAt: null, at: Date.now() };

  constructor(private readonly src: TopSource) {}

  get snapshot(): TopSnapshot {
    return this.last;
  }

  async poll(): Promise<TopSnapshot> {
    const now = Date.now();
    try {
      const [node, list] = await Promise.all([this.src.node(), this.src.listStreams()]);
      if (node.pid !== this.lastNodePid) {
        // a new node process: its event ids start over
        this.lastNodePid = node.pid;
        this.lastEventId = 0;
        this.events = [];
        this.cpu = null;
      }
      const ev = await this.src.events(this.lastEventId);
      if (ev.events.length) {
        this.events.push(...ev.events);
        if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
      }
      this.lastEventId = Math.max(this.lastEventId, ev.last_event_id);
      let cpu_percent: number | null = null;
      if (node.cpu_seconds !== undefined) {
        if (this.cpu && now > this.cpu.at) cpu_percent = Math.max(0, ((node.cpu_seconds - this.cpu.s) / ((now - this.cpu.at) / 1000)) * 100);
        this.cpu = { at: now, s: node.cpu_seconds };
      }
      const seen = new Set<string>();
      const streams = list.streams.map((d) => {
        seen.add(d.name);
        const h = this.history.get(d.name) ?? [];
        h.push(d.stats.input_bitrate);
        if (h.length > HISTORY) h.shift();
        this.history.set(d.name, h);
        return toTopStream(d, h, now);
      });
      for (const k of this.history.keys()) if (!seen.has(k)) this.history.delete(k);
      this.lastOkAt = now;
      this.last = { node: { ...node, cpu_percent }, streams, events: this.events.slice(), error: null, lastOkAt: now, at: now };
    } catch (e) {
      const why = e instanceof NodeUnreachableError ? 'node unreachable' : (e as Error).message;
      this.last = { ...this.last, node: null, error: `${why}: reconnecting…`, lastOkAt: this.lastOkAt, at: now };
    }
    return this.last;
  }

  restart(name: string): Promise<unknown> {
    return this.src.restart(name);
  }
}

function toTopStream(d: StreamDoc, h: number[], now: number): TopStream {
  const st = d.stats;
  const active = st.inputs.find((i) => i.index === st.active_input);
  const from = st.dvr_info?.from;
  return {
    name: d.name,
    state: st.status,
    activeInput: st.active_input,
    activeUrl: active?.url ?? d.inputs[0]?.url ?? '',
    bitrate: st.input_bitrate,
    spark: sparkline(h),
    fps: active?.fps ?? 0,
    ccErrors: st.inputs.reduce((a, i) => a + i.cc_errors, 0),
    clients: st.online_clients ?? 0,
    dvrDepthS: from ? Math.max(0, Math.round((now - from) / 1000)) : null,
    pushes: { ok: st.push.filter((p) => p.state === 'running').length, total: st.push.length },
    doc: d,
  };
}

// ------------------------------------------------------------------ formatting (shared by ink and plain)

export function kbps(bps: number): string {
  if (!bps) return '-';
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)}M` : `${Math.round(bps / 1000)}k`;
}

export function ago(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(1)}d`;
}

export const COLUMNS = [
  { key: 'name', title: 'STREAM', width: 18 },
  { key: 'state', title: 'STATE', width: 10 },
  { key: 'input', title: 'INPUT', width: 24 },
  { key: 'bitrate', title: 'BITRATE', width: 8 },
  { key: 'spark', title: 'HISTORY', width: 13 },
  { key: 'fps', title: 'FPS', width: 5 },
  { key: 'cc', title: 'CC', width: 5 },
  { key: 'clients', title: 'CLI', width: 5 },
  { key: 'dvr', title: 'DVR', width: 7 },
  { key: 'push', title: 'PUSH', width: 5 },
] as const;

export function cells(s: TopStream): Record<(typeof COLUMNS)[number]['key'], string> {
  return {
    name: s.name,
    state: s.state,
    input: s.activeInput === null ? '-' : `#${s.activeInput} ${s.activeUrl}`,
    bitrate: kbps(s.bitrate),
    spark: s.spark,
    fps: s.fps ? String(Math.round(s.fps)) : '-',
    cc: String(s.ccErrors),
    clients: String(s.clients),
    dvr: ago(s.dvrDepthS),
    push: s.pushes.total ? `${s.pushes.ok}/${s.pushes.total}` : '-',
  };
}

export function fit(text: string, width: number): string {
  return text.length > width - 1 ? text.slice(0, Math.max(0, width - 2)) + '…' + ' ' : text.padEnd(width);
}

export function nodeLine(snap: TopSnapshot): string {
  const n = snap.node;
  if (!n) return `flux top — ${snap.error ?? 'no node'}${snap.lastOkAt ? ` (last seen ${new Date(snap.lastOkAt).toISOString().slice(11, 19)})` : ''}`;
  const alive = snap.streams.filter((s) => s.doc.stats.alive).length;
  const cpu = n.cpu_percent === null ? '-' : `${n.cpu_percent.toFixed(1)}%`;
  const rss = n.rss_bytes ? `${Math.round(n.rss_bytes / 1048576)}M` : '-';
  return `node ${n.name}  flux ${n.version}  up ${ago(Math.round(n.uptime_ms / 1000))}  cpu ${cpu}  rss ${rss}  streams ${alive}/${snap.streams.length} alive  restarts ${n.supervisor_restarts}${n.cluster ? `  cluster ${n.cluster}` : ''}`;
}

export function eventLine(e: EventDoc): string {
  const t = new Date(e.utc_ms).toISOString().slice(11, 19);
  const extra = e.event === 'source_switched' ? ` ${e.from ?? '-'}→${e.to ?? '-'}` : e.input !== undefined ? ` #${e.input}` : '';
  return `${t} ${e.event.padEnd(20)} ${(e.stream ?? '-').padEnd(14)} ${e.reason}${extra}`;
}

/** The plain (non-TTY) rendering: the node line, the table, the last events. */
export function plainFrame(snap: TopSnapshot, filter = '', eventRows = 5): string {
  const lines = [nodeLine(snap)];
  const head = COLUMNS.map((c) => fit(c.title, c.width)).join('').trimEnd();
  lines.push(head);
  for (const s of snap.streams.filter((x) => !filter || x.name.includes(filter))) {
    const c = cells(s);
    lines.push(COLUMNS.map((col) => fit(c[col.key], col.width)).join('').trimEnd());
  }
  if (eventRows > 0) {
    lines.push('', 'EVENTS');
    for (const e of snap.events.slice(-eventRows)) lines.push(eventLine(e));
  }
  return lines.join('\n') + '\n';
}
