/** The SMIL-like multi-bitrate list and the master playlist over its files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { masterPlaylist, parseSmil, type VodFile } from '../../../src/vod/vod.js';

test('parseSmil: video/audio sources, the bitrate attribute forms, mp4: prefixes', () => {
  const smil = `<?xml version="1.0"?><smil><body><switch>
    <video src="hd.mp4" system-bitrate="5000000" width="1920"/>
    <video systemBitrate='2000000' src='sub/sd.mp4'/>
    <video src="mp4:low.mp4" bitrate="400000"></video>
    <audio src="radio.mp4"/>
    <video title="no source"/>
  </switch></body></smil>`;
  assert.deepEqual(parseSmil(smil), [
    { src: 'hd.mp4', bitrate: 5_000_000 },
    { src: 'sub/sd.mp4', bitrate: 2_000_000 },
    { src: 'low.mp4', bitrate: 400_000 },
    { src: 'radio.mp4' },
  ]);
  assert.deepEqual(parseSmil('<smil></smil>'), []);
});

test('masterPlaylist: relative variant URIs, declared or estimated bandwidth, resolution from the index', () => {
  const vf = (width: number | undefined, durationSec: number): VodFile => ({
    key: 'k',
    segments: [{ start: 0, duration: durationSec, lead: 0 }],
    index: { durationSec, keyframes: [0], keyframeLead: [0], tracks: width ? [{ id: 1, kind: 'video', codec: 'avc1', timescale: 90000, durationSec, samples: 1, width, height: (width * 9) / 16 }] : [] },
  });
  const text = masterPlaylist([
    { src: 'hd.mp4', vf: vf(1280, 10), size: 1_000_000, bitrate: 3_000_000 },
    { src: 'sub/sd.mp4', vf: vf(640, 10), size: 500_000 },
    { src: 'radio.mp4', vf: vf(undefined, 10), size: 100_000 },
  ]);
  assert.equal(
    text,
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720\n../hd.mp4/index.m3u8\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=480000,RESOLUTION=640x360\n../sub/sd.mp4/index.m3u8\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=96000\n../radio.mp4/index.m3u8\n',
  );
});
