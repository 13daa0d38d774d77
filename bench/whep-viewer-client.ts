/**
 * WHEP viewers for bench/whep-viewers.ts, in a process of their own so that their CPU (werift's
 * SRTP, DTLS, jitter-free counting) is not the node's:
 *
 *   node --import tsx bench/whep-viewer-client.ts <whep URL> <count>
 *
 * Opens <count> werift viewers (H.264 + Opus, recvonly), ten offers at a time, and prints one JSON
 * line a second: {"connected": n, "failed": n, "video": [packets per viewer], "audio": [...]}.
 * On SIGTERM/SIGINT or stdin end: DELETEs every session (WHEP hang-up), closes, exits.
 */
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { gatheredOffer } from '../test/helpers/webrtc.js';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: whep-viewer-client.ts <whep URL> <count>\n');
  process.exit(2);
}

interface Viewer {
  pc: RTCPeerConnection;
  location: string | null;
  video: number;
  audio: number;
  connected: boolean;
  failed: boolean;
}

const viewers: Viewer[] = [];

async function open(): Promise<void> {
  const pc = new RTCPeerConnection({
    codecs: {
      video: [new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }], parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' })],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
  });
  const v: Viewer = { pc, location: null, video: 0, audio: 0, connected: false, failed: false };
  viewers.push(v);
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe(() => {
      if (track.kind === 'video') v.video++;
      else v.audio++;
    });
  });
  pc.connectionStateChange.subscribe((s) => {
    if (s === 'connected') v.connected = true;
    if (s === 'failed') v.failed = true;
  });
  try {
    const res = await fetch(url!, { method: 'POST', body: await gatheredOffer(pc), headers: { 'content-type': 'application/sdp' } });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${body.trim()}`);
    v.location = new URL(res.headers.get('location')!, url).href;
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
  } catch (e) {
    v.failed = true;
    process.stderr.write(`viewer: ${(e as Error).message}\n`);
  }
}

const report = setInterval(() => {
  process.stdout.write(
    `${JSON.stringify({ connected: viewers.filter((v) => v.connected).length, failed: viewers.filter((v) => v.failed).length, video: viewers.map((v) => v.video), audio: viewers.map((v) => v.audio) })}\n`,
  );
}, 1000);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(report);
  await Promise.all(viewers.map((v) => (v.location ? fetch(v.location, { method: 'DELETE' }).catch(() => {}) : undefined)));
  await Promise.all(viewers.map((v) => v.pc.close().catch(() => {})));
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop()).resume();

// One handshake at a time per process: 50 DTLS handshakes at once (werift on both sides, 2 cores)
// outran webrtc.ice_timeout and failed a few viewers; real audiences ramp up too.
for (let i = 0; i < count; i++) {
  await open();
  const v = viewers[viewers.length - 1]!;
  for (let waited = 0; !v.connected && !v.failed && waited < 20_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
}
