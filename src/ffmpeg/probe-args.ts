/** ffprobe's argument list for `flux probe` (JSON of the format and streams, with a network timeout). */

/** Schemes ffprobe opens over the network: they get a read timeout. */
export const NETWORK_SCHEMES = new Set(['http', 'https', 'rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt', 'udp', 'rtp', 'tcp', 'hls', 'hlss', 'tshttp', 'tshttps']);

export function ffprobeArgs(target: string, scheme: string, timeoutMs: number): string[] {
  const args = ['-v', 'error', '-hide_banner', '-print_format', 'json', '-show_format', '-show_streams'];
  const us = String(Math.max(1, Math.round(timeoutMs * 1000)));
  if (scheme === 'rtsp' || scheme === 'rtsps' || scheme === 'srt' || scheme === 'udp' || scheme === 'rtp') args.push('-timeout', us);
  else if (NETWORK_SCHEMES.has(scheme)) args.push('-rw_timeout', us);
  if (scheme === 'rtsp' || scheme === 'rtsps') args.push('-rtsp_transport', 'tcp');
  args.push('-i', target);
  return args;
}
