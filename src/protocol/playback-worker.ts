/**
 * The IPC contract between the node agent and its playback workers (server.http_workers): what the
 * agent tells a worker (the listening handle, which streams it may serve itself) and what a worker
 * reports back (its log lines, the viewers it served, so play sessions and metrics stay true).
 * Defined once, imported by both sides (src/daemons/node/playback-workers.ts,
 * src/daemons/playback-worker/).
 */

/** The request header carrying the real client address from a worker to the agent's internal socket. */
export const FORWARDED_CLIENT_HEADER = 'x-flux-client';

/** A debug response header naming the worker that answered (only sent when workers are on). */
export const WORKER_HEADER = 'x-flux-worker';

/** A stream a worker serves itself: local, enabled, without any play protection. */
export interface PlaybackRoute {
  name: string;
  title?: string;
  /** absolute directory of its live output (the live root when the supervisor moved it) */
  root: string;
  renditions: string[];
  hls: { segmentDurationMs: number; window: number; container?: 'ts' | 'fmp4'; lowLatency?: { partDurationMs: number } };
  protocols?: ('hls' | 'll-hls' | 'dash' | 'mpegts')[];
}

export type AgentToWorker =
  /** sent with the agent's listening net.Server as the handle */
  | { type: 'listen' }
  | {
      type: 'routes';
      routes: PlaybackRoute[];
      /** every stream name the agent knows, routed or not (a request is matched to its stream among all of them) */
      names: string[];
      /** session keys an operator killed (`stream\0ip\0user-agent`): their requests go to the agent, which refuses them */
      killed: string[];
      /** count bytes per client address (the cluster's load meter) */
      meter: boolean;
    }
  | { type: 'stop' };

/** One viewer's requests since the last report: [stream, ip, user-agent, referer, proto, requests]. */
export type ViewerUsage = [stream: string, ip: string, userAgent: string, referer: string, proto: string, requests: number];

export type WorkerToAgent =
  /**
   * the worker listens for messages: only now may the agent send the listening handle (a handle
   * that arrives before the worker's module graph has loaded is accepted on by nobody: its
   * connections would hang)
   */
  | { type: 'started' }
  /** the worker accepts on the shared listening socket */
  | { type: 'ready' }
  /** one pino JSON line of the worker's log */
  | { type: 'log'; line: string }
  | {
      type: 'usage';
      viewers: ViewerUsage[];
      /** [client address, bytes sent] (only when asked to meter) */
      bytes: [string, number][];
      /** requests answered by the worker itself / passed to the agent, since the last report */
      served: number;
      proxied: number;
    };

/** The key a worker uses to recognise a killed viewer (the same fields as PlayGate's fingerprint). */
export function viewerKey(stream: string, ip: string, userAgent: string): string {
  return `${stream}\0${ip}\0${userAgent}`;
}
