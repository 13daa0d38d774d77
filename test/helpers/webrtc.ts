/** WebRTC test clients (werift): the local SDP offer once ICE gathering is done (at most 3 s). */
import type { RTCPeerConnection } from 'werift';

export async function gatheredOffer(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((r) => {
      const t = setTimeout(r, 3000);
      pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          clearTimeout(t);
          r();
        }
      });
    });
  }
  return pc.localDescription!.sdp;
}
