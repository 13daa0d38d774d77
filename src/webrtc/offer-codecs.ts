/**
 * What video an SDP offer proposes, read from the rtpmap lines of its video m= sections only (an
 * audio section naming "H264" would be nonsense, but a regex over the whole offer would believe it).
 */
import type { WhipVideoCodec } from '../ffmpeg/webrtc-args.js';

/** Encoding names (lower case, in offer order, no repeats) of the offer's video sections. */
export function offerVideoCodecs(sdp: string): string[] {
  const out: string[] = [];
  let video = false;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      video = line.startsWith('m=video ');
      continue;
    }
    if (!video) continue;
    const m = /^a=rtpmap:\d+ ([^/\s]+)\//.exec(line);
    const name = m?.[1]?.toLowerCase();
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * The video a WHIP answer takes from this offer: H.264 when offered (copied into the stream as it
 * is), else VP8 (transcoded to H.264), else null (nothing Flux can take).
 */
export function whipVideoCodec(sdp: string): WhipVideoCodec | null {
  const codecs = offerVideoCodecs(sdp);
  if (codecs.includes('h264')) return 'h264';
  if (codecs.includes('vp8')) return 'vp8';
  return null;
}

/** Does the offer send audio (an audio m= section not rejected with port 0)? */
export function offerHasAudio(sdp: string): boolean {
  return /^m=audio [1-9]/m.test(sdp);
}
