/**
 * The stream supervisor: inputs in priority order, one active pipeline feeding the per-rendition
 * HLS writers, failover on silence, return to a preferred input once it has been healthy for
 * its return_after, restarts with backoff, push tee, and the status document.
 *
 * Standby inputs (lower priority than the active one) are started on demand, when the active one
 * fails: nothing runs for them meanwhile (cheaper; the cost is their start-up time on failover).
 * Preferred inputs (higher priority than the active one) are probed: a light pipeline runs for
 * each (the native source alone, or ffmpeg remuxing with -c copy) and restarts with backoff; once
 * it has delivered media without a gap for return_after, the supervisor switches back to it.
 */
import type { Logger } from 'pino';
import type { ResolvedInput, ResolvedServer, ResolvedStream } from '../../config/model.js';
import { Backoff } from '../../core/backoff.js';
import type { ChildExit } from './child.js';
import { QualityWatch } from './quality.js';
import { InputMonitor, SharedDemuxView, type DemuxCounters, type TsAnalyzer } from './monitor.js';
import { GopCache } from '../../media/hls/gop-cache.js';
import { Pipeline, probeIsPromotable, type BuildPipelineArgs } from './pipeline.js';
import { PublishHub } from './sources/publish.js';
import { RELAXED_READ_PACING_MS } from './read-pacer.js';
import { LiveStorage } from './live-storage.js';
import { safeJoin } from '../../core/paths.js';
import type {
  FfmpegChildStatus,
  InputState,
  InputStatus,
  PushStatus,
  RenditionStatus,
  SupervisorEvent,
  SupervisorState,
  SupervisorStatus,
} from '../../protocol/supervisor-status.js';

/** How often a stream with several inputs looks for a failed one. */
const FAILOVER_TICK_MS = 250;
/** How often a single-input stream refreshes its rates and state. */
const SINGLE_INPUT_TICK_MS = 1000;

/** What the supervisor needs from HlsWriter (src/daemons/stream/hls-writer.ts). */
export interface SegmentLike {
  rendition: string;
  startMs: number;
  durationMs: number;
  bytes: number;
  mediaSequence: number;
  discontinuity: boolean;
  uri?: string;
  path?: string;
  keyframe?: boolean;
}

/** The DVR recorder (src/dvr/recorder.ts) as the supervisor drives it. */
export interface DvrLike {
  onSegment(seg: SegmentLike): Promise<void>;
  onWriteError(err: string): void;
  readonly status: unknown;
  close(): Promise<void>;
}

export interface WriterLike {
  write(chunk: Buffer): void;
  discontinuity(): void;
  close(): Promise<void>;
  readonly mediaInfo: unknown;
  readonly stats: unknown;
  /** the writer's own demux counters (in place), when it demuxes: the active passthrough input's monitor reads them */
  readonly demuxStats?: DemuxCounters;
}

export interface OpenWriterOptions {
  root: string;
  rendition: string;
  segmentDurationMs: number;
  window: number;
  keepSegments: boolean;
  onSegment?: (seg: SegmentLike) => void | Promise<void>;
  logger?: Logger;
}

export type OpenWriter = (opts: OpenWriterOptions) => Promise<WriterLike>;

/** A push worker (src/daemons/stream/push.ts) as the supervisor drives it. */
export interface PushLike {
  write(chunk: Buffer): void;
  discontinuity?(): void;
  stop(): Promise<void>;
  status(): PushStatus;
}

export interface SupervisorDeps {
  ffmpegPath: string;
  buildPipelineArgs: BuildPipelineArgs;
  openWriter: OpenWriter;
  /** called after every segment with all writers (master playlist upkeep); root = where live output goes now */
  onWritersUpdated?: (writers: { rendition: string; writer: WriterLike }[], root: string) => void | Promise<void>;
  createPush?: (stream: ResolvedStream, index: number) => PushLike | null;
  /** archive index + retention when the stream has dvr */
  dvr?: DvrLike;
  makeAnalyzer?: (() => TsAnalyzer) | null;
  logger: Logger;
  /** backoff for ffmpeg/source restarts (tests may shorten it) */
  backoff?: () => Backoff;
  tickMs?: number;
  now?: () => number;
  /** every lifecycle event as it happens (src/events: the node's event feed) */
  onEvent?: (ev: SupervisorEvent) => void;
}

export interface SupervisorOptions {
  stream: ResolvedStream;
  server?: ResolvedServer;
  specHash: string;
}

interface InputRuntime {
  index: number;
  input: ResolvedInput;
  monitor: InputMonitor;
  switches: number;
  lastError: string | null;
  failed: boolean;
  /** the probe (or pending full pipeline) of a preferred input */
  probe: Pipeline | null;
  /** when the probe started delivering without a gap */
  healthySince: number;
  /** last media from the probe */
  probeMediaAt: number;
  /** lastError as last seen by the clock, and when: media newer than that clears it */
  seenError: string | null;
  seenErrorAt: number;
  /** failover_on: black/frozen/silence/cc_errors watch (null when the input has none) */
  quality: QualityWatch | null;
  /** warm standby: each rendition's TS since its latest keyframe, replayed when it takes over */
  gop: { generation: number; caches: GopCache[] } | null;
}

const MAX_EVENTS = 100;

interface WriterEntry {
  rendition: string;
  writer: WriterLike;
  segments: number;
  lastSegmentAt: number | null;
  bytes: number;
  errorSeenAt: number;
  /** segment durations (the metrics' histogram) */
  durations: Durations;
}

export class Supervisor {
  readonly name: string;
  readonly startedAt = Date.now();
  readonly publishHub: PublishHub;
  private state: SupervisorState = 'starting';
  private readonly inputs: InputRuntime[];
  private activeIndex: number | null = null;
  private active: Pipeline | null = null;
  private activatedAt = 0;
  /** why the next switch happens (kept in its event) */
  private switchWhy: string | undefined;
  /** full pipeline being started for a priority return (make-before-break) */
  private pending: { index: number; pipeline: Pipeline; startedAt: number } | null = null;
  private writers: WriterEntry[] = [];
  /** where live output goes: the stream root, or the data dir while the root is unwritable */
  private readonly storage: LiveStorage;
  private pushes: { worker: PushLike; rendition: number }[] = [];
  /** live TS taps of the first rendition (GET /live.ts on the control socket: WebRTC in the agent) */
  readonly liveTaps = new Set<(chunk: Buffer) => void>();

  /**
   * How long an ingest may hold `input`'s bytes back to hand them on in one batch (read-pacer.ts):
   * 0 while a reader needs each frame at once (a live TS tap such as WebRTC, LL-HLS parts), else
   * RELAXED_READ_PACING_MS, which costs far less CPU than per-packet delivery; never more than a
   * quarter of the input's source_timeout, so a batch never reads as a silent input.
   */
  batchPauseMs(input: ResolvedInput | undefined): number {
    if (this.liveTaps.size > 0 || this.opts.stream.hls.lowLatency !== undefined) return 0;
    return input ? Math.min(RELAXED_READ_PACING_MS, Math.floor(input.sourceTimeoutMs / 4)) : RELAXED_READ_PACING_MS;
  }
  private events: SupervisorEvent[] = [];
  private restarts = 0;
  private lastError: string | null = null;
  private seenError: string | null = null;
  private seenErrorAt = 0;
  /** a failed write to a writer (a bug or the disk): not cleared by media coming in */
  private writeError: string | null = null;
  private tickTimer: NodeJS.Timeout | undefined;
  private writtenFrom: Pipeline | null = null;
  private writtenGeneration = -1;
  private wroteAny = false;
  private writeErrorLogged = false;
  private stopping: Promise<void> | null = null;
  private readonly log: Logger;
  /** listeners for segments (bench/tests) */
  readonly segmentListeners = new Set<(seg: SegmentLike) => void>();

  constructor(
    private readonly opts: SupervisorOptions,
    private readonly deps: SupervisorDeps,
  ) {
    this.name = opts.stream.name;
    this.log = deps.logger;
    this.publishHub = new PublishHub({
      onPublish: (info) => this.event({ type: 'publish', reason: 'publisher connected', message: info.remote ?? undefined }),
      onUnpublish: (info, reason) => this.event({ type: 'unpublish', reason, message: `${info.bytes} bytes` }),
    });
    this.inputs = opts.stream.inputs.map((input, index) => ({
      index,
      input,
      monitor: new InputMonitor(deps.makeAnalyzer ?? null),
      switches: 0,
      lastError: null,
      failed: false,
      probe: null,
      healthySince: 0,
      probeMediaAt: 0,
      seenError: null,
      seenErrorAt: 0,
      gop: null,
      quality: input.failoverOn ? new QualityWatch(input.failoverOn, deps.ffmpegPath, this.log.child({ input: index, role: 'quality' }), () => this.now()) : null,
    }));
    const s = opts.stream;
    const fallback = opts.server?.dataDir ? safeJoin(opts.server.dataDir, s.name) : null;
    this.storage = new LiveStorage({
      primary: s.root,
      fallback,
      renditions: s.renditions,
      logger: this.log,
      move: (root) => this.moveLiveOutput(root),
      event: (reason, message) => this.event({ type: 'error', reason, message }),
    });
  }

  get stream(): ResolvedStream {
    return this.opts.stream;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  async start(): Promise<void> {
    const s = this.opts.stream;
    for (const rendition of s.renditions) {
      const entry: WriterEntry = { rendition, writer: null as unknown as WriterLike, segments: 0, lastSegmentAt: null, bytes: 0, errorSeenAt: 0, durations: newDurations() };
      entry.writer = await this.openWriterAt(entry, s.root);
      this.writers.push(entry);
    }
    if (this.deps.createPush) {
      s.push.forEach((p, i) => {
        if (p.disabled) return;
        const worker = this.deps.createPush!(s, i);
        if (!worker) return;
        const r = p.rendition ? s.renditions.indexOf(p.rendition) : 0;
        this.pushes.push({ worker, rendition: r >= 0 ? r : 0 });
      });
    }
    this.event({ type: 'start', reason: 'supervisor started' });
    if (this.inputs.length === 0) {
      this.state = 'failed';
      this.lastError = 'stream has no inputs';
    } else {
      this.activate(0, 'start', null);
    }
    // Failover needs a fine tick (250 ms past source_timeout at most); one input only refreshes its
    // rates and state (status() brings both up to date itself), so it wakes once a second. The
    // rate windows start now, not at the first tick.
    for (const rt of this.inputs) rt.monitor.tick(this.now());
    this.tickTimer = setInterval(() => this.tick(), this.deps.tickMs ?? (this.multi() ? FAILOVER_TICK_MS : SINGLE_INPUT_TICK_MS));
  }

  /** A writer for `entry` on `root`: the stream root records (DVR), a fallback root is live only. */
  private openWriterAt(entry: WriterEntry, root: string): Promise<WriterLike> {
    const s = this.opts.stream;
    const archive = root === s.root;
    return this.deps.openWriter({
      root,
      rendition: entry.rendition,
      segmentDurationMs: s.hls.segmentDurationMs,
      window: s.hls.window,
      keepSegments: !!s.dvr && archive,
      logger: this.log.child({ rendition: entry.rendition }),
      onSegment: (seg) => {
        entry.segments++;
        entry.lastSegmentAt = this.now();
        countDuration(entry.durations, seg.durationMs / 1000);
        for (const l of this.segmentListeners) l(seg);
        const dvr = archive ? this.deps.dvr?.onSegment(seg) : undefined;
        const master = this.deps.onWritersUpdated?.(this.writers, root);
        return Promise.all([dvr, master]).then(() => undefined);
      },
    });
  }

  /** Reopen every writer on `root` (LiveStorage decides when); the next segment is a discontinuity. */
  private async moveLiveOutput(root: string): Promise<void> {
    for (const entry of this.writers) {
      if (this.stopping) return;
      const next = await this.openWriterAt(entry, root);
      if (this.stopping) {
        // stop() is closing the writers it saw: this one is ours to close
        await next.close().catch(() => {});
        return;
      }
      const old = entry.writer;
      entry.writer = next;
      entry.errorSeenAt = 0;
      next.discontinuity();
      void old.close().catch(() => {});
    }
  }

  // ---------------------------------------------------------------- pipelines

  private multi(): boolean {
    return this.inputs.length > 1;
  }

  private makePipeline(index: number, mode: 'full' | 'probe'): Pipeline {
    const rt = this.inputs[index]!;
    // a single input has no failover: a silent producer is restarted in place instead
    const watchdogMs = mode === 'probe' || !this.multi() ? rt.input.sourceTimeoutMs : 0;
    const p: Pipeline = new Pipeline(
      this.opts.stream,
      rt.input,
      index,
      { mode, watchdogMs },
      {
        ffmpegPath: this.deps.ffmpegPath,
        buildPipelineArgs: this.deps.buildPipelineArgs,
        publishHub: this.publishHub,
        logger: this.log,
        backoff: this.deps.backoff,
        batchPauseMs: () => this.batchPauseMs(rt.input),
      },
      {
        onOutput: (r, chunk, gen) => this.onOutput(p, r, chunk, gen),
        onMedia: (chunk) => this.onMedia(p, rt, chunk),
        onMediaEpoch: () => {
          if (p === this.active || p === rt.probe) {
            rt.monitor.reset();
            rt.quality?.reset();
          }
        },
        onChildExit: (exit, role, delay) => this.onChildExit(p, rt, exit, role, delay),
        onTilesChanged: (msg) => {
          if (p === this.active) this.event({ type: 'restart', reason: 'mosaic_tiles', input: index, message: msg });
        },
        onWatchdog: (msg) => {
          rt.lastError = msg;
          if (p === this.active) {
            this.restarts++;
            this.lastError = msg;
            this.event({ type: 'restart', reason: 'source_timeout', input: index, message: msg });
          }
        },
        onError: (msg) => {
          // the status shows only the current error; the events keep the history (once per new message)
          if (rt.lastError !== msg && (p === this.active || p === rt.probe)) this.event({ type: 'error', reason: 'input_error', input: index, message: msg });
          rt.lastError = msg;
          if (p === this.active) this.lastError = msg;
        },
      },
    );
    return p;
  }

  private onMedia(p: Pipeline, rt: InputRuntime, chunk: Buffer): void {
    if (p !== this.active && p !== rt.probe) return;
    const now = this.now();
    if (p !== this.active) {
      // probe: measure continuity
      const gapLimit = Math.min(rt.input.sourceTimeoutMs, 2000);
      if (!rt.healthySince || now - rt.probeMediaAt > gapLimit) rt.healthySince = now;
      rt.probeMediaAt = now;
    }
    rt.monitor.feed(chunk, now);
    rt.quality?.feed(chunk);
  }

  private onOutput(p: Pipeline, rendition: number, chunk: Buffer, generation: number): void {
    if (this.pending && p === this.pending.pipeline) {
      // the returning input's full pipeline delivers: switch now (make-before-break)
      this.completePendingReturn();
    }
    if (p !== this.active || this.stopping) {
      if (!this.stopping) this.cacheWarm(p, rendition, chunk, generation);
      return;
    }
    if (p !== this.writtenFrom || generation !== this.writtenGeneration) {
      if (this.wroteAny) {
        for (const w of this.writers) w.writer.discontinuity();
        for (const ps of this.pushes) ps.worker.discontinuity?.();
      }
      this.writtenFrom = p;
      this.writtenGeneration = generation;
    }
    const w = this.writers[rendition];
    if (!w) return;
    this.wroteAny = true;
    w.bytes += chunk.length;
    try {
      w.writer.write(chunk);
      for (const ps of this.pushes) if (ps.rendition === rendition) ps.worker.write(chunk);
      if (rendition === 0) for (const tap of this.liveTaps) tap(chunk);
    } catch (err) {
      // a writer bug must not take the daemon (and every other rendition) down
      if (!this.writeErrorLogged) this.log.error({ err, rendition: w.rendition }, 'write failed');
      this.writeErrorLogged = true;
      this.writeError = `write to ${w.rendition} failed: ${(err as Error).message}`;
    }
  }

  /** A warm standby's output: keep each rendition from its latest keyframe (see replayWarm). */
  private cacheWarm(p: Pipeline, rendition: number, chunk: Buffer, generation: number): void {
    const rt = this.inputs[p.index];
    if (!rt || rt.probe !== p || !rt.input.warm || this.activeIndex === null || rt.index <= this.activeIndex) return;
    if (!rt.gop || rt.gop.generation !== generation) rt.gop = { generation, caches: [] };
    (rt.gop.caches[rendition] ??= new GopCache()).push(chunk);
  }

  /**
   * A warm standby took over: its writers start from the latest keyframe it already produced, not
   * from the next one (up to a GOP sooner: the first backup segment closes one segment duration
   * after that keyframe).
   */
  private replayWarm(p: Pipeline, rt: InputRuntime): void {
    const gop = rt.gop;
    rt.gop = null;
    if (!gop || gop.generation !== p.generation) return;
    gop.caches.forEach((cache, rendition) => {
      for (const chunk of cache.take()) this.onOutput(p, rendition, chunk, gop.generation);
    });
  }

  private onChildExit(p: Pipeline, rt: InputRuntime, exit: ChildExit, role: string, delay: number): void {
    rt.lastError = exit.error;
    if (p === this.active) {
      this.restarts++;
      this.lastError = exit.error;
      this.event({ type: 'restart', reason: 'ffmpeg_exit', input: rt.index, message: `${role}: ${exit.error}; restart in ${delay} ms` });
    }
  }

  /** Make input `index` the active one. `adopt`: a running pipeline for it (probe or pending). */
  private activate(index: number, reason: string, adopt: Pipeline | null): void {
    const from = this.activeIndex;
    const old = this.active;
    const rt = this.inputs[index]!;
    let p = adopt;
    if (p) {
      p.setWatchdog(this.multi() ? 0 : rt.input.sourceTimeoutMs);
      if (rt.probe === p) rt.probe = null;
    } else {
      if (rt.probe) {
        void rt.probe.stop();
        rt.probe = null;
      }
      p = this.makePipeline(index, 'full');
    }
    this.active = p;
    this.activeIndex = index;
    this.activatedAt = this.now();
    rt.failed = false;
    rt.healthySince = 0;
    if (reason !== 'start') {
      rt.switches++;
      this.event({ type: 'switch', reason, from: from ?? undefined, to: index, message: this.switchWhy });
    }
    this.switchWhy = undefined;
    // no monitor reads the writers' demux while a warm standby's GOP is replayed into them: the
    // standby's own pass counted those bytes already, and the old active input never saw them
    for (const o of this.inputs) o.monitor.share(null);
    if (!adopt) p.start();
    else this.replayWarm(p, rt);
    this.shareDemux(rt, p);
    rt.gop = null;
    if (p.fatal) this.lastError = p.lastError;
    if (old && old !== p) void old.stop();
    // probes of inputs now less preferred than the active one are no longer needed (warm standbys are)
    for (const o of this.inputs) {
      if (o.index >= index && o.probe && !(o.index > index && o.input.warm)) {
        void o.probe.stop();
        o.probe = null;
        o.gop = null;
        o.healthySince = 0;
      }
    }
    if (this.pending && (this.pending.index >= index || this.pending.pipeline === p)) {
      if (this.pending.pipeline !== p) void this.pending.pipeline.stop();
      this.pending = null;
    }
  }

  /**
   * One demux pass per passthrough stream (issue #14). While `p` is active and its output 0 is the
   * very bytes its input's monitor sees (native source, no transcoder), the writer of rendition 0
   * demuxes those bytes anyway: the monitor reads that pass (a SharedDemuxView) instead of running
   * its own TsDemuxer over them. Every other monitor demuxes on its own: probes and warm standbys
   * (their bytes reach no writer), pulls and transcoded streams (the monitor's bytes are not what
   * the writer gets). activate() unshares every monitor first, so one that was shared goes back to
   * its own pass as soon as its input is no longer the active one (it may be probed next).
   */
  private shareDemux(rt: InputRuntime, p: Pipeline): void {
    const writerDemux = (): DemuxCounters | null => this.writers[0]?.writer.demuxStats ?? null;
    // no analyzer wanted (makeAnalyzer null), or a writer without a demux of its own (tests' fakes): as before
    const shared = this.deps.makeAnalyzer && p.outputIsMedia && writerDemux() !== null;
    rt.monitor.share(shared ? new SharedDemuxView(writerDemux) : null);
  }

  private completePendingReturn(): void {
    const pend = this.pending;
    if (!pend) return;
    this.pending = null;
    const rt = this.inputs[pend.index]!;
    if (rt.probe) {
      void rt.probe.stop();
      rt.probe = null;
    }
    this.activate(pend.index, 'priority_return', pend.pipeline);
  }

  // ---------------------------------------------------------------- the clock

  /**
   * A failed segment write (ENOSPC, EACCES) pauses recording; the recorder resumes when writes succeed.
   * An unwritable root also moves live output to the fallback (LiveStorage).
   */
  private reportWriteErrors(): void {
    for (const w of this.writers) {
      const at = numberField(w.writer.stats, 'lastErrorAt');
      if (at && at !== w.errorSeenAt) {
        w.errorSeenAt = at;
        const raw = (w.writer.stats as { lastError?: unknown }).lastError;
        const msg = typeof raw === 'string' ? raw : 'segment write failed';
        if (!this.storage.inFallback) this.deps.dvr?.onWriteError(msg);
        this.storage.onWriteError(msg);
      }
    }
    this.storage.tick();
  }

  private tick(): void {
    if (this.stopping) return;
    const now = this.now();
    for (const rt of this.inputs) rt.monitor.tick(now);
    this.reportWriteErrors();
    const ai = this.activeIndex;
    if (ai !== null && this.active) {
      const rt = this.inputs[ai]!;
      const lastMedia = Math.max(rt.monitor.lastPacketAt, this.activatedAt);
      const silentMs = now - lastMedia;
      const hadMedia = rt.monitor.lastPacketAt >= this.activatedAt;
      // a pulled source gets extra time for its first bytes (connect + ffmpeg's probing)
      const limit = rt.input.sourceTimeoutMs + (hadMedia ? 0 : this.active.startupGraceMs);
      if (this.multi() && silentMs > limit) {
        const errored = !hadMedia && (this.active.lastError !== null || this.active.fatal);
        const reason = errored ? 'input_error' : 'source_timeout';
        const why = errored ? this.active.lastError! : `no media for ${(silentMs / 1000).toFixed(1)} s (source_timeout ${rt.input.sourceTimeoutMs / 1000} s)`;
        rt.lastError = why;
        rt.failed = true;
        this.lastError = `input ${ai} (${redact(rt.input.url)}): ${why}`;
        this.log.warn({ input: ai, reason, why }, 'input failed, switching');
        this.switchWhy = why;
        this.activate((ai + 1) % this.inputs.length, reason, this.takeProbeIfPromotable((ai + 1) % this.inputs.length));
      } else if (this.multi()) this.checkQuality(ai, rt);
    }
    for (const rt of this.inputs) {
      if (!rt.quality) continue;
      if (now - this.lastCcSampleAt >= 1000) rt.quality.sampleCc(rt.monitor.ccErrors);
      rt.quality.tick();
    }
    if (now - this.lastCcSampleAt >= 1000) this.lastCcSampleAt = now;
    this.manageProbes(now);
    this.updateState(now);
  }

  private lastCcSampleAt = 0;

  /** failover_on: bad media on the active input fails over like source loss, with the condition as the reason. */
  private checkQuality(ai: number, rt: InputRuntime): void {
    const bad = rt.quality?.bad();
    if (!bad) return;
    rt.lastError = bad.why;
    rt.failed = true;
    this.lastError = `input ${ai} (${redact(rt.input.url)}): ${bad.why}`;
    this.log.warn({ input: ai, reason: bad.reason, why: bad.why }, 'input media is bad, switching');
    this.switchWhy = bad.why;
    rt.quality!.failovers[bad.reason] = (rt.quality!.failovers[bad.reason] ?? 0) + 1;
    rt.quality!.reset();
    const next = (ai + 1) % this.inputs.length;
    this.activate(next, bad.reason, this.takeProbeIfPromotable(next));
  }

  private takeProbeIfPromotable(index: number): Pipeline | null {
    const rt = this.inputs[index]!;
    if (!rt.probe) return null;
    // a warm standby of a transcoded stream runs the full pipeline: it takes over as it is
    if (rt.probe.mode === 'full' || probeIsPromotable(this.opts.stream)) return rt.probe;
    return null;
  }

  /**
   * Warm standby (`warm: true`): an input after the active one keeps its pipeline running (a probe,
   * which is the full pipeline of a stream without transcoder; the full one, transcoder included,
   * otherwise) so a failover onto it switches at once instead of connecting and probing first.
   */
  private manageWarmStandbys(ai: number): void {
    for (let j = ai + 1; j < this.inputs.length; j++) {
      const rt = this.inputs[j]!;
      if (!rt.input.warm || rt.probe) continue;
      rt.probe = this.makePipeline(j, probeIsPromotable(this.opts.stream) ? 'probe' : 'full');
      rt.probe.setWatchdog(rt.input.sourceTimeoutMs); // a silent standby restarts, as a probe does
      rt.healthySince = 0;
      rt.probeMediaAt = 0;
      rt.probe.start();
    }
  }

  private manageProbes(now: number): void {
    const ai = this.activeIndex;
    if (ai === null || !this.multi()) return;
    this.manageWarmStandbys(ai);
    for (let j = 0; j < ai; j++) {
      const rt = this.inputs[j]!;
      if (!rt.probe) {
        rt.probe = this.makePipeline(j, 'probe');
        rt.healthySince = 0;
        rt.probeMediaAt = 0;
        rt.probe.start();
        continue;
      }
      const gapLimit = Math.min(rt.input.sourceTimeoutMs, 2000);
      if (rt.healthySince && now - rt.probeMediaAt > gapLimit) rt.healthySince = 0;
      // failover_on: media that flows but is black/frozen/silent is not healthy
      if (rt.healthySince && rt.quality?.impaired()) rt.healthySince = now;
      if (rt.healthySince) {
        rt.failed = false;
        clearInputErrorIfRecovered(rt, rt.probeMediaAt, now);
      }
      if (rt.healthySince && now - rt.healthySince >= rt.input.returnAfterMs && !this.pending) {
        if (probeIsPromotable(this.opts.stream) || rt.probe.mode === 'full') {
          this.activate(j, 'priority_return', rt.probe);
          return;
        }
        // transcoded stream: start the full pipeline; switch on its first output
        const full = this.makePipeline(j, 'full');
        full.setWatchdog(0);
        this.pending = { index: j, pipeline: full, startedAt: now };
        full.start();
      }
    }
    if (this.pending) {
      const rt = this.inputs[this.pending.index]!;
      if (now - this.pending.startedAt > rt.input.sourceTimeoutMs + 5000) {
        rt.lastError = `returning: no output from the full pipeline: ${this.pending.pipeline.lastError ?? 'nothing'}`;
        void this.pending.pipeline.stop();
        this.pending = null;
        rt.healthySince = 0;
      }
    }
  }

  private updateState(now: number): void {
    if (this.stopping) {
      this.state = 'stopping';
      return;
    }
    const ai = this.activeIndex;
    if (ai === null || !this.active) {
      this.state = 'failed';
      return;
    }
    const rt = this.inputs[ai]!;
    const fresh = rt.monitor.lastPacketAt >= this.activatedAt && now - rt.monitor.lastPacketAt <= rt.input.sourceTimeoutMs;
    if (fresh) {
      // media flows but the storage does not take it: an error, not "running"
      this.state = this.storage.error ? 'error' : 'running';
      this.clearRecoveredErrors(rt, now);
    }
    else if (this.active.fatal) this.state = 'failed';
    else if (!this.wroteAny && now - this.startedAt < rt.input.sourceTimeoutMs) this.state = 'starting';
    else {
      this.state = 'waiting';
      // silence without an error of its own (UDP, a publisher that left): say so
      if (!this.active.lastError) {
        const since = Math.max(rt.monitor.lastPacketAt, this.activatedAt);
        const why = rt.input.scheme === 'publish' && !this.publishHub.publisher ? 'waiting for a publisher' : `no media for ${((now - since) / 1000).toFixed(0)} s`;
        rt.lastError = why;
        this.lastError = `input ${ai} (${redact(rt.input.url)}): ${why}`;
      }
    }
  }

  /**
   * Errors describe the current problem only (past ones are in the events): once the active input
   * has delivered media AND its pipeline has produced output since an error was first seen, the
   * error is over. A transcoder fed by a live source needs its own output too: the source's bytes
   * alone do not say the restarted encoder works.
   */
  private clearRecoveredErrors(rt: InputRuntime, now: number): void {
    const flowing = Math.min(rt.monitor.lastPacketAt, this.active?.lastOutputAt ?? 0);
    clearInputErrorIfRecovered(rt, flowing, now);
    if (this.lastError !== this.seenError) {
      this.seenError = this.lastError;
      this.seenErrorAt = now;
    }
    if (this.lastError && flowing > this.seenErrorAt) this.lastError = this.seenError = null;
  }

  // ---------------------------------------------------------------- control

  /** POST /restart: restart the active pipeline (and probes) now. */
  async restart(reason = 'api'): Promise<void> {
    this.restarts++;
    this.event({ type: 'restart', reason, input: this.activeIndex ?? undefined });
    for (const rt of this.inputs) {
      if (rt.probe) {
        void rt.probe.stop();
        rt.probe = null;
        rt.healthySince = 0;
      }
    }
    if (this.active) {
      this.activatedAt = this.now();
      await this.active.restart();
    }
  }

  /** Graceful stop: no more input, open segments closed, children gone. */
  stop(reason = 'stop'): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.event({ type: 'stop', reason });
      clearInterval(this.tickTimer);
      this.publishHub.kick();
      const ps: Promise<void>[] = [];
      if (this.active) ps.push(this.active.stop());
      if (this.pending) ps.push(this.pending.pipeline.stop());
      for (const rt of this.inputs) if (rt.probe) ps.push(rt.probe.stop());
      for (const rt of this.inputs) rt.quality?.stop();
      await Promise.allSettled(ps);
      await Promise.allSettled(this.pushes.map((p) => p.worker.stop()));
      await Promise.allSettled(this.writers.map((w) => w.writer.close()));
      await this.deps.dvr?.close().catch((err: unknown) => this.log.warn({ err }, 'dvr close failed'));
      if (this.deps.onWritersUpdated) await Promise.resolve(this.deps.onWritersUpdated(this.writers, this.storage.root)).catch(() => {});
    })();
    return this.stopping;
  }

  /** Log an error through the supervisor's logger (process-level handlers). */
  logError(msg: string, err: unknown): void {
    this.log.error({ err }, msg);
  }

  /** Test/ops hook: kill the active pipeline's ffmpeg children (they restart with backoff). */
  killActiveChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.active?.killChildren(signal);
  }

  private event(e: Omit<SupervisorEvent, 'at'>): void {
    const ev: SupervisorEvent = { at: this.now(), ...e };
    this.events.push(ev);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.log.info({ event: ev }, `${ev.type}: ${ev.reason}`);
    this.deps.onEvent?.(ev);
  }

  // ---------------------------------------------------------------- status

  status(): SupervisorStatus {
    const now = this.now();
    if (!this.stopping) {
      // rates as of now, whatever the tick's period (a window closes once it is 2 s old)
      for (const rt of this.inputs) rt.monitor.tick(now);
      this.updateState(now);
    }
    const ai = this.activeIndex;
    const inputs: InputStatus[] = this.inputs.map((rt) => {
      const m = rt.monitor;
      const isActive = rt.index === ai;
      // a mosaic's tiles as the pipeline running for this input draws them
      const tiles = (isActive ? this.active : rt.probe)?.tileStatus();
      let state: InputState;
      if (isActive) {
        const fresh = m.lastPacketAt >= this.activatedAt && now - m.lastPacketAt <= rt.input.sourceTimeoutMs;
        state = fresh ? 'active' : 'waiting';
      } else state = rt.failed ? 'failed' : 'standby';
      return {
        index: rt.index,
        url: redact(rt.input.url),
        priority: rt.input.priority,
        state,
        bitrate: m.bitrate,
        fps: m.fps,
        ccErrors: m.ccErrors,
        lostPackets: m.lostPackets,
        lastPacketAgeMs: m.lastPacketAt ? now - m.lastPacketAt : null,
        switches: rt.switches,
        lastError: rt.lastError,
        role: isActive ? 'active' : rt.probe ? (ai !== null && rt.index > ai && rt.input.warm ? 'warm' : 'probe') : null,
        bytes: m.bytes,
        ...(rt.quality ? { quality: { watch: rt.quality.watched, failovers: { ...rt.quality.failovers }, error: rt.quality.lastError } } : {}),
        ...(tiles ? { tiles } : {}),
      };
    });
    const renditions: RenditionStatus[] = this.writers.map((w) => ({
      name: w.rendition,
      bitrate: numberField(w.writer.stats, 'bitrate') ?? 0,
      segments: w.segments,
      lastSegmentAt: w.lastSegmentAt,
      bytes: w.bytes,
      durations: w.durations,
    }));
    const ffmpeg: FfmpegChildStatus[] = [];
    if (this.active) ffmpeg.push(...this.active.children());
    if (this.pending) ffmpeg.push(...this.pending.pipeline.children().map((c) => ({ ...c, role: `${c.role} (returning)` })));
    for (const rt of this.inputs) if (rt.probe) ffmpeg.push(...rt.probe.children());
    const activeRt = ai !== null ? this.inputs[ai] : undefined;
    const mi = this.writers[0]?.writer.mediaInfo;
    return {
      name: this.name,
      pid: process.pid,
      specHash: this.opts.specHash,
      state: this.state,
      startedAt: this.startedAt,
      activeInput: ai,
      inputs,
      restarts: this.restarts,
      lastError: this.storage.error ?? this.writeError ?? this.lastError,
      bitrate: activeRt?.monitor.bitrate ?? 0,
      fps: activeRt?.monitor.fps || numberField(this.writers[0]?.writer.stats, 'fps') || 0,
      mediaInfo: mi && typeof mi === 'object' ? (mi as Record<string, unknown>) : null,
      renditions,
      push: this.pushes.map((p) => p.worker.status()),
      events: [...this.events],
      dvr: this.deps.dvr ? this.deps.dvr.status : null,
      ...(this.storage.inFallback ? { liveRoot: this.storage.root } : {}),
      ...(this.publishHub.publisher ? { publisher: { ...this.publishHub.publisher } } : {}),
      ffmpeg: ffmpeg.map(({ role, pid, args, input, startedAt }) => ({ role, pid, args: args.map(redact), input, startedAt })),
    };
  }
}

/** segment durations by bucket (seconds; the metrics' histogram) */
type Durations = { le: number[]; counts: number[]; sum: number; count: number };
const DURATION_BUCKETS = [0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 15];
function newDurations(): Durations {
  return { le: DURATION_BUCKETS, counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
}
function countDuration(d: Durations, s: number): void {
  const k = d.le.findIndex((le) => s <= le);
  if (k >= 0) d.counts[k]!++;
  d.sum += s;
  d.count++;
}

/** An input's error is over once it has delivered after the error was first seen (see clearRecoveredErrors). */
function clearInputErrorIfRecovered(rt: InputRuntime, flowingAt: number, now: number): void {
  if (rt.lastError !== rt.seenError) {
    rt.seenError = rt.lastError;
    rt.seenErrorAt = now;
  }
  if (rt.lastError && flowingAt > rt.seenErrorAt) rt.lastError = rt.seenError = null;
}

function numberField(o: unknown, k: string): number | undefined {
  if (!o || typeof o !== 'object') return undefined;
  const v = (o as Record<string, unknown>)[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Hide credentials in URLs shown in status (user:pass@, passphrase=…). */
export function redact(s: string): string {
  return s
    .replace(/(\/\/)([^/@\s:]+):([^/@\s]+)@/g, '$1$2:***@')
    .replace(/([?&](?:passphrase|password|pass|pwd|token|key)=)[^&\s]*/gi, '$1***');
}
