/**
 * A tiny RTSP server for tests (no RTSP server package here, and ffmpeg's `-rtsp_flags listen`
 * only receives): ffmpeg sends H.264 as RTP to a local UDP port and writes the SDP; this server
 * answers OPTIONS/DESCRIBE/SETUP/PLAY/GET_PARAMETER/TEARDOWN and relays the RTP packets to every
 * playing client interleaved on its TCP connection (RTP/AVP/TCP). Video on channel 0; with
 * `start({ audio: true })` a second UDP port takes an audio RTP stream, relayed on channel 2.
 */
import net from 'node:net';
import dgram from 'node:dgram';

export class TinyRtspServer {
  private server = net.createServer((c) => this.onConn(c));
  private rtp = dgram.createSocket('udp4');
  private rtpAudio: dgram.Socket | null = null;
  private players = new Set<net.Socket>();
  private conns = new Set<net.Socket>();
  port = 0;
  rtpPort = 0;
  /** UDP port for the audio RTP stream (0 when started without audio) */
  rtpAudioPort = 0;
  sdp = '';
  requests: string[] = [];

  async start(opts: { audio?: boolean } = {}): Promise<void> {
    const relay = (sock: dgram.Socket, channel: number) =>
      sock.on('message', (pkt) => {
        if (pkt.length < 12) return;
        const pt = pkt[1]! & 0x7f;
        if (pt >= 72 && pt <= 76) return; // RTCP on the same port: not relayed
        const head = Buffer.from([0x24, channel, pkt.length >> 8, pkt.length & 0xff]);
        for (const p of this.players) if (!p.destroyed) p.write(Buffer.concat([head, pkt]));
      });
    await new Promise<void>((r) => this.rtp.bind(0, '127.0.0.1', () => r()));
    this.rtpPort = this.rtp.address().port;
    relay(this.rtp, 0);
    if (opts.audio) {
      const a = dgram.createSocket('udp4');
      this.rtpAudio = a;
      await new Promise<void>((r) => a.bind(0, '127.0.0.1', () => r()));
      this.rtpAudioPort = a.address().port;
      relay(a, 2);
    }
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** SDP written by ffmpeg (`-sdp_file`): made into a DESCRIBE answer (port 0, a control attribute). */
  setSdp(ffmpegSdp: string): void {
    const lines = ffmpegSdp.split(/\r?\n/).filter((l) => l && !l.startsWith('a=control'));
    const out: string[] = [];
    for (const l of lines) {
      if (l.startsWith('m=video')) {
        out.push(l.replace(/^m=video \d+/, 'm=video 0'));
        out.push('a=control:track0');
      } else if (l.startsWith('m=audio')) {
        out.push(l.replace(/^m=audio \d+/, 'm=audio 0'));
        out.push('a=control:track1');
      } else if (l.startsWith('c=')) out.push('c=IN IP4 0.0.0.0');
      else out.push(l);
    }
    this.sdp = out.join('\r\n') + '\r\n';
  }

  private onConn(c: net.Socket): void {
    let buf = '';
    const session = String(Math.floor(Math.random() * 1e9));
    this.conns.add(c);
    c.on('error', () => {});
    c.on('close', () => {
      this.players.delete(c);
      this.conns.delete(c);
    });
    c.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const lines = head.split('\r\n');
        const [method, url] = lines[0]!.split(' ');
        const hdr = (n: string) => lines.find((l) => l.toLowerCase().startsWith(n.toLowerCase() + ':'))?.slice(n.length + 1).trim();
        const cseq = hdr('CSeq') ?? '0';
        this.requests.push(method!);
        const reply = (extra: string[], body = '') => {
          c.write(['RTSP/1.0 200 OK', `CSeq: ${cseq}`, ...extra, ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : []), '', ''].join('\r\n') + body);
        };
        switch (method) {
          case 'OPTIONS':
            reply(['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER']);
            break;
          case 'DESCRIBE':
            if (!this.sdp) {
              c.write(`RTSP/1.0 404 Not Found\r\nCSeq: ${cseq}\r\n\r\n`);
              break;
            }
            reply(['Content-Type: application/sdp', `Content-Base: ${url!.endsWith('/') ? url : url + '/'}`], this.sdp);
            break;
          case 'SETUP': {
            const ch = url!.endsWith('track1') ? 2 : 0;
            reply([`Transport: RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}`, `Session: ${session};timeout=60`]);
            break;
          }
          case 'PLAY':
            reply([`Session: ${session}`, 'Range: npt=0.000-']);
            this.players.add(c);
            break;
          case 'TEARDOWN':
            reply([`Session: ${session}`]);
            this.players.delete(c);
            break;
          default:
            reply([`Session: ${session}`]);
        }
      }
    });
  }

  async stop(): Promise<void> {
    for (const p of this.players) p.destroy();
    this.rtp.close();
    this.rtpAudio?.close();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      for (const c of this.conns) c.destroy();
    });
  }
}
