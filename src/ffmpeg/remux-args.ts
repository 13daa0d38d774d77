/**
 * ffmpeg argument lists that copy streams without transcoding: MPEG-TS → MP4 for the DVR (HTTP
 * archive-….mp4 and `flux dvr export`), and the SRT publish listener that hands MPEG-TS to the node.
 */

const INPUT = ['-hide_banner', '-nostats', '-loglevel', 'error', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v?', '-map', '0:a?', '-c', 'copy'];

const ADTS = ['-bsf:a', 'aac_adtstoasc'];

/** Fragmented MP4 on stdout, playable while it streams (HTTP archive-….mp4). `adts`: the audio is ADTS AAC. */
export function streamingMp4Args(opts: { adts?: boolean } = {}): string[] {
  return [...INPUT, ...(opts.adts ? ADTS : []), '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1'];
}

/** A regular MP4 file with the moov atom first (`flux dvr export`). */
export function fileMp4Args(out: string, opts: { faststart?: boolean; adts?: boolean } = {}): string[] {
  return [...INPUT, ...(opts.adts ? ADTS : []), ...(opts.faststart === false ? [] : ['-movflags', '+faststart']), '-f', 'mp4', '-y', out];
}

/**
 * One SRT publisher: ffmpeg listens on a loopback port (the node's relay hands the caller to it) and
 * writes the MPEG-TS it receives to stdout, untouched.
 */
export function srtListenerArgs(port: number, latencyMs: number): string[] {
  const url = `srt://127.0.0.1:${port}?mode=listener&latency=${latencyMs * 1000}&transtype=live`;
  return ['-hide_banner', '-nostdin', '-loglevel', 'error', '-fflags', '+nobuffer', '-analyzeduration', '1000000', '-probesize', '500000', '-f', 'mpegts', '-i', url, '-map', '0', '-c', 'copy', '-f', 'mpegts', 'pipe:1'];
}
