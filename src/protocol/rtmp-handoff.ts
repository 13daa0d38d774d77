/**
 * The RTMP handoff between the node agent and a stream's supervisor, over the supervisor's IPC
 * channel (supervisor-host.ts spawns it with one). The agent runs the handshake, connect,
 * createStream, publish and the authorization; once NetStream.Publish.Start is sent it stops
 * reading the socket and sends `rtmp-publish` with the socket as the message's handle. The
 * supervisor resumes the session from the state carried here and reads the media itself: the TS
 * no longer crosses an HTTP request between the two processes.
 *
 *   agent → supervisor   rtmp-publish (+ socket)   take this publication
 *   agent → supervisor   rtmp-kick                  disconnect it (publish backend withdrew its allow)
 *   supervisor → agent   rtmp-ready                 it listens (sent once; before it, a message could be lost)
 *   supervisor → agent   rtmp-ended                 it is over (or was refused: another publisher)
 *   agent → supervisor   ts-publish (+ pipe)        take this publisher's MPEG-TS: the read end of the
 *                                                   pipe its ffmpeg writes into (SRT publish, whose
 *                                                   listener ffmpeg the agent runs); EOF = it left
 *   supervisor → agent   ts-ended                   it is over (or was refused)
 *
 * Messages are JSON (the channel's default serialization); bytes are base64. `version` changes
 * when a field changes meaning: a supervisor refuses a version it does not know (the publisher
 * is disconnected and reconnects; the agent and its supervisors come from one build anyway).
 */
import { FluxError, EXIT_CODES } from '../core/errors.js';

export const RTMP_HANDOFF_VERSION = 1;

/**
 * The chunk parser's state (src/media/rtmp/chunk.ts ChunkReaderSnapshot, which must stay
 * assignable to and from this: the agent and the supervisor check it where they convert).
 */
export interface RtmpChunkReaderState {
  chunkSize: number;
  requestedChunkSize: number;
  streams: { csid: number; timestamp: number; tsField: number; extended: boolean; length: number; type: number; streamId: number; partial?: string }[];
  payload?: { csid: number; chunkLeft: number };
  header?: string;
}

/** The session's state (src/media/rtmp/session.ts RtmpSessionSnapshot, same rule). */
export interface RtmpSessionState {
  connect: { app: string; query: string; tcUrl: string; flashVer: string; objectEncoding: number };
  publication: { app: string; name: string; query: string; params: Record<string, string>; tcUrl: string; type: string; streamId: number };
  stats: { bytesIn: number; bytesOut: number; messagesIn: number; mediaMessages: number; droppedMessages: number };
  lastPong?: number;
  nextStreamId: number;
  streams: number[];
  peerWindow: number;
  lastAcked: number;
  objectEncoding: number;
  outChunkSize: number;
  reader: RtmpChunkReaderState;
}

/**
 * The read pacing of an ingest socket or pipe when nothing asks for more batching (ms): the agent's
 * RTMP server, a handed-over RTMP session without a limit, and a handed-over TS pipe.
 */
export const DEFAULT_READ_PACING_MS = 40;

/** The agent's limits for this publisher, applied as they are by the supervisor. */
export interface RtmpHandoffLimits {
  maxMessageSize?: number;
  idleTimeoutMs?: number;
  maxOutputBuffer?: number;
  readPacingMs?: number;
  trackWaitMs?: number;
}

export interface RtmpPublishHandoff {
  type: 'rtmp-publish';
  version: number;
  /** the agent's session id (rtmp-kick and rtmp-ended name it) */
  id: number;
  stream: string;
  remoteAddress: string;
  remotePort: number;
  connectedAt: number;
  publishingSince: number;
  limits: RtmpHandoffLimits;
  session: RtmpSessionState;
  /** bytes the agent read from the socket and did not parse (base64, usually empty) */
  unread: string;
}

export interface RtmpKick {
  type: 'rtmp-kick';
  id: number;
  reason: string;
}

export interface RtmpPublishEnded {
  type: 'rtmp-ended';
  id: number;
  reason: string;
  /** false when the supervisor refused the publication (another publisher, bad state) */
  accepted: boolean;
  /** RTMP bytes received over the whole connection (the agent's part included) */
  bytesIn: number;
  /** MPEG-TS bytes fed to the stream */
  tsBytes: number;
}

export interface RtmpReady {
  type: 'rtmp-ready';
  version: number;
}

/**
 * A publisher's MPEG-TS as a pipe (sent as the message's handle): the supervisor reads it into its
 * publish hub until EOF. The agent ends it by stopping the writer (its ffmpeg).
 */
export interface TsPublishHandoff {
  type: 'ts-publish';
  version: number;
  /** the agent's id for it (ts-ended names it) */
  id: number;
  stream: string;
  /** who publishes, as shown in the stream's publisher (e.g. `srt 10.0.0.5:4000`) */
  remote: string;
}

export interface TsPublishEnded {
  type: 'ts-ended';
  id: number;
  reason: string;
  /** false when the supervisor refused it (another publisher, no publish:// input) */
  accepted: boolean;
  /** MPEG-TS bytes fed to the stream */
  tsBytes: number;
}

export type AgentToSupervisor = RtmpPublishHandoff | RtmpKick | TsPublishHandoff;
export type SupervisorToAgent = RtmpReady | RtmpPublishEnded | TsPublishEnded;

/** A handoff message that cannot be taken (malformed, or of another version). */
export class RtmpHandoffError extends FluxError {
  readonly code = 'E_RTMP_HANDOFF';
  readonly exitCode = EXIT_CODES.failure;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The `type` of an IPC message of this protocol, undefined for anything else. */
export function handoffMessageType(msg: unknown): string | undefined {
  return isObj(msg) && typeof msg.type === 'string' && (msg.type.startsWith('rtmp-') || msg.type.startsWith('ts-')) ? msg.type : undefined;
}

/** Checks ts-publish. */
export function parseTsPublishHandoff(msg: unknown): TsPublishHandoff {
  if (!isObj(msg) || msg.type !== 'ts-publish') throw new RtmpHandoffError('not a ts-publish message');
  if (msg.version !== RTMP_HANDOFF_VERSION) throw new RtmpHandoffError(`ts-publish version ${String(msg.version)} (this supervisor takes ${RTMP_HANDOFF_VERSION})`);
  if (!isNum(msg.id) || typeof msg.stream !== 'string' || typeof msg.remote !== 'string') throw new RtmpHandoffError('ts-publish without id, stream or remote');
  return msg as unknown as TsPublishHandoff;
}

/** Checks the envelope of rtmp-publish (the session state is checked as it is resumed). */
export function parseRtmpPublishHandoff(msg: unknown): RtmpPublishHandoff {
  if (!isObj(msg) || msg.type !== 'rtmp-publish') throw new RtmpHandoffError('not an rtmp-publish message');
  if (msg.version !== RTMP_HANDOFF_VERSION) throw new RtmpHandoffError(`rtmp-publish version ${String(msg.version)} (this supervisor takes ${RTMP_HANDOFF_VERSION})`);
  if (!isNum(msg.id) || typeof msg.stream !== 'string' || typeof msg.remoteAddress !== 'string' || !isNum(msg.remotePort)) throw new RtmpHandoffError('rtmp-publish without id, stream or remote');
  if (!isNum(msg.connectedAt) || !isNum(msg.publishingSince) || !isObj(msg.limits) || typeof msg.unread !== 'string') throw new RtmpHandoffError('rtmp-publish without times, limits or unread');
  const s = msg.session;
  if (!isObj(s) || !isObj(s.connect) || !isObj(s.publication) || !isObj(s.stats) || !isObj(s.reader) || !Array.isArray(s.streams)) throw new RtmpHandoffError('rtmp-publish without a session state');
  if (!isNum(s.nextStreamId) || !isNum(s.peerWindow) || !isNum(s.lastAcked) || !isNum(s.objectEncoding) || !isNum(s.outChunkSize) || s.outChunkSize < 1) throw new RtmpHandoffError('rtmp-publish with a bad session state');
  const pub = s.publication;
  if (typeof pub.name !== 'string' || !isNum(pub.streamId) || !isObj(pub.params)) throw new RtmpHandoffError('rtmp-publish with a bad publication');
  return msg as unknown as RtmpPublishHandoff;
}
