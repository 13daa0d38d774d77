/** ffmpeg argument lists of the WebRTC gateway (src/webrtc): the shared Opus transcode and the WHIP receiver. */

/** AAC of the stream's live TS (stdin) → Opus RTP to a loopback port, for WHEP viewers. */
export function opusArgs(port: number): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-fflags', '+nobuffer', '-f', 'mpegts', '-i', 'pipe:0',
    '-map', '0:a:0', '-vn', '-c:a', 'libopus', '-b:a', '64k', '-ar', '48000', '-ac', '2', '-application', 'lowdelay', '-frame_duration', '20',
    '-f', 'rtp', '-payload_type', '111', `rtp://127.0.0.1:${port}?pkt_size=1200`,
  ];
}

/** ffmpeg: RTP described by the SDP on stdin → H.264 copy + AAC → MPEG-TS on stdout. */
export function whipFfmpegArgs(): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-protocol_whitelist', 'pipe,udp,rtp', '-fflags', '+genpts', '-reorder_queue_size', '64',
    '-analyzeduration', '2000000', '-f', 'sdp', '-i', 'pipe:0',
    '-map', '0:v:0', '-map', '0:a:0?', '-c:v', 'copy', '-c:a', 'aac', '-b:a', '128k', '-ar', '48000',
    '-f', 'mpegts', '-muxdelay', '0', 'pipe:1',
  ];
}
