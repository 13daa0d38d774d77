/**
 * ffmpeg argument lists of the WebRTC gateway (src/webrtc): the shared Opus transcode and the WHIP
 * receiver (with the SDP it reads its loopback RTP through).
 */

/** AAC of the stream's live TS (stdin) → Opus RTP to a loopback port, for WHEP viewers. */
export function opusArgs(port: number): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-fflags', '+nobuffer', '-f', 'mpegts', '-i', 'pipe:0',
    '-map', '0:a:0', '-vn', '-c:a', 'libopus', '-b:a', '64k', '-ar', '48000', '-ac', '2', '-application', 'lowdelay', '-frame_duration', '20',
    '-f', 'rtp', '-payload_type', '111', `rtp://127.0.0.1:${port}?pkt_size=1200`,
  ];
}

/** Video codecs a WHIP publisher may send: H.264 is copied, VP8 is transcoded to H.264. */
export type WhipVideoCodec = 'h264' | 'vp8';

/** Payload types of the loopback RTP (the receiver rewrites whatever the publisher negotiated to these). */
export const WHIP_VIDEO_PT = 96;
export const WHIP_AUDIO_PT = 111;

/**
 * The SDP ffmpeg reads the loopback RTP with (ports chosen by the gateway). No audio port: no audio
 * section, since an audio stream that never gets a packet holds ffmpeg's muxer back for seconds.
 */
export function whipInputSdp(videoPort: number, audioPort: number | null, video: WhipVideoCodec = 'h264'): string {
  const v = video === 'vp8'
    // RFC 7741 payload: ffmpeg's rtp demuxer (rtpdec_vp8) depacketizes it
    ? [`a=rtpmap:${WHIP_VIDEO_PT} VP8/90000`]
    : [`a=rtpmap:${WHIP_VIDEO_PT} H264/90000`, `a=fmtp:${WHIP_VIDEO_PT} packetization-mode=1`];
  return [
    'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=flux-whip', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=video ${videoPort} RTP/AVP ${WHIP_VIDEO_PT}`, ...v,
    ...(audioPort === null ? [] : [`m=audio ${audioPort} RTP/AVP ${WHIP_AUDIO_PT}`, `a=rtpmap:${WHIP_AUDIO_PT} opus/48000/2`]), '',
  ].join('\r\n');
}

/**
 * Seconds between forced keyframes of a transcoded WHIP publisher: about 1–2 s, and a divisor of
 * the stream's segment duration when it is longer (6 s → 2 s, 5 s → 1.667 s), so that every segment
 * boundary falls on a keyframe and the segmenter cuts segments of the configured length.
 * A segment shorter than 1 s gets the smallest multiple of it that reaches 1 s.
 */
export function whipKeyframeSeconds(segmentDurationMs: number): number {
  const s = Math.max(0.1, segmentDurationMs / 1000);
  const k = s > 2 ? s / Math.ceil(s / 2) : s >= 1 ? s : s * Math.ceil(1 / s);
  return Math.round(k * 1000) / 1000;
}

export interface WhipTranscode {
  /** forced keyframe interval, seconds (whipKeyframeSeconds) */
  keyframeSeconds: number;
  /** video bitrate cap, kbit/s (quality-based below it) */
  maxrateKbps?: number;
}

/** The default bitrate cap of a transcoded publisher: ample for a 720p camera, never more. */
export const WHIP_MAXRATE_KBPS = 2500;

/**
 * ffmpeg: RTP described by the SDP on stdin → H.264 (copied, or encoded from VP8 when `transcode`
 * is given) + AAC → MPEG-TS on stdout.
 */
export function whipFfmpegArgs(transcode?: WhipTranscode): string[] {
  const maxrate = transcode?.maxrateKbps ?? WHIP_MAXRATE_KBPS;
  const video = transcode
    ? [
      // zerolatency: no lookahead nor B-frames, the publisher's latency is kept; CRF capped by VBV
      // keeps a small camera small and a big one within maxrate
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
      '-crf', '23', '-maxrate', `${maxrate}k`, '-bufsize', `${2 * maxrate}k`,
      // keyframes on a fixed media-time grid (aligned with segments), none from scene cuts in between
      '-force_key_frames', `expr:gte(t,n_forced*${transcode.keyframeSeconds})`, '-sc_threshold', '0',
    ]
    : ['-c:v', 'copy'];
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-protocol_whitelist', 'pipe,udp,rtp', '-fflags', '+genpts', '-reorder_queue_size', '64',
    '-analyzeduration', '2000000', '-f', 'sdp', '-i', 'pipe:0',
    '-map', '0:v:0', '-map', '0:a:0?', ...video, '-c:a', 'aac', '-b:a', '128k', '-ar', '48000',
    // each packet goes out as muxed: a low-bitrate camera would otherwise sit in the 32 KiB pipe buffer
    '-f', 'mpegts', '-muxdelay', '0', '-flush_packets', '1', 'pipe:1',
  ];
}
