/**
 * The node agent: owns the config and the ports, runs one supervisor daemon per stream.
 *
 * Lifecycle: load + validate config → take `<run>/node.pid` (a second node on the same run dir is
 * refused; a stale pid file/socket of a crashed node is cleaned) → listen on HTTP, `<run>/node.sock`
 * (0600), RTMP, SRT → reconcile supervisors (adopting the ones a previous node left running with the
 * same spec) → watch the config file. `stop()` stops supervisors too (unless keepStreams); a crash or
 * kill -9 of the node leaves them running, to be re-adopted by the next node.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.js';
import { InputError, ConfigError, type ConfigIssue } from '../../core/errors.js';
import type { ResolvedConfig, ResolvedServer, ResolvedStream } from '../../config/model.js';
import type { ConfigInput, StreamInput } from '../../config/schema.js';
import { socketAnswers, socketRequest } from '../../protocol/socket-http.js';
import { ConfigSource } from './config-source.js';
import { SupervisorManager, type ReconcileResult, type SupervisorStatus, type SupervisorView } from './supervisors.js';
import type { ClusterStatusDoc, NodeInfoDoc } from '../../protocol/api.js';
import type { NodeApi } from './api.js';
import { BasicAuthenticator } from '../../auth/password.js';
import { Protection } from '../../auth/protection.js';
import type { SessionsApi } from './api.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpsListener, redirectToHttps } from '../../auth/https.js';
import { closeServer, createHttpHandler, tuneServer, createHttpServer, createSocketServer, listenSocket, listenTcp, type PlaybackFn, type RequestHandler } from './listeners.js';
import type { PlaybackWorkers, RoutesDoc, UsageReport } from './playback-workers.js';
import type { PlaybackRoute } from '../../protocol/playback-worker.js';
import { commandLine, isAlive, readPidFile, sleep, unlinkQuiet } from '../../protocol/proc.js';
import { resolveFfmpegInfo, type FfmpegInfo } from './ffmpeg-info.js';
import { startPublishListeners, type PublishListeners } from './publish.js';
import { judgeReload, keptApiUsers, STABLE_MS, SuspectConfigError, type Suspect } from './reload-guard.js';
import { Observability } from '../../events/observe.js';
import type { EventHub } from '../../events/hub.js';
import type { NodeCluster } from './cluster.js';
import { routeMpegts } from './mpegts-output.js';
import { CLUSTER_KEY_HEADER } from '../../protocol/cluster-key.js';
import { createWebrtcHandler, type WebrtcHandler } from '../../webrtc/index.js';

export interface AgentOptions {
  /** config file; undefined = the embedded demo */
  configFile?: string;
  logger: Logger;
  logFile?: string;
}

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let versionCache: string | undefined;
export async function packageVersion(): Promise<string> {
  if (versionCache) return versionCache;
  try {
    versionCache = (JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    versionCache = '0.0.0';
  }
  return versionCache;
}

export function nodePaths(runDir: string): { pid: string; sock: string } {
  return { pid: path.join(runDir, 'node.pid'), sock: path.join(runDir, 'node.sock') };
}

/** A node process (by its command line) — used to tell a live node from a reused pid. */
export function looksLikeNodeAgent(cmd: string | undefined): boolean {
  return cmd === undefined || /flux-node|daemons[\\/]node[\\/]main/.test(cmd);
}

export class NodeRunningError extends InputError {
  constructor(message: string) {
    super(message, { code: 'E_NODE_RUNNING' });
  }
}

/** Take the run dir's pid file; refuse when a live node holds it, clean it when its node is gone. */
export async function acquirePidFile(runDir: string, logger: Logger): Promise<void> {
  const { pid: pidFile, sock } = nodePaths(runDir);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fh = await open(pidFile, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = await readPidFile(pidFile);
    if (pid === undefined) {
      await sleep(150); // a starting node may be between open and write
      pid = await readPidFile(pidFile);
    }
    if (pid && pid !== process.pid && (await isAlive(pid)) && looksLikeNodeAgent(await commandLine(pid))) {
      throw new NodeRunningError(`a node is already running on run dir ${runDir} (pid ${pid}, socket ${sock}); stop it first with "flux node stop"`);
    }
    logger.warn({ pidFile, stalePid: pid ?? null }, 'removing the stale pid file and socket of a node that is gone');
    await unlinkQuiet(pidFile);
    if (!(await socketAnswers(sock, '/node', 500))) await unlinkQuiet(sock);
  }
  throw new NodeRunningError(`could not take ${pidFile}: another node keeps starting on ${runDir}`);
}

export class NodeAgent implements NodeApi {
  readonly logger: Logger;
  private source!: ConfigSource;
  private supervisors!: SupervisorManager;
  private auth = new BasicAuthenticator([]);
  private protection!: Protection;
  private httpServer: Server | undefined;
  private https: HttpsListener | undefined;
  private socketServer: Server | undefined;
  private publish: PublishListeners | undefined;
  private webrtc: WebrtcHandler | undefined;
  private playback: PlaybackFn | undefined;
  /** a stream as playback serves it (its live root followed: live-root.ts) */
  private liveStream: (name: string) => ResolvedStream | undefined = (name) => this.resolvedStream(name);
  /** the HTTP port's request handler (also run for what playback workers pass on) */
  private httpHandler: RequestHandler | undefined;
  /** server.http_workers > 0: the playback worker processes sharing the HTTP port */
  private workers: PlaybackWorkers | undefined;
  private watcher: { close(): Promise<void> } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private startedAt = Date.now();
  private ffmpeg!: FfmpegInfo;
  private server!: ResolvedServer;
  private stopping: Promise<void> | undefined;
  private ownsPid = false;
  private cluster: NodeCluster | undefined;
  /** ingest streams whose supervisor pid file existed at boot: adoptable while etcd is away */
  private bootAdoptable = new Set<string>();
  private reloads = { ok: 0, failed: 0, lastError: null as string | null, lastAt: null as number | null };
  /** a config without streams read last, waiting to be read the same again (reload-guard.ts) */
  private suspect: Suspect | undefined;
  private suspectTimer: NodeJS.Timeout | undefined;
  /** API users in force (a reload never removes them all: reload-guard.ts) */
  private apiUsers: ResolvedConfig['auth']['users'] = [];
  private observe: Observability | undefined;
  /** resolves when the node has stopped (after stop()) */
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  private constructor(private readonly opts: AgentOptions) {
    this.logger = opts.logger;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
  }

  get runDir(): string {
    return this.server.runDir;
  }

  get resolved(): ResolvedConfig {
    return this.source.current.resolved;
  }

  static async start(opts: AgentOptions): Promise<NodeAgent> {
    const agent = new NodeAgent(opts);
    try {
      await agent.boot();
    } catch (e) {
      await agent.teardown(false).catch(() => {});
      throw e;
    }
    return agent;
  }

  private async boot(): Promise<void> {
    const log = this.logger;
    this.source = this.opts.configFile ? await ConfigSource.fromFile(this.opts.configFile) : ConfigSource.demo();
    const cfg = this.source.current.resolved;
    this.server = cfg.server;
    if (!process.env.FLUX_LOG_LEVEL) this.logger.level = cfg.server.logLevel;
    await mkdir(cfg.server.runDir, { recursive: true, mode: 0o700 });
    await mkdir(cfg.server.dataDir, { recursive: true });
    await acquirePidFile(cfg.server.runDir, log);
    this.ownsPid = true;
    const { sock } = nodePaths(cfg.server.runDir);
    if (await socketAnswers(sock, '/node', 500)) {
      throw new NodeRunningError(`a node already answers on ${sock}; stop it first with "flux node stop"`);
    }
    this.apiUsers = cfg.auth.users;
    this.auth.setUsers(cfg.auth.users);
    this.protection = new Protection(log.child({ part: 'auth' }));
    this.protection.apply(cfg);
    await this.protection.prepare(cfg);
    this.ffmpeg = await resolveFfmpegInfo(cfg.server.ffmpeg);
    this.supervisors = new SupervisorManager({ runDir: cfg.server.runDir, logDir: cfg.server.logDir, server: cfg.server, ffmpeg: this.ffmpeg.path, logger: log });
    this.observe = new Observability({
      node: () => this.resolved.cluster?.nodeName ?? hostname(),
      logger: log,
      streamNames: () => Object.keys(this.resolved.streams),
      isStream: (name) => Object.prototype.hasOwnProperty.call(this.resolved.streams, name),
      supervisorNames: () => this.supervisors.names(),
      supervisor: (name) => this.supervisors.get(name),
      socketOf: (name) => this.supervisors.paths(name).sock,
      userAgent: `flux/${await packageVersion()}`,
      sessionCounts: () => this.protection.play.sessions.counts(),
      webrtc: () => this.webrtc?.stats() ?? [],
      httpWorkers: () => {
        const w = this.workers;
        return w && w.count > 0 ? { workers: w.count, ready: w.readyCount(), ...w.totals } : undefined;
      },
    });
    // one session table (auth/sessions.ts) serves protection, the sessions API, events and metrics
    const observe = this.observe;
    this.protection.play.sessions.listener = {
      opened: (s) => observe.sessionOpened(s),
      closed: (s, why) => {
        observe.sessionClosed(s, why);
        // a killed viewer's next request must reach the gate, not a playback worker
        if (why === 'killed') this.workers?.sync();
      },
    };

    try {
      const protection = this.protection;
      const mod = await import('./playback.js');
      const { withLiveRoot } = await import('./live-root.js');
      // live output may have moved off an unwritable DVR root (the supervisor says where)
      this.liveStream = (name) => withLiveRoot(this.resolved.streams[name] ?? this.cluster?.sharedStream(name), this.supervisors.get(name)?.status?.liveRoot, this.server.dataDir);
      this.playback = mod.createPlaybackHandler({
        getStream: (name) => this.liveStream(name),
        watchPlaylists: true,
        listStreams: () => [...new Set([...Object.keys(this.resolved.streams), ...(this.cluster?.sharedNames() ?? [])])],
        dvr: await loadDvrHandler(),
        webrtc: (this.webrtc = createWebrtcHandler({
          config: () => this.resolved.webrtc,
          socketOf: (name) => (this.supervisors.get(name) ? this.supervisors.paths(name).sock : undefined),
          ffmpeg: () => this.ffmpeg.path,
          maxSessions: () => this.resolved.webrtc.maxSessions,
          iceTimeoutMs: () => this.resolved.webrtc.iceTimeoutMs,
          publishBackend: (stream, o) => this.protection.authorizePublish(stream, { proto: 'webrtc', ...o }),
          // a WHEP viewer's play session lives while its peer is connected; killing it hangs up
          playSessions: {
            intervalMs: () => protection.play.sessions.keepaliveMs,
            touch: (id) => protection.play.sessions.touch(id, Date.now()),
            watch: (id, fn) => protection.play.sessions.watch(id, fn),
          },
          logger: log,
        })),
        logger: log.child({ part: 'playback' }),
        authorize: (req, stream, query, proto) => this.protection.authorizePlay(req, stream, query, proto),
        get encryption() {
          return protection.encryption;
        },
        ffmpeg: () => this.resolved.server.ffmpeg,
      });
    } catch (e) {
      log.error({ err: (e as Error).message }, 'playback handler unavailable');
    }
    {
      // vod: locations answer /vod/… before live playback
      const { createVodHandler } = await import('./vod-http.js');
      const vod = createVodHandler({ location: (n) => this.resolved.vod?.[n], ffmpeg: () => this.ffmpeg.path, logger: log.child({ part: 'vod' }) });
      const live = this.playback;
      // VOD files are not streams: of the play protection, the node-wide address rules apply to them
      const vodAllowed = (req: IncomingMessage, res: ServerResponse): boolean => {
        if (!(req.url ?? '').startsWith('/vod/')) return true;
        const refused = this.protection.play.checkNodeAddress(req.socket.remoteAddress);
        if (refused === undefined) return true;
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(refused + '\n');
        return false;
      };
      this.playback = async (req, res) => (!vodAllowed(req, res) || (await vod(req, res))) || (live ? live(req, res) : false);
    }

    const httpOpts = { node: this, auth: this.auth, logger: log, playback: () => this.servePlayback, checkApi: (req: IncomingMessage) => this.protection.checkApi(req) };
    const handler = createHttpHandler(httpOpts);
    this.httpHandler = handler;
    const tls = cfg.server.https;
    if (tls?.httpMode !== 'off') {
      this.httpServer = createHttpServer(httpOpts, tls?.httpMode === 'redirect' ? redirectToHttps(tls.port) : handler);
      try {
        await listenTcp(this.httpServer, cfg.server.http, cfg.server.host);
      } catch (e) {
        throw new InputError(`cannot listen on HTTP ${cfg.server.host}:${cfg.server.http}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, code: 'E_LISTEN' });
      }
    }
    if (tls) {
      this.https = new HttpsListener({ host: cfg.server.host, port: tls.port, cert: tls.cert, key: tls.key, handler, logger: log, tune: tuneServer });
      await this.https.start();
    }
    this.socketServer = createSocketServer(this, log);
    await listenSocket(this.socketServer, sock);
    await this.configureWorkers(cfg.server.httpWorkers);
    this.publish = await startPublishListeners({
      server: cfg.server,
      getStream: (name) => this.resolved.streams[name] ?? this.cluster?.sharedStream(name),
      ingestSocket: (name) => (this.supervisors.get(name) ? this.supervisors.paths(name).sock : undefined),
      supervisorChannel: (name) => this.supervisors.channel(name),
      ffmpeg: () => this.ffmpeg.path,
      logger: log,
      publishBackend: (stream, o) => this.protection.authorizePublish(stream, o),
      watchPublisher: (stream, kick) => this.protection.watchPublisher(stream, kick),
    });

    this.observe.start(cfg.events.sinks);
    await this.startCluster(cfg, true);
    // serialized with the reconciles a cluster snapshot may have queued meanwhile
    const { changes, orphans } = await this.serial(async () => {
      const desired = this.desiredStreams(cfg);
      const changes = await this.supervisors.reconcile(desired);
      this.bootAdoptable.clear();
      // in a cluster whose etcd has not answered yet, shared streams are unknown: their supervisors
      // are not orphans; they are sorted out with the first snapshot (reconcile(first) below)
      const orphans = this.cluster && !this.cluster.member.snapshot ? [] : await this.supervisors.stopOrphans(desired);
      return { changes, orphans };
    });
    this.supervisors.startPolling();
    this.workers?.sync();
    log.info({ ...changes, orphansStopped: orphans, startupMs: Math.round(performance.now()), http: `${cfg.server.host}:${cfg.server.http}`, socket: sock, config: this.source.file ?? '(demo)' }, 'node started');
    if (this.source.file) await this.watch(this.source.file);
  }

  private async watch(file: string): Promise<void> {
    const { watch } = await import('chokidar');
    const w = watch(file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 }, atomic: true });
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        this.reload().catch(() => {});
      }, 50);
    };
    w.on('change', schedule).on('add', schedule);
    w.on('error', (err) => this.logger.error({ err: String(err) }, 'config watcher error'));
    await new Promise<void>((r) => w.once('ready', () => r()));
    this.watcher = w;
  }

  /** Serialize config changes (API edits, file reloads). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => {}).then(fn);
    this.queue = run;
    return run;
  }

  private async apply(cfg: ResolvedConfig): Promise<ReconcileResult> {
    const prev = this.server;
    for (const key of ['http', 'host', 'rtmp', 'srt', 'runDir', 'https'] as const) {
      if (JSON.stringify(prev[key]) !== JSON.stringify(cfg.server[key])) {
        this.logger.warn({ key, running: prev[key], configured: cfg.server[key] }, `server.${key} changed: restart the node to apply it`);
      }
    }
    // keep listeners and run dir of the running node; take the rest
    this.server = { ...cfg.server, http: prev.http, host: prev.host, rtmp: prev.rtmp, srt: prev.srt, runDir: prev.runDir, https: prev.https };
    const api = keptApiUsers(this.apiUsers, cfg.auth.users);
    if (api.kept) this.logger.warn({ users: api.users.length }, 'auth.users is gone from the config: the running node keeps its API users (restart the node to turn API auth off)');
    this.apiUsers = api.users;
    this.auth.setUsers(api.users);
    this.protection.apply(cfg);
    // a stream that became protected leaves the workers' table now, not after the reconcile
    this.workers?.sync();
    await this.protection.prepare({ ...cfg, server: this.server });
    if (cfg.server.ffmpeg !== prev.ffmpeg) this.ffmpeg = await resolveFfmpegInfo(cfg.server.ffmpeg);
    this.supervisors.setServer(this.server, this.ffmpeg.path);
    this.observe?.configure(cfg.events.sinks);
    if (JSON.stringify(cfg.cluster ?? null) !== JSON.stringify(this.cluster?.settingsSource ?? null)) {
      await this.cluster?.stop({ revoke: true });
      this.cluster = undefined;
      await this.startCluster(cfg, false);
    }
    const changes = await this.supervisors.reconcile(this.desiredStreams(cfg));
    await this.configureWorkers(this.server.httpWorkers);
    this.workers?.sync();
    this.logger.info(changes, 'config applied');
    return changes;
  }

  /**
   * server.http_workers: start, resize or stop the playback workers. They share the plain HTTP
   * listener, so there are none when it is off or only redirects to HTTPS.
   */
  private async configureWorkers(count: number): Promise<void> {
    const listener = this.httpServer;
    const tls = this.server.https;
    if (count > 0 && (!listener || !this.httpHandler || tls?.httpMode === 'redirect')) {
      if (!this.workers) this.logger.warn({ http_workers: count }, 'server.http_workers needs plain HTTP served on server.http (https.http_mode: serve): no playback workers');
      return;
    }
    if (this.workers) {
      this.workers.resize(count);
      return;
    }
    if (count === 0) return;
    const { PlaybackWorkers } = await import('./playback-workers.js');
    const workers = new PlaybackWorkers({
      listener: listener!,
      socketPath: path.join(this.server.runDir, 'playback.sock'),
      handler: this.httpHandler!,
      logger: this.logger,
      logLevel: () => this.logger.level,
      routes: () => this.playbackRoutes(),
      onUsage: (u) => this.workerUsage(u),
    });
    this.workers = workers;
    await workers.start(count);
    this.logger.info({ http_workers: count }, 'playback workers started');
  }

  /**
   * What playback workers may serve themselves: streams running here (in a cluster, only those this
   * node runs: the rest are redirected by the agent), enabled, with no play protection of any kind
   * (PlayGate.isUnguarded: no address rules, tokens, signed links, backends or session caps) and no
   * HLS encryption. Anything in doubt stays with the agent.
   */
  private playbackRoutes(): RoutesDoc {
    const names = [...new Set([...Object.keys(this.resolved.streams), ...(this.cluster?.sharedNames() ?? [])])];
    const routes: PlaybackRoute[] = [];
    for (const name of names) {
      const s0 = this.resolvedStream(name);
      if (!s0 || s0.disabled || s0.hls.encrypt || !this.supervisors.get(name) || !this.protection.play.isUnguarded(s0)) continue;
      const s = this.liveStream(name) ?? s0;
      const h = s.hls;
      const r: PlaybackRoute = { name, root: s.root, renditions: s.renditions, hls: { segmentDurationMs: h.segmentDurationMs, window: h.window } };
      if (h.container !== undefined) r.hls.container = h.container;
      if (h.lowLatency !== undefined) r.hls.lowLatency = h.lowLatency;
      if (s.title !== undefined) r.title = s.title;
      if (s.protocols !== undefined) r.protocols = s.protocols;
      routes.push(r);
    }
    return { routes, names, killed: this.protection.play.killedViewers(), meter: this.cluster !== undefined };
  }

  /** A worker's report: its viewers into the play sessions, its bytes into the cluster's load meter. */
  private workerUsage(u: UsageReport): void {
    const viewers: Parameters<Protection['play']['recordViewers']>[0][number][] = [];
    for (const [name, ip, userAgent, referer, proto, requests] of u.viewers) {
      const stream = this.resolvedStream(name);
      if (stream) viewers.push({ stream, ip, userAgent, referer, proto, requests });
    }
    if (viewers.length) this.protection.play.recordViewers(viewers);
    const c = this.cluster;
    if (c) for (const [ip, n] of u.bytes) c.meter.record(ip, n);
  }

  /** Cluster routes (redirect, balancer) first, then local playback; playback load is metered. */
  private servePlayback: PlaybackFn = async (req, res) => {
    const c = this.cluster;
    if (c) {
      const ip = req.socket.remoteAddress ?? '';
      // bytes this response put on the socket (keep-alive requests on a socket are sequential)
      const sock = req.socket;
      const before = sock.bytesWritten;
      res.once('finish', () => c.meter.record(ip, sock.bytesWritten - before));
      if (c.handle(req, res)) return true;
    }
    const mpegts = await routeMpegts(req, res, (n) => this.resolvedStream(n), {
      logger: this.logger,
      allow: (rq, rs, stream) => this.allowMpegts(rq, rs, stream),
      onBytes: c && ((n) => c.meter.record(req.socket.remoteAddress ?? '', n)),
    });
    if (mpegts) return true;
    return this.playback ? this.playback(req, res) : false;
  };

  /**
   * /<stream>/mpegts is playback like any other: the protocols allow list and play authorization
   * apply, except to a peer node that proves the cluster key (an edge pulling its origin).
   */
  private async allowMpegts(req: IncomingMessage, res: ServerResponse, stream: ResolvedStream): Promise<boolean> {
    const refuse = (status: number, text: string): false => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text + '\n');
      return false;
    };
    if (stream.protocols && !stream.protocols.includes('mpegts')) return refuse(404, `stream ${stream.name} is not served over mpegts (protocols)`);
    if (this.cluster && req.headers[CLUSTER_KEY_HEADER] !== undefined) return this.cluster.checkPeerKey(req, res);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const v = await this.protection.authorizePlay(req, stream, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), 'mpegts');
    return v.ok ? true : refuse(v.status, v.reason);
  }

  private desiredStreams(cfg: ResolvedConfig): Record<string, ResolvedStream> {
    if (this.cluster) return this.cluster.desired();
    // peer:// inputs mean "the stream of that cluster node": nothing to pull from outside a cluster
    const out = enabledStreams(cfg);
    for (const [n, s] of Object.entries(out)) {
      if (s.inputs.some((i) => i.scheme === 'peer')) {
        this.logger.error({ stream: n }, 'stream not started: its peer:// input needs a cluster (cluster: section, see "flux cluster join")');
        delete out[n];
      }
    }
    return out;
  }

  /** Join the cluster of the config's cluster: section (none: nothing). At boot a taken name fails the start. */
  private async startCluster(cfg: ResolvedConfig, atBoot: boolean): Promise<void> {
    const cc = cfg.cluster;
    if (!cc) return;
    const host = displayHost(this.server.host);
    if (atBoot) {
      for (const s of Object.values(cfg.streams)) {
        if (s.cluster?.ingest && (await readPidFile(this.supervisors.paths(s.name).pid)) !== undefined) this.bootAdoptable.add(s.name);
      }
    }
    // loaded only in a cluster: the etcd client (gRPC) costs memory and start-up time
    const { NodeCluster } = await import('./cluster.js');
    const cluster = new NodeCluster(
      {
        logger: this.logger,
        version: await packageVersion(),
        runDir: this.server.runDir,
        config: () => this.source.current,
        running: (n) => this.supervisors.get(n) !== undefined || this.bootAdoptable.has(n),
        supervisor: (n) => {
          const v = this.supervisors.get(n);
          return v?.pid && v.state === 'running' ? { pid: v.pid, sock: this.supervisors.paths(n).sock } : undefined;
        },
        putToSupervisor: async (sock, p, body) => (await socketRequest(sock, p, { method: 'PUT', body: JSON.stringify(body), timeoutMs: 2000 })).status,
        reconcile: (first) =>
          this.serial(async () => {
            const desired = this.desiredStreams(this.resolved);
            await this.supervisors.reconcile(desired);
            if (first) await this.supervisors.stopOrphans(desired);
            this.workers?.sync(); // ownership moved: workers serve only what is local
          }),
      },
      cc,
      `http://${host}:${this.server.http}`,
    );
    this.cluster = cluster;
    try {
      await cluster.start();
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code === 'E_CLUSTER_DUPLICATE') {
        if (atBoot) throw new InputError(`cluster: ${err.message}`, { code: 'E_CLUSTER_DUPLICATE' });
        this.logger.error({ err: err.message }, 'cluster join refused');
        return;
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // NodeApi

  /**
   * Re-read the config file and apply it. Without `force`, a file that is empty or has lost every
   * stream while streams run is not applied (SuspectConfigError; see reload-guard.ts).
   */
  reload(opts: { force?: boolean } = {}): Promise<ReconcileResult> {
    return this.serial(async () => {
      try {
        const snap = await this.source.read();
        const verdict = judgeReload({
          input: snap.input,
          runningStreams: Object.keys(this.resolved.streams).length,
          nextStreams: Object.keys(snap.resolved.streams).length,
          force: opts.force === true,
          suspect: this.suspect,
          now: Date.now(),
        });
        if (verdict.kind !== 'apply') {
          if (verdict.kind === 'hold') {
            if (this.suspect?.fingerprint !== verdict.fingerprint) this.suspect = { fingerprint: verdict.fingerprint, since: Date.now() };
            // read it again once it had time to settle: applied then if still the same
            if (this.suspectTimer) clearTimeout(this.suspectTimer);
            this.suspectTimer = setTimeout(() => void this.reload().catch(() => {}), STABLE_MS + 100);
            this.suspectTimer.unref();
          } else this.suspect = undefined;
          throw new SuspectConfigError(verdict.message);
        }
        this.suspect = undefined;
        if (this.suspectTimer) clearTimeout(this.suspectTimer);
        if (opts.force) this.logger.warn({ streams: Object.keys(snap.resolved.streams).length }, 'config reload forced');
        this.source.commit(snap);
        const r = await this.apply(snap.resolved);
        this.reloads.ok++;
        this.reloads.lastAt = Date.now();
        this.reloads.lastError = null;
        this.observe?.hub.emit('config_reloaded', null, 'reload', { message: summarize(r) });
        return r;
      } catch (e) {
        this.reloads.failed++;
        this.reloads.lastAt = Date.now();
        this.reloads.lastError = e instanceof Error ? e.message : String(e);
        if (e instanceof ConfigError) this.logger.error({ issues: e.issues }, 'config change refused (invalid): the running config is kept');
        else if (e instanceof SuspectConfigError) this.logger.warn({ file: this.source.file }, `config change not applied: ${e.message}`);
        else this.logger.error({ err: this.reloads.lastError }, 'config reload failed: the running config is kept');
        throw e;
      }
    });
  }

  sessions(): SessionsApi {
    return this.protection;
  }

  async info(): Promise<NodeInfoDoc> {
    const cfg = this.resolved;
    const names = Object.keys(cfg.streams);
    const running = this.supervisors.names();
    const host = displayHost(this.server.host);
    return {
      name: cfg.cluster?.nodeName ?? hostname(),
      version: await packageVersion(),
      pid: process.pid,
      started_at: this.startedAt,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      uptime_ms: Date.now() - this.startedAt,
      config_file: this.source.file ?? null,
      demo: this.source.demo,
      run_dir: this.server.runDir,
      data_dir: this.server.dataDir,
      log_file: this.opts.logFile ?? null,
      socket: nodePaths(this.server.runDir).sock,
      http: { host: this.server.host, port: this.server.http, url: `http://${host}:${this.server.http}/` },
      api_url: `http://${host}:${this.server.http}/api/v3/`,
      https: this.server.https ? { port: this.server.https.port, url: `https://${host}:${this.server.https.port}/`, http_mode: this.server.https.httpMode, cert_reloads: this.https?.reloads ?? 0 } : null,
      rtmp: this.publish?.rtmpPort ?? null,
      srt: this.publish?.srtPort ?? null,
      streams_count: names.length,
      streams_running: running.length,
      streams_disabled: names.filter((n) => cfg.streams[n]!.disabled).length,
      supervisor_restarts: running.reduce((s, n) => s + (this.supervisors.get(n)?.restarts ?? 0), 0),
      ffmpeg: this.ffmpeg,
      auth: { users: this.apiUsers.length },
      reloads: { ok: this.reloads.ok, failed: this.reloads.failed, last_error: this.reloads.lastError, last_at: this.reloads.lastAt },
      playback: this.playback !== undefined,
      cpu_seconds: cpuSeconds(),
      rss_bytes: process.memoryUsage.rss(),
      events: { last_event_id: this.observe?.hub.lastId ?? 0, sinks: this.observe?.sinkStats() ?? [] },
      cluster: this.cluster ? (this.cluster.member.state === 'ok' ? 'ok' : this.cluster.member.state === 'refused' ? 'refused' : 'degraded') : null,
    };
  }

  eventHub(): EventHub {
    return this.observe!.hub;
  }

  metrics(): Promise<{ contentType: string; text: string }> {
    return this.observe!.metrics();
  }

  onlineClients(name: string): number {
    return this.protection.play.sessions.streamCount(name);
  }

  configInput(): ConfigInput {
    return this.source.current.input;
  }

  configFile(): string | undefined {
    return this.source.file;
  }

  resolvedStream(name: string): ResolvedStream | undefined {
    return this.resolved.streams[name] ?? this.cluster?.sharedStream(name);
  }

  sharedStreams(): Record<string, StreamInput> | undefined {
    return this.cluster?.sharedInputs();
  }

  supervisor(name: string): SupervisorView | undefined {
    return this.supervisors.get(name);
  }

  freshStatus(name: string): Promise<SupervisorStatus | undefined> {
    return this.supervisors.freshStatus(name);
  }

  putStream(name: string, value: StreamInput): Promise<void> {
    return this.serial(async () => {
      await this.apply((await this.source.setStream(name, value)).resolved);
    });
  }

  deleteStream(name: string): Promise<void> {
    return this.serial(async () => {
      await this.apply((await this.source.removeStream(name)).resolved);
    });
  }

  validateConfig(text: string): Promise<ConfigIssue[]> {
    return this.source.validate(text, '(request)');
  }

  clusterStatus(): ClusterStatusDoc | undefined {
    return this.cluster?.member.status();
  }

  restartStream(name: string): Promise<unknown> {
    return this.supervisors.restartStream(name);
  }

  stop(opts: { keepStreams: boolean }): void {
    void this.shutdown(opts);
  }

  /** Stop the node: listeners closed, supervisors stopped (unless keepStreams), pid file and socket removed. */
  shutdown(opts: { keepStreams: boolean } = { keepStreams: false }): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info({ keepStreams: opts.keepStreams }, 'node stopping');
      await this.teardown(!opts.keepStreams);
      this.logger.info('node stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }

  private async teardown(stopSupervisors: boolean): Promise<void> {
    if (this.suspectTimer) clearTimeout(this.suspectTimer);
    await this.watcher?.close().catch(() => {});
    await this.source?.close().catch(() => {});
    await this.publish?.close().catch(() => {});
    await this.cluster?.member.halt().catch(() => {});
    this.protection?.stop();
    await this.https?.close().catch(() => {});
    await this.webrtc?.close().catch(() => {});
    if (this.supervisors) {
      if (stopSupervisors) await this.supervisors.stopAll();
      else this.supervisors.detachAll();
    }
    // leases (and the ownerships bound to them) go once the captures have stopped, so that no other
    // node starts a stream while this one still writes it; kept streams keep their capture leases
    await this.cluster?.stop({ revoke: stopSupervisors }).catch(() => {});
    await this.observe?.close();
    await this.workers?.stop().catch(() => {});
    await Promise.all([this.httpServer && closeServer(this.httpServer), this.socketServer && closeServer(this.socketServer)]);
    if (this.ownsPid && this.server) {
      const { pid, sock } = nodePaths(this.server.runDir);
      if ((await readPidFile(pid)) === process.pid) {
        await unlinkQuiet(sock);
        await unlinkQuiet(pid);
      }
      this.ownsPid = false;
    }
  }
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function summarize(r: ReconcileResult): string {
  return (['started', 'stopped', 'restarted', 'adopted'] as const).map((k) => `${k} ${r[k].length}`).join(', ');
}

function enabledStreams(cfg: ResolvedConfig): Record<string, ResolvedStream> {
  return Object.fromEntries(Object.entries(cfg.streams).filter(([, s]) => !s.disabled));
}

export function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

async function loadDvrHandler(): Promise<import('./playback.js').DvrRequestHandler | undefined> {
  try {
    // a literal specifier: the daemon bundle (scripts/bundle-daemons.js) must see it to keep it as a chunk
    const mod = (await import('../../dvr/http.js')) as { handleDvrRequest?: import('./playback.js').DvrRequestHandler };
    return mod.handleDvrRequest;
  } catch {
    return undefined;
  }
}
