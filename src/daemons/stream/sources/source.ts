/**
 * Native MPEG-TS sources: bytes that need no ffmpeg to become TS (UDP/multicast, HTTP-TS,
 * publish:// pushed to POST /ingest). Each source reports data, a new epoch (the byte stream
 * restarted: reconnect, new publisher → timestamps may jump) and errors.
 */
export interface SourceHandlers {
  onData(chunk: Buffer): void;
  /** the byte stream (re)started: the writer marks a discontinuity before the next bytes */
  onEpoch(): void;
  /** something went wrong; the source keeps trying by itself */
  onError(message: string): void;
}

export interface NativeSource {
  readonly kind: string;
  start(): void;
  stop(): Promise<void>;
  readonly lastError: string | null;
  /** restarts/reconnects the source did by itself */
  readonly reconnects: number;
}

export const NATIVE_SCHEMES = new Set(['udp', 'rtp', 'tshttp', 'tshttps', 'publish']);

export function isNativeScheme(scheme: string): boolean {
  return NATIVE_SCHEMES.has(scheme);
}
