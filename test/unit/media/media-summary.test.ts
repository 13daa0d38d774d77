/** Program summary (media/ts/media-summary.ts): codecs video first, first video/audio track's parameters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeMediaInfo } from '../../../src/media/ts/media-summary.js';
import type { MediaInfo } from '../../../src/media/ts/types.js';

test('codecs list video before audio, without duplicates; parameters come from the first tracks', () => {
  const mi = {
    tracks: [
      { pid: 257, kind: 'audio', codec: 'aac', codecString: 'mp4a.40.2', sampleRate: 48000, channels: 2 },
      { pid: 256, kind: 'video', codec: 'h264', codecString: 'avc1.64001f', width: 1280, height: 720, fps: 25 },
      { pid: 258, kind: 'audio', codec: 'aac', codecString: 'mp4a.40.2', sampleRate: 44100, channels: 1 },
    ],
  } as unknown as MediaInfo;
  summarizeMediaInfo(mi);
  assert.equal(mi.codecs, 'avc1.64001f,mp4a.40.2');
  assert.deepEqual([mi.width, mi.height, mi.fps, mi.sampleRate, mi.channels], [1280, 720, 25, 48000, 2]);
});

test('no tracks: everything undefined', () => {
  const mi = { tracks: [], codecs: 'x', width: 1 } as unknown as MediaInfo;
  summarizeMediaInfo(mi);
  assert.equal(mi.codecs, undefined);
  assert.equal(mi.width, undefined);
});
