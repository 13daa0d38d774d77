/**
 * One input's running machinery: a native TS source and/or an ffmpeg child, restarted with
 * capped backoff. The supervisor decides which pipeline's output reaches the writers.
 *
 *  native, no transcoder:   source ─▶ output 0 (and the monitor; while active, the monitor reads the
 *                           writer's demux of output 0 instead of its own: outputIsMedia)
 *  native + transcoder:     source ─▶ ffmpeg stdin ─▶ outputs (fd 1, 3, 4 …); monitor sees the source bytes
 *  pull (rtmp/rtsp/srt/hls/file/fake): ffmpeg ─▶ outputs; monitor sees output 0
 *  probe of a transcoded stream: the same without the transcoder (native source alone, or an
 *  ffmpeg `-c copy` remux for pulls): cheap enough to keep an eye on a preferred input.
 *  mosaic: ffmpeg composes other streams' live output; its tiles are looked at every 2 s
 *  (mosaic-tiles.ts) and a changed set restarts ffmpeg on the new plan (missing tiles as slates).
 */
import type { Logger } from 'pino';
import type { ResolvedInput, ResolvedStream } from '../../config/model.js';
import { Backoff } from '../../core/backoff.js';
import { FfmpegChild, type ChildExit, type ChildOutput } from './child.js';
import type { FfmpegChildStatus } from '../../protocol/supervisor-status.js';
import { isNativeScheme, type NativeSource, type SourceHandlers } from './sources/source.js';
import { UdpSource } from './sources/udp.js';
import { TsHttpSource } from './sources/tshttp.js';
import { PublishSource, type PublishHub } from './sources/publish.js';
import { MOSAIC_CHECK_MS, MosaicTiles, type TileStatus } from './mosaic-tiles.js';

export interface PipelineArgs {
  args: string[];
  outputs: ChildOutput[];
}

/** `ctx.liveTiles`: a mosaic's tiles that have live output now (the others are drawn as slates). */
export type BuildPipelineArgs = (stream: ResolvedStream, input: ResolvedInput | 'stdin', ctx?: { liveTiles?: ReadonlySet<string> }) => PipelineArgs | null;

export type PipelineMode = 'full' | 'probe';

export interface PipelineDeps {
  ffmpegPath: string;
  buildPipelineArgs: BuildPipelineArgs;
  publishHub: PublishHub;
  logger: Logger;
  /** backoff factory (tests shorten it) */
  backoff?: () => Backoff;
  /** how long udp:// may hold datagrams back to deliver them together (Supervisor.batchPauseMs; 0 or absent: each at once) */
  batchPauseMs?: () => number;
}

export interface PipelineHandlers {
  /** TS for stream.renditions[rendition]; generation changes whenever the producer restarted */
  onOutput(rendition: number, chunk: Buffer, generation: number): void;
  /** bytes that tell the input is alive (native: as received; pull: ffmpeg's first output) */
  onMedia(chunk: Buffer): void;
  /** the bytes given to onMedia start over (new process, reconnect): demux state must restart */
  onMediaEpoch?(): void;
  /** an ffmpeg child died on its own (not stopped by us); restartInMs = scheduled restart */
  onChildExit?(exit: ChildExit, role: string, restartInMs: number): void;
  /** the watchdog killed a silent producer */
  onWatchdog?(message: string): void;
  /** a mosaic's set of live tiles changed: ffmpeg restarts on the new plan */
  onTilesChanged?(message: string): void;
  onError?(message: string): void;
}

export interface PipelineOptions {
  mode: PipelineMode;
  /** kill and restart a producer that gave no output for this long (0 = off; the supervisor fails over instead) */
  watchdogMs: number;
}

/**
 * Extra time an ffmpeg child gets for its FIRST output after a (re)start: it connects, then
 * probes its input (analyzeduration defaults to 5 s) before it writes a byte. Without it a slow
 * but healthy source (or a transcoder still probing its stdin) would be killed, or failed over,
 * just before it delivers.
 */
export const PULL_STARTUP_GRACE_MS = 6000;

/** SIGKILL a mosaic's ffmpeg this long after SIGTERM when a new plan replaces it (its hls readers may sleep in a reload). */
const MOSAIC_STOP_GRACE_MS = 300;

/** A pause in the source longer than this makes the next bytes a new start for a fed transcoder. */
const FEED_GAP_MS = 1000;

export function pipelineNeedsFfmpeg(stream: ResolvedStream, input: ResolvedInput, mode: PipelineMode): boolean {
  if (!isNativeScheme(input.scheme)) return true;
  return mode === 'full' && !!stream.transcoder;
}

/** Can a probe pipeline become the active one as is (same process layout as a full one)? */
export function probeIsPromotable(stream: ResolvedStream): boolean {
  return !stream.transcoder;
}

export class Pipeline {
  generation = 0;
  restarts = 0;
  lastError: string | null = null;
  lastOutputAt = 0;
  lastMediaAt = 0;
  readonly startedAt = Date.now();
  private source: NativeSource | undefined;
  private child: FfmpegChild | undefined;
  private childArgs: PipelineArgs | null = null;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private lastSourceDataAt = 0;
  /**
   * When the source last began feeding the child after a silence (a publisher connecting to a
   * transcoded stream started long before): the child's time to first output counts from here,
   * since it cannot probe or encode what it has not been given.
   */
  private feedStartAt = 0;
  private childOutputAt = 0;
  /** ffmpeg output chunks are aligned per child: the renditions this pipeline maps to */
  private readonly renditionIndex: number[] = [];
  private readonly log: Logger;
  fatal = false;
  /** mosaic:// inputs: which tiles are live, checked every MOSAIC_CHECK_MS */
  private tiles: MosaicTiles | undefined;
  private tilesTimer: NodeJS.Timeout | undefined;
  private checkingTiles = false;

  constructor(
    readonly stream: ResolvedStream,
    readonly input: ResolvedInput,
    readonly index: number,
    readonly opts: PipelineOptions,
    private readonly deps: PipelineDeps,
    private readonly h: PipelineHandlers,
  ) {
    this.backoff = deps.backoff?.() ?? new Backoff();
    this.log = deps.logger.child({ input: index, role: opts.mode });
  }

  get mode(): PipelineMode {
    return this.opts.mode;
  }

  get watchdogMs(): number {
    return this.opts.watchdogMs;
  }

  /** Time allowed for the first media after a start, beyond the source timeout. */
  get startupGraceMs(): number {
    return pipelineNeedsFfmpeg(this.stream, this.input, this.opts.mode) ? PULL_STARTUP_GRACE_MS : 0;
  }

  /**
   * Output 0 is the very bytes given to onMedia (a native source and no ffmpeg: see the header):
   * while this pipeline is active, the writer of rendition 0 demuxes what the input monitor
   * would, so the monitor reads that pass instead of making its own (Supervisor.shareDemux).
   */
  get outputIsMedia(): boolean {
    return isNativeScheme(this.input.scheme) && !pipelineNeedsFfmpeg(this.stream, this.input, this.opts.mode);
  }

  /** Change the watchdog (a probe promoted to active in a multi-input stream: the supervisor takes over). */
  setWatchdog(ms: number): void {
    this.opts.watchdogMs = ms;
  }

  start(): void {
    const native = isNativeScheme(this.input.scheme);
    const useFfmpeg = pipelineNeedsFfmpeg(this.stream, this.input, this.opts.mode);
    const mosaic = this.input.scheme === 'mosaic' && this.input.mosaic;
    if (useFfmpeg && !mosaic && !this.buildArgs()) return;
    if (native) this.startSource(useFfmpeg);
    if (mosaic) this.startMosaic(mosaic);
    else if (useFfmpeg) this.spawnChild();
    // the watchdog looks after ffmpeg children only: a native source alone has nothing to restart
    if (useFfmpeg || mosaic) {
      this.watchdogTimer = setInterval(() => this.checkWatchdog(), 250);
      this.watchdogTimer.unref();
    }
  }

  /** (Re)build the child's arguments; false (and fatal) when they cannot be built. */
  private buildArgs(): boolean {
    const native = isNativeScheme(this.input.scheme);
    try {
      const streamForArgs = this.opts.mode === 'probe' ? { ...this.stream, transcoder: undefined, renditions: ['v1a1'] } : this.stream;
      this.childArgs = this.deps.buildPipelineArgs(streamForArgs, native ? 'stdin' : this.input, this.tiles ? { liveTiles: this.tiles.live } : undefined);
    } catch (e) {
      this.fatal = true;
      this.setError(`cannot build ffmpeg arguments: ${(e as Error).message}`);
      return false;
    }
    if (!this.childArgs) {
      this.fatal = true;
      this.setError('no ffmpeg pipeline for this input (argument builder returned null)');
      return false;
    }
    this.renditionIndex.length = 0;
    for (const o of this.childArgs.outputs) {
      const r = this.stream.renditions.indexOf(o.rendition);
      this.renditionIndex.push(r >= 0 ? r : this.renditionIndex.length);
    }
    return true;
  }

  /** A mosaic's first look at its tiles, then its ffmpeg, then a look every MOSAIC_CHECK_MS. */
  private startMosaic(m: NonNullable<ResolvedInput['mosaic']>): void {
    this.tiles = new MosaicTiles(m);
    void this.tiles.check().then(
      () => {
        if (this.stopped) return;
        this.spawnChild();
        this.tilesTimer = setInterval(() => void this.recheckTiles(), MOSAIC_CHECK_MS);
        this.tilesTimer.unref();
      },
      (e: Error) => this.setError(`mosaic: cannot look at the tiles: ${e.message}`),
    );
  }

  private async recheckTiles(): Promise<void> {
    if (this.stopped || this.checkingTiles || !this.tiles) return;
    this.checkingTiles = true;
    try {
      if (!(await this.tiles.check()) || this.stopped) return;
      const st = this.tiles.status();
      const msg = `tiles changed: live ${names(st, true)}; slates ${names(st, false)}`;
      this.log.info({ tiles: st }, `mosaic: ${msg}`);
      this.h.onTilesChanged?.(msg);
      // a new plan at once, whatever the backoff: the old one is what failed or went stale
      const c = this.child;
      this.child = undefined;
      clearTimeout(this.restartTimer);
      // what it still has buffered is of the old plan: no need to wait long for a clean exit
      if (c) await c.stop(MOSAIC_STOP_GRACE_MS);
      if (this.stopped) return;
      this.backoff.reset();
      this.spawnChild();
    } catch (e) {
      this.setError(`mosaic: cannot look at the tiles: ${(e as Error).message}`);
    } finally {
      this.checkingTiles = false;
    }
  }

  /** mosaic:// inputs: each tile and whether it is read live (else drawn as a slate); undefined otherwise. */
  tileStatus(): TileStatus[] | undefined {
    return this.tiles?.status();
  }

  private startSource(feedsChild: boolean): void {
    const handlers: SourceHandlers = {
      onData: (chunk) => {
        if (this.stopped) return;
        const now = Date.now();
        if (feedsChild && (!this.lastSourceDataAt || now - this.lastSourceDataAt > FEED_GAP_MS)) this.feedStartAt = now;
        this.lastSourceDataAt = now;
        this.lastMediaAt = now;
        this.h.onMedia(chunk);
        if (feedsChild) this.child?.write(chunk);
        else {
          this.lastOutputAt = now;
          this.h.onOutput(0, chunk, this.generation);
        }
      },
      onEpoch: () => {
        if (!feedsChild) this.generation++;
        this.h.onMediaEpoch?.();
      },
      onError: (msg) => this.setError(msg),
    };
    const i = this.input;
    switch (i.scheme) {
      case 'udp':
      case 'rtp':
        // datagrams one by one while a reader needs each frame at once, else in batches
        this.source = new UdpSource(i.url, i.interface, handlers, () => this.deps.batchPauseMs?.() ?? 0);
        break;
      case 'tshttp':
      case 'tshttps':
        this.source = new TsHttpSource(i.url, handlers, { stallMs: i.sourceTimeoutMs, backoff: this.deps.backoff?.(), headers: i.headers });
        break;
      case 'publish':
        this.source = new PublishSource(this.deps.publishHub, handlers);
        break;
      default:
        this.setError(`no native source for ${i.scheme}://`);
        return;
    }
    this.source.start();
  }

  private spawnChild(): void {
    if (this.stopped) return;
    // a mosaic's every (re)start draws the tiles as they are now
    if (this.tiles && !this.buildArgs()) return;
    if (!this.childArgs) return;
    const feedsFromSource = !!this.source;
    const role = feedsFromSource ? 'transcoder' : this.opts.mode === 'probe' ? 'probe' : this.stream.transcoder ? 'pull+transcoder' : 'pull';
    this.generation++;
    this.childOutputAt = 0;
    if (!feedsFromSource) this.h.onMediaEpoch?.();
    const child: FfmpegChild = new FfmpegChild({
      command: this.deps.ffmpegPath,
      args: this.childArgs.args,
      outputs: this.childArgs.outputs,
      stdin: feedsFromSource,
      role,
      onOutput: (k, chunk) => {
        if (this.stopped || this.child !== child) return;
        const now = Date.now();
        this.childOutputAt = now;
        this.lastOutputAt = now;
        if (k === 0 && !feedsFromSource) {
          this.lastMediaAt = now;
          this.h.onMedia(chunk);
        }
        this.h.onOutput(this.renditionIndex[k] ?? k, chunk, this.generation);
      },
      onExit: (exit) => {
        if (this.child === child) this.child = undefined;
        // stopped by us (stop/restart): whoever stopped it decides what comes next
        if (this.stopped || exit.requested) return;
        this.setError(exit.error);
        if (exit.error.startsWith('cannot run')) this.fatal = true;
        const healthy = this.childOutputAt ? this.childOutputAt - child.startedAt : 0;
        const delay = this.backoff.afterRun(healthy);
        this.restarts++;
        this.log.warn({ code: exit.code, signal: exit.signal, ranMs: exit.ranMs, restartInMs: delay, err: exit.detail }, 'ffmpeg exited');
        this.h.onChildExit?.(exit, role, delay);
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => this.spawnChild(), delay);
      },
      onStderrLine: (line) => this.log.debug({ ffmpeg: line }, 'ffmpeg'),
    });
    this.child = child;
    this.log.info({ ffmpegPid: child.pid, args: this.childArgs.args }, 'ffmpeg started');
  }

  private checkWatchdog(): void {
    const wd = this.opts.watchdogMs;
    if (this.stopped || wd <= 0) return;
    const now = Date.now();
    if (this.child && this.child.running) {
      // a transcoder counts from when its input (re)started flowing, not from its spawn
      const fedFrom = Math.max(this.child.startedAt, this.source ? this.feedStartAt : 0);
      const since = Math.max(this.childOutputAt, fedFrom);
      // a transcoder fed by a silent source is not to blame
      const sourceQuiet = this.source && now - this.lastSourceDataAt > wd;
      // no output since the feed began: it is still probing (startup grace)
      const limit = this.childOutputAt > fedFrom ? wd : wd + this.startupGraceMs;
      if (now - since > limit && !sourceQuiet) {
        const msg = `no output from ffmpeg for ${fmtSec(now - since)}: restarting it`;
        this.setError(msg);
        this.h.onWatchdog?.(msg);
        this.child.kill('SIGKILL');
      }
    }
  }

  /** Restart now (POST /restart): children killed and respawned at once, sources reopened. */
  async restart(): Promise<void> {
    if (this.stopped) return;
    this.backoff.reset();
    this.restarts++;
    if (this.source) {
      await this.source.stop();
      this.generation++;
      this.source.start();
    }
    const c = this.child;
    if (c) {
      this.child = undefined;
      await c.stop();
      clearTimeout(this.restartTimer);
      this.spawnChild();
    }
  }

  /** Kill the running ffmpeg children now; they come back through the normal restart path. */
  killChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdogTimer);
    clearInterval(this.tilesTimer);
    const c = this.child;
    this.child = undefined;
    await Promise.all([this.source?.stop(), c?.stop()]);
  }

  children(): FfmpegChildStatus[] {
    const c = this.child;
    if (!c || !c.running || c.pid === undefined) return [];
    return [{ role: c.role, pid: c.pid, args: c.args, input: this.index, startedAt: c.startedAt }];
  }

  get running(): boolean {
    return !this.stopped;
  }

  private setError(msg: string): void {
    this.lastError = msg;
    this.h.onError?.(msg);
  }
}

function names(tiles: TileStatus[], live: boolean): string {
  return tiles.filter((t) => t.live === live).map((t) => t.name).join(', ') || '-';
}

function fmtSec(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
