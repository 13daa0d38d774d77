/**
 * Quality watch of one input (`failover_on`): is the picture black or frozen, the sound silent, or
 * the transport losing packets (CC errors)? Picture and sound come from one low-cost ffmpeg child
 * fed the input's TS (keyframes only, 64x36; audio at 8 kHz), started when the input is watched and
 * stopped when it is not; CC errors come from the input monitor's demux counters. A condition that
 * lasts its threshold makes the input `bad()` (the supervisor fails over, as on source loss);
 * `impaired()` says a condition is present at all (a preferred input is not healthy again while
 * impaired, so it returns only after return_after of good media).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../core/logger.js';
import type { ResolvedFailoverOn } from '../../config/model.js';
import { qualityWatchArgs } from '../../ffmpeg/quality.js';

/** Luma mean below this (limited range: black is 16) is a black picture. */
export const BLACK_YAVG = 20;
/** Mean luma difference to the previous keyframe below this is a frozen picture. */
export const FROZEN_YDIF = 0.5;
/** RMS level below this (dBFS) is silence. */
export const SILENCE_DB = -60;
/** At most this much TS is queued for the child; beyond it chunks are dropped (a stalled child never grows memory). */
const MAX_QUEUED = 4 * 1024 * 1024;
/** A watch that got no bytes for this long stops its child. */
const IDLE_MS = 5000;
/** After a child failed on its own, wait this long before starting another (no spawn storm per chunk). */
const RETRY_MS = 10_000;

export type QualityReason = 'black' | 'frozen' | 'silence' | 'cc_errors';

export class QualityWatch {
  private child: ChildProcess | null = null;
  private lastFeedAt = 0;
  private failedAt = 0;
  private errLine: string | null = null;
  private buf = '';
  /**
   * when each condition started and the latest value, in MEDIA time (ms, from pts_time): durations
   * hold even when values arrive in a burst (the child's start-up probing); NaN = not present
   */
  private since: Record<'black' | 'frozen' | 'silence', number> = { black: NaN, frozen: NaN, silence: NaN };
  private latest: Record<'black' | 'frozen' | 'silence', number> = { black: NaN, frozen: NaN, silence: NaN };
  private curPts = NaN;
  private prevKeyPts = NaN;
  /** last time a value of each kind arrived: no values = unknown, treated as impaired */
  private seenVideoAt = 0;
  private seenAudioAt = 0;
  private cc: { at: number; count: number }[] = [];
  lastError: string | null = null;
  /** children started (each start = a new media epoch or a watch resumed) */
  startedChildren = 0;
  /** failovers away from this input, by condition (status, metrics) */
  readonly failovers: Partial<Record<QualityReason, number>> = {};

  /** the conditions watched, by their config names */
  get watched(): QualityReason[] {
    const out: QualityReason[] = [];
    if (this.on.blackMs !== undefined) out.push('black');
    if (this.on.frozenMs !== undefined) out.push('frozen');
    if (this.on.silenceMs !== undefined) out.push('silence');
    if (this.on.ccErrors) out.push('cc_errors');
    return out;
  }

  constructor(
    private readonly on: ResolvedFailoverOn,
    private readonly ffmpeg: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private get needsChild(): boolean {
    return this.on.blackMs !== undefined || this.on.frozenMs !== undefined || this.on.silenceMs !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** TS bytes of the watched input. */
  feed(chunk: Buffer): void {
    if (!this.needsChild) return;
    this.lastFeedAt = this.now();
    if (!this.child && this.now() - this.failedAt >= RETRY_MS) this.spawn();
    const stdin = this.child?.stdin;
    if (stdin && !stdin.destroyed && stdin.writableLength < MAX_QUEUED) stdin.write(chunk);
  }

  /** CC error counter of the input (monotonic), sampled once a second by the supervisor. */
  sampleCc(count: number): void {
    if (!this.on.ccErrors) return;
    const now = this.now();
    this.cc.push({ at: now, count });
    const keep = now - this.on.ccErrors.windowMs - 1000;
    while (this.cc.length > 1 && this.cc[0]!.at < keep) this.cc.shift();
  }

  /** A new media epoch (another process, a switch): earlier pictures say nothing about the next ones. */
  reset(): void {
    this.since = { black: NaN, frozen: NaN, silence: NaN };
    this.latest = { black: NaN, frozen: NaN, silence: NaN };
    this.curPts = this.prevKeyPts = NaN;
    this.seenVideoAt = this.seenAudioAt = 0;
    this.cc = [];
    this.stop();
  }

  /** Stop the child when nothing was fed for a while (the input is neither active nor probed). */
  tick(): void {
    if (this.child && this.now() - this.lastFeedAt > IDLE_MS) this.reset();
  }

  /** The first condition that lasted its threshold, with why; null when the input is fine. */
  bad(): { reason: QualityReason; why: string } | null {
    const dur = (k: 'black' | 'frozen' | 'silence') => this.latest[k] - this.since[k]; // NaN when not present
    const check = (k: 'black' | 'frozen' | 'silence', ms: number | undefined, what: string) =>
      ms !== undefined && dur(k) >= ms ? { reason: k, why: `${what} for ${(dur(k) / 1000).toFixed(1)} s (failover_on ${k} ${ms / 1000} s)` } : null;
    const cc = this.ccBurst();
    return (
      check('black', this.on.blackMs, 'black picture') ??
      // a black picture is also a still one: report it as black only
      (Number.isNaN(this.since.black) ? check('frozen', this.on.frozenMs, 'frozen picture') : null) ??
      check('silence', this.on.silenceMs, 'silent audio') ??
      (cc !== null && this.on.ccErrors && cc >= this.on.ccErrors.count
        ? { reason: 'cc_errors' as const, why: `${cc} CC errors in ${this.on.ccErrors.windowMs / 1000} s (failover_on cc_errors ${this.on.ccErrors.count}/${this.on.ccErrors.windowMs / 1000}s)` }
        : null)
    );
  }

  /**
   * A condition is present now (any duration), or nothing was measured yet. A watch that cannot run
   * (its ffmpeg fails: no audio for `silence`, say) judges nothing: media flow alone decides then.
   */
  impaired(): boolean {
    const now = this.now();
    if (this.failedAt && !this.child) return this.ccImpaired();
    const fresh = (at: number) => at > 0 && now - at < 5000;
    if ((this.on.blackMs !== undefined || this.on.frozenMs !== undefined) && !fresh(this.seenVideoAt)) return true;
    if (this.on.silenceMs !== undefined && !fresh(this.seenAudioAt)) return true;
    const present = (k: 'black' | 'frozen' | 'silence') => !Number.isNaN(this.since[k]);
    if ((this.on.blackMs !== undefined && present('black')) || (this.on.frozenMs !== undefined && present('frozen')) || (this.on.silenceMs !== undefined && present('silence'))) return true;
    return this.ccImpaired();
  }

  private ccImpaired(): boolean {
    const cc = this.ccBurst();
    return cc !== null && !!this.on.ccErrors && cc >= this.on.ccErrors.count;
  }

  private ccBurst(): number | null {
    if (!this.on.ccErrors || this.cc.length < 2) return null;
    const last = this.cc.at(-1)!;
    const from = last.at - this.on.ccErrors.windowMs;
    const first = this.cc.find((s) => s.at >= from) ?? this.cc[0]!;
    return last.count - first.count;
  }

  stop(): void {
    const c = this.child;
    this.child = null;
    this.buf = '';
    if (c && c.exitCode === null) c.kill('SIGKILL');
  }

  private spawn(): void {
    const args = qualityWatchArgs({ video: this.on.blackMs !== undefined || this.on.frozenMs !== undefined, audio: this.on.silenceMs !== undefined });
    const child = spawn(this.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    this.startedChildren++;
    child.stdin!.on('error', () => undefined); // EPIPE when the child dies: its exit says why
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.onStderr(d));
    child.once('error', (e) => {
      this.lastError = `quality watch: cannot run ${this.ffmpeg}: ${e.message}`;
      this.failedAt = this.now();
      if (this.child === child) this.child = null;
    });
    child.once('exit', (code, sig) => {
      if (this.child === child) {
        this.child = null;
        if (code !== 0 && !sig) {
          this.failedAt = this.now();
          this.lastError = `quality watch: ${this.errLine ?? `ffmpeg exit ${code}`}`;
          this.log.warn({ code, err: this.lastError }, 'quality watch ended');
        }
      }
    });
  }

  private onStderr(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const pts = / pts_time:(-?[\d.]+)/.exec(line);
      if (pts) {
        this.curPts = Number(pts[1]) * 1000;
        continue;
      }
      const m = /lavfi\.(signalstats\.YAVG|signalstats\.YDIF|astats\.Overall\.RMS_level)=(\S+)/.exec(line);
      if (!m) {
        // kept for the exit: decoders also log errors while they work (a stream joined mid-GOP)
        if (/Error|error|Invalid|matches no streams/.test(line)) this.errLine = line.trim().slice(0, 200);
        continue;
      }
      const now = this.now();
      this.lastError = null; // values flow: the watch works
      this.failedAt = 0;
      const v = m[2] === '-inf' ? -Infinity : Number(m[2]);
      if (m[1] === 'signalstats.YAVG') {
        this.seenVideoAt = now;
        this.mark('black', v < BLACK_YAVG);
      } else if (m[1] === 'signalstats.YDIF') {
        this.seenVideoAt = now;
        // the picture has been still since the previous keyframe (the one this one equals)
        const prev = this.prevKeyPts;
        this.prevKeyPts = this.curPts;
        this.mark('frozen', v < FROZEN_YDIF, prev);
      } else {
        this.seenAudioAt = now;
        this.mark('silence', v < SILENCE_DB);
      }
    }
    if (this.buf.length > 8192) this.buf = '';
  }

  private mark(k: 'black' | 'frozen' | 'silence', present: boolean, startedAt = this.curPts): void {
    const t = this.curPts;
    if (!present || Number.isNaN(t)) {
      this.since[k] = this.latest[k] = NaN;
      return;
    }
    // a timestamp going back (wrap, new timeline) starts the count again
    if (Number.isNaN(this.since[k]) || t < this.latest[k]) this.since[k] = Number.isNaN(startedAt) || startedAt > t ? t : startedAt;
    this.latest[k] = t;
  }
}
