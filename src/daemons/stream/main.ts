/**
 * flux-stream: one supervisor process per stream (entry bin/flux-stream.js).
 * Reads the spec, writes the pid file, serves the status socket, runs the Supervisor; SIGTERM or
 * POST /stop = graceful stop (open segments closed, children stopped, pid/sock removed, exit 0).
 */
import { writeFileAtomic } from '../../core/atomic-write.js';
import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { createLogger, type Logger } from '../../core/logger.js';
import { HlsWriter } from './hls-writer.js';
import { MasterWriter } from './master-writer.js';
import { ControlServer } from './control.js';
import { capsFor, makeArgsBuilder } from './ffmpeg-args.js';
import { readSpec, runFiles, type SupervisorSpec } from './spec.js';
import { PushWorker } from './push.js';
import { Supervisor, redact, type PushLike, type SupervisorDeps, type WriterLike } from './supervisor.js';
import { createTsAnalyzer } from './monitor.js';
import { DvrRecorder } from '../../dvr/recorder.js';
import { StatusWatcher, StreamEventLog } from '../../events/stream-events.js';
import { RtmpIngest, processChannel } from './rtmp-ingest.js';

export interface StartOptions {
  specFile: string;
  /** override the socket path (default `<run>/streams/<f>.sock`) */
  socket?: string;
  /** override the pid file (default `<run>/streams/<f>.pid`) */
  pidFile?: string;
  /** log JSON lines to this file instead of stdout */
  logFile?: string;
  /** exit the process on stop (the daemon); false for in-process use */
  exitOnStop?: boolean;
}

export interface RunningSupervisor {
  supervisor: Supervisor;
  spec: SupervisorSpec;
  socket: string;
  pidFile: string;
  /** graceful stop; resolves when everything is closed */
  stop(reason?: string): Promise<void>;
  stopped: Promise<void>;
}

export async function supervisorDeps(spec: SupervisorSpec, log: Logger): Promise<SupervisorDeps> {
  const s = spec.stream;
  // one master playlist per root live output goes to (the stream root, or the fallback while it is unwritable)
  const masters = new Map<string, MasterWriter>();
  const masterAt = (root: string): MasterWriter => {
    let m = masters.get(root);
    if (!m) masters.set(root, (m = new MasterWriter({ root, renditions: s.renditions, logger: log })));
    return m;
  };
  let caps;
  try {
    caps = await capsFor(s, spec.ffmpeg);
  } catch (err) {
    // no caps: arguments are built unchecked; ffmpeg itself will tell what is missing
    log.warn({ err }, 'ffmpeg capability detection failed');
  }
  let dvr: DvrRecorder | undefined;
  if (s.dvr) {
    dvr = await DvrRecorder.forStream(s, { logger: log.child({ dvr: true }) });
    dvr.startRetentionJob();
  }
  return {
    dvr,
    ffmpegPath: spec.ffmpeg,
    buildPipelineArgs: makeArgsBuilder(caps, (w) => log.warn({ warning: w }, 'ffmpeg pipeline')),
    openWriter: (o) => HlsWriter.open(s.hls.container === 'fmp4' ? { ...o, container: 'fmp4', lowLatency: s.hls.lowLatency } : o),
    onWritersUpdated: async (writers, root) => {
      const master = masterAt(root);
      for (const w of writers) await master.updateFrom(w.writer as unknown as HlsWriter);
    },
    makeAnalyzer: createTsAnalyzer,
    createPush: (stream, i) => pushAdapter(new PushWorker({ target: stream.push[i]!, ffmpeg: spec.ffmpeg, logger: log })),
    logger: log,
  };
}

/** The push worker (src/daemons/stream/push.ts) as the supervisor drives it. */
function pushAdapter(w: PushWorker): PushLike {
  w.start();
  return {
    write: (chunk) => w.write(chunk),
    stop: () => w.stop(),
    status: () => {
      const s = w.status;
      return { url: redact(s.url), state: s.state, bytes: s.bytes, errors: s.errors, lastError: s.lastError, restarts: s.restarts, dropped: s.dropped, outBytes: s.outBytes };
    },
  };
}

export async function startSupervisor(opts: StartOptions): Promise<RunningSupervisor> {
  const spec = await readSpec(opts.specFile);
  const files = runFiles(spec.server.runDir, spec.stream.name);
  const socket = opts.socket ?? files.sock;
  const pidFile = opts.pidFile ?? files.pid;
  const log = createLogger({ name: 'flux-stream', level: process.env.FLUX_LOG_LEVEL ?? spec.server.logLevel, file: opts.logFile }).child({ stream: spec.stream.name });
  await mkdir(path.dirname(socket), { recursive: true, mode: 0o700 });
  await mkdir(path.dirname(pidFile), { recursive: true, mode: 0o700 });

  const deps = await supervisorDeps(spec, log);
  const events = new StreamEventLog(spec.stream.name);
  const watcher = new StatusWatcher(events);
  deps.onEvent = (e) => watcher.lifecycle(e);
  const supervisor = new Supervisor({ stream: spec.stream, server: spec.server, specHash: spec.specHash }, deps);
  // status transitions (source ready/lost, push, DVR) become events once a second
  const watch = setInterval(() => watcher.observe(supervisor.status()), 1000);
  watch.unref();
  let stopping: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const stop = (reason = 'stop'): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, 'stopping');
      const t0 = Date.now();
      clearInterval(watch);
      await supervisor.stop(reason).catch((err: unknown) => log.error({ err }, 'supervisor stop failed'));
      // let the agent's pending event poll carry stream_stopped before the socket goes
      events.close();
      await new Promise((r) => setTimeout(r, 100));
      await control.close().catch(() => {});
      await unlink(pidFile).catch(() => {});
      log.info({ ms: Date.now() - t0 }, 'stopped');
      resolveStopped();
    })();
    return stopping;
  };
  const control = new ControlServer({ socketPath: socket, supervisor, events, onStop: () => void stop('api') });
  await control.listen();
  // RTMP sockets handed over by the node agent (its IPC channel; none when started by hand)
  const channel = processChannel();
  if (channel) {
    const acceptsPublish = () => spec.stream.inputs.some((i) => i.scheme === 'publish');
    const publishInput = spec.stream.inputs.find((i) => i.scheme === 'publish');
    new RtmpIngest(supervisor.publishHub, channel, log.child({ part: 'rtmp' }), acceptsPublish, () => supervisor.batchPauseMs(publishInput)).start();
  }
  await writeFileAtomic(pidFile, `${process.pid}\n`, { fsync: false });
  try {
    await supervisor.start();
  } catch (err) {
    log.error({ err }, 'supervisor start failed');
    await stop('start failed');
    throw err;
  }
  log.info({ socket, pid: process.pid, inputs: spec.stream.inputs.length, renditions: spec.stream.renditions, specHash: spec.specHash }, 'supervisor started');
  return { supervisor, spec, socket, pidFile, stop, stopped };
}

/** The daemon: start, wire signals, exit 0 after a graceful stop. */
export async function runDaemon(opts: StartOptions): Promise<void> {
  let running: RunningSupervisor;
  try {
    running = await startSupervisor(opts);
  } catch (err) {
    process.stderr.write(`flux-stream: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const onSignal = (sig: string) => void running.stop(sig);
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGHUP', () => {});
  // the node agent's death must not take us down: its end of our stdio may go away
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  process.on('unhandledRejection', (err) => {
    running.supervisor.logError('unhandled rejection', err);
  });
  process.on('uncaughtException', (err) => {
    process.stderr.write(`flux-stream: uncaught: ${err.stack ?? err.message}\n`);
    void running.stop('crash').finally(() => process.exit(1));
  });
  await running.stopped;
  // let pino flush
  setTimeout(() => process.exit(0), 50).unref();
}

export type { WriterLike };
