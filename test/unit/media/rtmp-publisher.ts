/**
 * An RTMP publisher's bytes for tests of the server session and the handoff: the part up to
 * NetStream.Publish (handshake, chunk size, window, connect, createStream, publish) and a body of
 * media messages that crosses chunk boundaries, changes the chunk size and uses extended timestamps.
 */
import { Buffer } from 'node:buffer';
import { ecmaArray, encodeAmf0 } from '../../../src/media/rtmp/amf0.js';
import { ChunkWriter, MessageType } from '../../../src/media/rtmp/chunk.js';
import { clientHandshakeStart, HANDSHAKE_SIZE } from '../../../src/media/rtmp/handshake.js';

/** A publisher's bytes: the part up to publish, and the media after NetStream.Publish.Start. */
export function publisher() {
  const w = new ChunkWriter();
  const cmd = (streamId: number, ...v: unknown[]) => w.write({ csid: 3, type: MessageType.CommandAmf0, streamId, timestamp: 0, payload: encodeAmf0(...v) });
  const setChunk = (n: number) => {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(n);
    const b = w.write({ csid: 2, type: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: p });
    w.chunkSize = n;
    return b;
  };
  const winAck = (n: number) => {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(n);
    return w.write({ csid: 2, type: MessageType.WindowAckSize, streamId: 0, timestamp: 0, payload: p });
  };
  const media = (type: number, ts: number, len: number, seed: number) => {
    const payload = Buffer.alloc(len);
    for (let i = 0; i < len; i++) payload[i] = (i * 31 + seed) & 0xff;
    payload[0] = type === MessageType.Video ? 0x27 : 0xaf;
    return w.write({ csid: type === MessageType.Audio ? 4 : 6, type, streamId: 1, timestamp: ts, payload }, true);
  };
  const head = Buffer.concat([
    clientHandshakeStart(),
    Buffer.alloc(HANDSHAKE_SIZE, 7),
    setChunk(1000),
    winAck(1500),
    cmd(0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live', flashVer: 'FMLE/3.0' }),
    cmd(0, 'createStream', 2, null),
    cmd(1, 'publish', 3, null, 'cam?key=k', 'live'),
  ]);
  const body = Buffer.concat([
    w.write({ csid: 5, type: MessageType.DataAmf0, streamId: 1, timestamp: 0, payload: encodeAmf0('@setDataFrame', 'onMetaData', ecmaArray({ width: 320, videocodecid: 7 })) }),
    media(MessageType.Video, 0, 40, 1),
    media(MessageType.Audio, 0, 4, 2),
    media(MessageType.Video, 40, 2500, 3), // spans three 1000-byte chunks
    media(MessageType.Audio, 23, 300, 4),
    setChunk(128), // the chunk size changes mid-stream
    media(MessageType.Video, 80, 700, 5),
    media(MessageType.Video, 0x1000000, 500, 6), // extended timestamp
    media(MessageType.Video, 0x1000028, 500, 7),
    media(MessageType.Audio, 0x1000010, 300, 8),
  ]);
  return { head, body, media };
}
