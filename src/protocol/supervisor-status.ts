/**
 * The supervisor's status document (GET /status on its socket). The node agent relays it into
 * the API; the shape is a contract between the two processes.
 */
/** `error`: media flows but something else fails now (the stream's storage does not take writes); see lastError */
export type SupervisorState = 'starting' | 'running' | 'waiting' | 'failed' | 'stopping' | 'error';
export type InputState = 'active' | 'standby' | 'failed' | 'waiting';

export interface InputStatus {
  index: number;
  url: string;
  priority: number;
  state: InputState;
  /** bit/s over the last few seconds (TS bytes as received, or as ffmpeg remuxed them for pulls) */
  bitrate: number;
  /** video frames per second (PES starts on the video PID), 0 when unknown */
  fps: number;
  ccErrors: number;
  /** estimated lost TS packets (sum of continuity-counter gaps) */
  lostPackets: number;
  /** ms since the last TS packet of this input, null when none was ever received */
  lastPacketAgeMs: number | null;
  /** times the supervisor switched to this input */
  switches: number;
  lastError: string | null;
  /** extra, not in the contract's minimum: what is running for this input right now */
  /** active; probe: watched to return to it; warm: a warm standby (`warm: true`) running to take over at once */
  role?: 'active' | 'probe' | 'warm' | null;
  bytes?: number;
  /** failover_on: the watched conditions and how often each made the stream leave this input */
  quality?: { watch: string[]; failovers: Record<string, number>; error: string | null };
  /** mosaic:// inputs while running: each tile in order, live (read from its stream) or drawn as a slate */
  tiles?: { name: string; live: boolean }[];
}

export interface RenditionStatus {
  name: string;
  bitrate: number;
  segments: number;
  lastSegmentAt: number | null;
  /** extra (metrics): MPEG-TS bytes fed to the writer */
  bytes?: number;
  /** extra (metrics): segment durations in seconds, per bucket upper bound `le` (not cumulative) */
  durations?: { le: number[]; counts: number[]; sum: number; count: number };
}

export interface PushStatus {
  url: string;
  state: string;
  /** bytes delivered to the target (not what was handed to ffmpeg while the target was down) */
  bytes: number;
  errors: number;
  lastError: string | null;
  restarts: number;
  /** extra: TS bytes dropped (no ffmpeg yet, waiting for a keyframe, target too slow) */
  dropped?: number;
  /** extra: bytes ffmpeg wrote to the target */
  outBytes?: number;
}

export type SupervisorEventType = 'switch' | 'restart' | 'error' | 'start' | 'stop' | 'publish' | 'unpublish';

export interface SupervisorEvent {
  at: number;
  type: SupervisorEventType;
  reason: string;
  from?: number;
  to?: number;
  /** input index the event concerns (restart/error) */
  input?: number;
  message?: string;
}

export interface FfmpegChildStatus {
  role: string;
  pid: number;
  args: string[];
  /** input index the child belongs to, when it belongs to an input */
  input?: number;
  startedAt?: number;
}

export interface MediaInfoStatus {
  [k: string]: unknown;
}

/** The publisher of a publish:// stream, while one is on. */
export interface PublisherStatus {
  since: number;
  /** TS bytes received from it */
  bytes: number;
  remote: string | null;
  /**
   * http: the node pipes its TS into POST /ingest; rtmp-handoff: its RTMP socket is read by the
   * supervisor; ts-handoff: the supervisor reads the pipe its TS is written into (SRT publish)
   */
  via: 'http' | 'rtmp-handoff' | 'ts-handoff';
}

export interface SupervisorStatus {
  name: string;
  pid: number;
  specHash: string;
  state: SupervisorState;
  startedAt: number;
  activeInput: number | null;
  inputs: InputStatus[];
  restarts: number;
  lastError: string | null;
  bitrate: number;
  fps: number;
  mediaInfo: MediaInfoStatus | null;
  renditions: RenditionStatus[];
  push: PushStatus[];
  events: SupervisorEvent[];
  /** DVR recorder status (recording, paused, lastError, bytes, segments, oldest, newest) when the stream records */
  dvr: unknown;
  /** where live output goes while the stream root is unwritable (the node's data dir); absent normally */
  liveRoot?: string;
  /** extra: the current publisher (publish:// inputs) */
  publisher?: PublisherStatus;
  ffmpeg: FfmpegChildStatus[];
}
