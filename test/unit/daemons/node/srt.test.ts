import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handshakeType, parseStreamId, streamIdOf } from '../../../../src/daemons/node/srt-listener.js';
import { authorizePublish } from '../../../../src/daemons/node/publish.js';
import type { ResolvedStream } from '../../../../src/config/model.js';

/** An SRT HSv5 conclusion handshake carrying `sid` in its SID extension (words byte-swapped). */
function conclusion(sid: string | undefined, type = 0xffffffff): Buffer {
  const head = Buffer.alloc(16 + 48);
  head.writeUInt16BE(0x8000, 0); // control, type 0 = handshake
  head.writeUInt32BE(5, 16); // version 5
  head.writeUInt32BE(type, 16 + 20);
  const parts = [head];
  // an HSREQ extension first (type 1, 3 words), then the SID
  const hsreq = Buffer.alloc(4 + 12);
  hsreq.writeUInt16BE(1, 0);
  hsreq.writeUInt16BE(3, 2);
  parts.push(hsreq);
  if (sid !== undefined) {
    const raw = Buffer.from(sid, 'utf8');
    const len = Math.ceil(raw.length / 4) * 4;
    const padded = Buffer.alloc(len);
    raw.copy(padded);
    const ext = Buffer.alloc(4 + len);
    ext.writeUInt16BE(5, 0);
    ext.writeUInt16BE(len / 4, 2);
    for (let i = 0; i < len; i += 4) padded.subarray(i, i + 4).reverse().copy(ext, 4 + i);
    parts.push(ext);
  }
  return Buffer.concat(parts);
}

test('SRT handshake: type and Stream ID extension', () => {
  assert.equal(handshakeType(conclusion('x', 1)), 1);
  assert.equal(handshakeType(conclusion('x')), -1);
  assert.equal(handshakeType(Buffer.alloc(100)), 0, 'data packet');
  assert.equal(handshakeType(Buffer.alloc(10, 0xff)), 0, 'short');
  assert.equal(streamIdOf(conclusion('#!::r=cams/door,m=publish')), '#!::r=cams/door,m=publish');
  assert.equal(streamIdOf(conclusion('abc')), 'abc');
  assert.equal(streamIdOf(conclusion(undefined)), undefined);
  assert.equal(streamIdOf(conclusion('x', 1)), undefined, 'induction carries no SID');
  const truncated = conclusion('a-long-stream-id').subarray(0, 90);
  assert.equal(streamIdOf(truncated), undefined);
});

test('Stream ID forms', () => {
  assert.deepEqual(parseStreamId('#!::r=cams/door,m=publish,key=s3'), { name: 'cams/door', key: 's3', mode: 'publish' });
  assert.deepEqual(parseStreamId('#!::r=x,m=request'), { name: 'x', key: undefined, mode: 'request' });
  assert.deepEqual(parseStreamId('publish/news'), { name: 'news', mode: 'publish' });
  assert.deepEqual(parseStreamId('publish:news?password=p'), { name: 'news', key: 'p', mode: 'publish' });
  assert.deepEqual(parseStreamId('news'), { name: 'news', mode: 'publish' });
  assert.deepEqual(parseStreamId('%23!%3A%3Ar%3Dcams%2Fsrt%2Cm%3Dpublish'), { name: 'cams/srt', key: undefined, mode: 'publish' });
});

test('publish authorization', () => {
  const s = (over: Partial<ResolvedStream>): ResolvedStream =>
    ({ name: 'n', disabled: false, inputs: [{ url: 'publish://', scheme: 'publish' }], auth: { playToken: false, secureLink: false }, ...over }) as ResolvedStream;
  const streams: Record<string, ResolvedStream> = {
    open: s({}),
    locked: s({ auth: { publishPassword: 'k', playToken: false, secureLink: false } }),
    pull: s({ inputs: [{ url: 'rtsp://x', scheme: 'rtsp' } as ResolvedStream['inputs'][number]] }),
    off: s({ disabled: true }),
  };
  const ctx = { getStream: (n: string) => streams[n] };
  assert.deepEqual(authorizePublish(ctx, 'open', undefined), { ok: true, name: 'open' });
  assert.equal(authorizePublish(ctx, 'locked', 'k').ok, true);
  assert.match((authorizePublish(ctx, 'locked', 'bad') as { reason: string }).reason, /wrong or missing publish key/);
  assert.match((authorizePublish(ctx, 'locked', undefined) as { reason: string }).reason, /wrong or missing publish key/);
  assert.match((authorizePublish(ctx, 'pull', undefined) as { reason: string }).reason, /no publish:\/\/ input/);
  assert.match((authorizePublish(ctx, 'off', undefined) as { reason: string }).reason, /disabled/);
  assert.match((authorizePublish(ctx, 'nope', undefined) as { reason: string }).reason, /no stream "nope"/);
  assert.match((authorizePublish(ctx, '../etc', undefined) as { reason: string }).reason, /invalid stream name/);
});
