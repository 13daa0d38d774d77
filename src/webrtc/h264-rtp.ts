/**
 * H.264 RTP packetization (RFC 6184, packetization-mode=1): one Annex B access unit → RTP payloads.
 * NAL units that fit the MTU go as single-NAL packets; larger ones as FU-A fragments. AUD and
 * filler NALs are left out (WebRTC receivers do not need them). SPS/PPS travel in-band before
 * each IDR as the encoder put them there (Flux's sources repeat them at every keyframe).
 */
import { splitAnnexB } from '../media/codec/annexb.js';

/** Payload bytes per RTP packet: below a 1280-byte IPv6 path once SRTP, RTP header and extensions are added. */
export const RTP_PAYLOAD_MAX = 1100;

const NAL_AUD = 9;
const NAL_FILLER = 12;

/** Payloads of one access unit, in order; the last one carries the RTP marker bit. */
export function packetizeH264(au: Buffer, max = RTP_PAYLOAD_MAX): Buffer[] {
  const out: Buffer[] = [];
  for (const nal of splitAnnexB(au, 'h264')) {
    if (nal.type === NAL_AUD || nal.type === NAL_FILLER || nal.end <= nal.start) continue;
    const len = nal.end - nal.start;
    if (len <= max) {
      out.push(au.subarray(nal.start, nal.end));
      continue;
    }
    const header = au[nal.start]!;
    const fuIndicator = (header & 0xe0) | 28;
    const type = header & 0x1f;
    let off = nal.start + 1; // the NAL header travels in the FU indicator/header
    while (off < nal.end) {
      const n = Math.min(max - 2, nal.end - off);
      const p = Buffer.allocUnsafe(n + 2);
      p[0] = fuIndicator;
      p[1] = (off === nal.start + 1 ? 0x80 : 0) | (off + n === nal.end ? 0x40 : 0) | type;
      au.copy(p, 2, off, off + n);
      out.push(p);
      off += n;
    }
  }
  return out;
}

/** Does the offer's SDP offer H.264 with packetization-mode=1 (what Flux sends)? */
export function offerHasH264(sdp: string): boolean {
  return /^a=rtpmap:\d+ H264\/90000/im.test(sdp);
}
