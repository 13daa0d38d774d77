/**
 * Push worker: restreams one rendition's MPEG-TS to a target (rtmp/rtmps/srt/udp/file) through
 * `ffmpeg -c copy` (no re-encode; arguments from src/ffmpeg buildPushArgs).
 *
 * - Every ffmpeg starts at a keyframe: the worker keeps the latest PAT/PMT and opens the gate at a
 *   video PES that starts a random-access point (adaptation-field random_access_indicator, or an
 *   H.264 IDR/SPS, H.265 IRAP/VPS/SPS, MPEG-2 sequence header in its first packet), sending PAT+PMT first.
 * - write() never stalls the stream: when ffmpeg is not there or does not keep up (more than
 *   maxBufferedBytes queued on its stdin) the TS is dropped and the gate waits for the next keyframe.
 * - ffmpeg exits (target dropped, refused, network error) → 'retrying', restarted after a capped
 *   exponential backoff (target.retryDelayMs doubling up to 30 s; reset after 30 s healthy).
 * - 'running' once ffmpeg reports output bytes on its -progress channel (the target accepted data);
 *   lastError then clears (the status shows the current problem; the log keeps the past ones).
 */
import { Backoff } from '../../core/backoff.js';
import { Child } from '../../core/child.js';
import type { Logger } from 'pino';
import type { ResolvedPush } from '../../config/model.js';
import { buildPushArgs } from '../../ffmpeg/args.js';
import { silentLogger } from '../../core/logger.js';

export type PushState = 'connecting' | 'running' | 'retrying' | 'stopped';

export interface PushWorkerStatus {
  url: string;
  state: PushState;
  /**
   * Bytes delivered to the target (ffmpeg's -progress total_size, all runs): it does not rise
   * while the target is down, when ffmpeg still reads (and buffers) what it is handed.
   */
  bytes: number;
  /** TS bytes handed to ffmpeg (all runs) */
  fedBytes: number;
  /** ffmpeg runs that ended on their own (plus spawn failures) */
  errors: number;
  lastError: string | null;
  /** ffmpeg respawns after the first start */
  restarts: number;
  /** TS bytes dropped (no ffmpeg, waiting for a keyframe after a start, or ffmpeg too slow) */
  dropped: number;
  /** bytes ffmpeg wrote to the target (sum of its -progress total_size over runs) */
  outBytes: number;
}

export interface PushWorkerOptions {
  target: ResolvedPush;
  /** ffmpeg binary path */
  ffmpeg: string;
  logger?: Logger;
  /** queued bytes on ffmpeg's stdin beyond which write() drops (default 4 MiB) */
  maxBufferedBytes?: number;
  /** backoff cap (default 30 s) */
  maxRetryDelayMs?: number;
  /** a run this long resets the backoff (default 30 s) */
  healthyResetMs?: number;
  /** SIGTERM → SIGKILL grace on stop (default 2 s) */
  killGraceMs?: number;
}

// ---------------------------------------------------------------------------------------------
// TS start gate (pure; unit-tested)

const TS = 188;
const VIDEO_TYPES = new Set([0x01, 0x02, 0x10, 0x1b, 0x24, 0x42, 0xd1, 0xea]);

/** Tracks PAT/PMT and decides where a new output may start (PAT + PMT + a keyframe PES). */
export class TsStartGate {
  open = false;
  private carry = Buffer.alloc(TS);
  private carryLen = 0;
  private pat: Buffer | null = null;
  private pmt: Buffer | null = null;
  private pmtPid = -1;
  private videoPid = -1;
  private videoType = 0;
  private esPids: number[] = [];
  private pmtSeen = false;

  /** Close the gate: the next output starts again at PAT+PMT+keyframe. */
  reset(): void {
    this.open = false;
  }

  get info(): { pmtPid: number; videoPid: number; videoType: number; esPids: number[] } {
    return { pmtPid: this.pmtPid, videoPid: this.videoPid, videoType: this.videoType, esPids: [...this.esPids] };
  }

  /**
   * Feed TS bytes (any chunking). Returns the buffers to forward (whole packets; subarrays of the
   * chunk where possible). `allowOpen=false` only tracks PSI (no output can start now).
   */
  push(chunk: Buffer, allowOpen = true): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    if (this.carryLen) {
      const need = TS - this.carryLen;
      if (chunk.length < need) {
        chunk.copy(this.carry, this.carryLen);
        this.carryLen += chunk.length;
        return out;
      }
      chunk.copy(this.carry, this.carryLen, 0, need);
      this.carryLen = 0;
      off = need;
      if (this.carry[0] === 0x47) {
        const pkt = Buffer.from(this.carry); // one 188-byte copy per chunk at most
        const wasOpen = this.open;
        if (this.packet(pkt, allowOpen)) {
          if (!wasOpen) this.pushPsi(out);
          out.push(pkt);
        }
      }
    }
    let runStart = -1;
    while (off + TS <= chunk.length) {
      if (chunk[off] !== 0x47) {
        if (runStart >= 0) out.push(chunk.subarray(runStart, off));
        runStart = -1;
        off = resync(chunk, off + 1);
        continue;
      }
      const pkt = chunk.subarray(off, off + TS);
      const wasOpen = this.open;
      const fwd = this.packet(pkt, allowOpen);
      if (fwd) {
        if (!wasOpen) {
          // the gate just opened on this packet: PSI first
          if (runStart >= 0) out.push(chunk.subarray(runStart, off));
          this.pushPsi(out);
          runStart = off;
        } else if (runStart < 0) runStart = off;
      } else if (runStart >= 0) {
        out.push(chunk.subarray(runStart, off));
        runStart = -1;
      }
      off += TS;
    }
    if (runStart >= 0) out.push(chunk.subarray(runStart, off));
    if (off < chunk.length) {
      chunk.copy(this.carry, 0, off);
      this.carryLen = chunk.length - off;
    }
    return out;
  }

  private pushPsi(out: Buffer[]): void {
    if (this.pat) out.push(this.pat);
    if (this.pmt) out.push(this.pmt);
  }

  /** Inspect one packet; true when it is to be forwarded. */
  private packet(p: Buffer, allowOpen: boolean): boolean {
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const pusi = (p[1]! & 0x40) !== 0;
    const afc = (p[3]! >> 4) & 3;
    let payload = 4;
    if (afc & 2) payload = 5 + p[4]!;
    const hasPayload = (afc & 1) !== 0 && payload < TS;
    if (pid === 0 && pusi && hasPayload) this.parsePat(p, payload);
    else if (pid === this.pmtPid && pusi && hasPayload) this.parsePmt(p, payload);
    if (this.open) return true;
    if (!allowOpen || !this.pmtSeen || !this.pat || !this.pmt) return false;
    if (this.videoPid >= 0) {
      if (pid !== this.videoPid || !pusi) return false;
      const rai = (afc & 2) !== 0 && p[4]! > 0 && (p[5]! & 0x40) !== 0;
      if (!rai && !(hasPayload && this.keyframeInPes(p, payload))) return false;
    } else if (!this.esPids.includes(pid) || !pusi) return false;
    this.open = true;
    return true;
  }

  private parsePat(p: Buffer, payload: number): void {
    const start = payload + 1 + p[payload]!;
    if (start + 8 > TS || p[start] !== 0x00) return;
    const secLen = ((p[start + 1]! & 0x0f) << 8) | p[start + 2]!;
    const end = Math.min(start + 3 + secLen - 4, TS);
    for (let i = start + 8; i + 4 <= end; i += 4) {
      const prog = (p[i]! << 8) | p[i + 1]!;
      if (prog === 0) continue;
      const pid = ((p[i + 2]! & 0x1f) << 8) | p[i + 3]!;
      if (pid !== this.pmtPid) {
        this.pmtPid = pid;
        this.pmtSeen = false;
        this.pmt = null;
      }
      break;
    }
    if (!this.pat || !this.pat.equals(p)) this.pat = Buffer.from(p);
  }

  private parsePmt(p: Buffer, payload: number): void {
    const start = payload + 1 + p[payload]!;
    if (start + 12 > TS || p[start] !== 0x02) return;
    const secLen = ((p[start + 1]! & 0x0f) << 8) | p[start + 2]!;
    const end = Math.min(start + 3 + secLen - 4, TS);
    const progInfoLen = ((p[start + 10]! & 0x0f) << 8) | p[start + 11]!;
    let videoPid = -1;
    let videoType = 0;
    const es: number[] = [];
    for (let i = start + 12 + progInfoLen; i + 5 <= end; ) {
      const type = p[i]!;
      const pid = ((p[i + 1]! & 0x1f) << 8) | p[i + 2]!;
      const infoLen = ((p[i + 3]! & 0x0f) << 8) | p[i + 4]!;
      es.push(pid);
      if (videoPid < 0 && VIDEO_TYPES.has(type)) {
        videoPid = pid;
        videoType = type;
      }
      i += 5 + infoLen;
    }
    this.videoPid = videoPid;
    this.videoType = videoType;
    this.esPids = es;
    this.pmtSeen = true;
    if (!this.pmt || !this.pmt.equals(p)) this.pmt = Buffer.from(p);
  }

  /** A random-access access unit starts in this packet's PES payload. */
  private keyframeInPes(p: Buffer, payload: number): boolean {
    if (payload + 9 > TS || p[payload] !== 0 || p[payload + 1] !== 0 || p[payload + 2] !== 1) return false;
    let i = payload + 9 + p[payload + 8]!;
    const hevc = this.videoType === 0x24;
    const mpeg2 = this.videoType === 0x01 || this.videoType === 0x02;
    for (; i + 3 < TS; i++) {
      if (p[i] !== 0 || p[i + 1] !== 0 || p[i + 2] !== 1) continue;
      const b = p[i + 3]!;
      if (mpeg2) {
        if (b === 0xb3) return true;
      } else if (hevc) {
        const t = (b >> 1) & 0x3f;
        if ((t >= 16 && t <= 21) || t === 32 || t === 33) return true;
      } else {
        const t = b & 0x1f;
        if (t === 5 || t === 7) return true;
        if (t === 1) return false; // a non-IDR slice came first
      }
      i += 3;
    }
    return false;
  }
}

/** The push URL as status, logs, events and metrics show it: an SRT passphrase (or a password) is masked. */
export function redactPushUrl(url: string): string {
  return url.replace(/([?&]passphrase=)[^&]*/gi, '$1***').replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@?#:]*:)[^/@?#]*@/i, '$1***@');
}

function resync(b: Buffer, from: number): number {
  for (let i = from; i + TS <= b.length; i++) {
    if (b[i] === 0x47 && (i + TS >= b.length || b[i + TS] === 0x47)) return i;
  }
  return b.length - ((b.length - from) % TS);
}

// ---------------------------------------------------------------------------------------------

/** stderr lines kept for the error message */
const STDERR_TAIL_LINES = 20;

export class PushWorker {
  private readonly target: ResolvedPush;
  private readonly ffmpeg: string;
  private readonly log: Logger;
  private readonly maxBuffered: number;
  private readonly backoff: Backoff;
  private readonly killGraceMs: number;
  private readonly gate = new TsStartGate();
  private child: Child | null = null;
  private childStartedAt = 0;
  private childOut = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping = false;
  private stderrTail: string[] = [];
  private st: PushWorkerStatus;

  constructor(opts: PushWorkerOptions) {
    this.target = opts.target;
    this.ffmpeg = opts.ffmpeg;
    const shown = redactPushUrl(opts.target.url);
    this.log = (opts.logger ?? silentLogger).child({ push: shown });
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.backoff = new Backoff({ initialMs: opts.target.retryDelayMs, maxMs: opts.maxRetryDelayMs ?? 30_000, resetAfterMs: opts.healthyResetMs ?? 30_000 });
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.st = { url: shown, state: 'stopped', bytes: 0, fedBytes: 0, errors: 0, lastError: null, restarts: 0, dropped: 0, outBytes: 0 };
  }

  get status(): Readonly<PushWorkerStatus> {
    const delivered = this.st.outBytes + this.childOut;
    return { ...this.st, bytes: delivered, outBytes: delivered };
  }

  /** Start pushing (once; a stopped worker stays stopped — make a new one to push again). */
  start(): void {
    if (this.started || this.stopping || this.target.disabled) return;
    this.started = true;
    this.spawnChild();
  }

  /** Feed TS (any chunking). Never blocks: drops while ffmpeg is absent, not yet at a keyframe, or too slow. */
  write(chunk: Buffer): void {
    if (!this.started || this.stopping) return;
    const stdin = this.child?.stdin;
    const writable = !!stdin && stdin.writable && !stdin.destroyed;
    const bufs = this.gate.push(chunk, writable);
    if (!writable || !bufs.length) {
      this.st.dropped += chunk.length;
      return;
    }
    let sent = 0;
    for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i]!;
      if (stdin.writableLength + b.length > this.maxBuffered) {
        // ffmpeg (or the target behind it) is too slow: drop, and restart the output at the next keyframe
        this.gate.reset();
        this.log.warn({ queued: stdin.writableLength }, 'push target too slow: dropping until the next keyframe');
        break;
      }
      stdin.write(b);
      sent += b.length;
    }
    this.st.fedBytes += sent;
    // approximate: PAT/PMT repeated at a gate opening count as sent
    if (sent < chunk.length) this.st.dropped += chunk.length - sent;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const child = this.child;
    if (child && child.running) {
      // stdin EOF first: ffmpeg flushes and closes the connection cleanly; signals only if it lingers
      // (onExit, chained on `exited` at spawn, has run when this resolves)
      await child.stop({ termAfterMs: this.killGraceMs, killAfterMs: this.killGraceMs });
    }
    this.child = null;
    this.st.state = 'stopped';
  }

  private spawnChild(): void {
    const args = buildPushArgs(this.target);
    this.st.state = 'connecting';
    this.gate.reset();
    this.stderrTail = [];
    this.childOut = 0;
    this.childStartedAt = Date.now();
    const child: Child = new Child(this.ffmpeg, args, {
      stdin: true,
      stdout: true,
      // the tail is kept as lines below (progress lines filtered at exit)
      stderrTail: 0,
      onStderr: (chunk) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          const l = line.trim();
          if (!l) continue;
          this.stderrTail.push(l);
          if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        }
      },
    });
    this.child = child;
    if (child.pid !== undefined) this.log.info({ pid: child.pid, args: args.map(redactPushUrl) }, 'push ffmpeg started');
    void child.exited.then((e) => this.onExit(e.code, e.signal, e.spawnError?.message ?? null, child));
    let progressBuf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => {
      progressBuf += s;
      let nl: number;
      while ((nl = progressBuf.indexOf('\n')) >= 0) {
        const line = progressBuf.slice(0, nl).trim();
        progressBuf = progressBuf.slice(nl + 1);
        const m = /^total_size=(\d+)/.exec(line);
        if (m && child === this.child) {
          this.childOut = Number(m[1]);
          if (this.childOut > 0 && this.st.state === 'connecting') {
            this.st.state = 'running';
            this.st.lastError = null;
            this.log.info('push running');
          }
        }
      }
    });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, spawnError: string | null, child?: Child): void {
    if (child && child !== this.child) return;
    this.child = null;
    this.st.outBytes += this.childOut;
    this.childOut = 0;
    if (this.stopping || !this.started) return;
    const ranMs = Date.now() - this.childStartedAt;
    const why = spawnError ?? this.stderrTail.filter((l) => !/^\[?(frame|size)=/.test(l)).pop() ?? null;
    const exitDesc = signal ? `killed by ${signal}` : `exited with code ${code}`;
    this.st.errors++;
    this.st.lastError = why ? `ffmpeg ${exitDesc}: ${redactPushUrl(why)}` : `ffmpeg ${exitDesc}`;
    const delay = this.backoff.afterRun(ranMs);
    this.st.state = 'retrying';
    this.log.warn({ code, signal, ranMs, retryInMs: delay, err: this.st.lastError }, 'push ffmpeg exited');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopping || !this.started) return;
      this.st.restarts++;
      this.spawnChild();
    }, delay);
  }
}
