import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as HLS from 'hls-parser';
import type { MasterPlaylist, MediaPlaylist } from 'hls-parser/types.js';
import { computeTargetDuration, formatExtinf, renderMasterPlaylist, renderMediaPlaylist } from '../../../src/media/hls/playlist.js';

function parseMedia(text: string): MediaPlaylist {
  const p = HLS.parse(text);
  assert.equal(p.isMasterPlaylist, false);
  return p as MediaPlaylist;
}

describe('renderMediaPlaylist', () => {
  before(() => HLS.setOptions({ strictMode: true }));
  after(() => HLS.setOptions({ strictMode: false }));

  const t0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
  const segments = [
    { uri: '2024/01/02/03/1704164645678-2000.ts', durationMs: 2000, programDateTime: t0, discontinuity: false },
    { uri: 'b.ts', durationMs: 2002.002, programDateTime: t0 + 2000 },
    { uri: 'c.ts', durationMs: 1960, programDateTime: t0 + 60_000, discontinuity: true },
  ];

  it('renders a live playlist that an independent parser reads back field by field', () => {
    const text = renderMediaPlaylist({ targetDuration: 2, mediaSequence: 41, discontinuitySequence: 3, segments });
    const p = parseMedia(text);
    assert.equal(p.version, 3);
    assert.equal(p.targetDuration, 2);
    assert.equal(p.mediaSequenceBase, 41);
    assert.equal(p.discontinuitySequenceBase, 3);
    assert.equal(p.endlist, false);
    assert.equal(p.playlistType, undefined);
    assert.deepEqual(
      p.segments.map((s) => [s.uri, s.duration, s.discontinuity === true, s.programDateTime?.getTime()]),
      [
        ['2024/01/02/03/1704164645678-2000.ts', 2, false, t0],
        ['b.ts', 2.002, false, t0 + 2000],
        ['c.ts', 1.96, true, t0 + 60_000],
      ],
    );
    assert.match(text, /^#EXT-X-PROGRAM-DATE-TIME:2024-01-02T03:04:05\.678Z$/m);
    assert.match(text, /^#EXTINF:2\.002,$/m);
    assert.equal(text.match(/#EXT-X-PROGRAM-DATE-TIME/g)?.length, 3);
  });

  it('raises EXT-X-TARGETDURATION to the longest EXTINF rounded to the nearest integer (RFC 8216 4.3.3.1)', () => {
    const p = parseMedia(
      renderMediaPlaylist({ targetDuration: 2, mediaSequence: 0, segments: [...segments, { uri: 'long.ts', durationMs: 3499, programDateTime: t0 }] }),
    );
    assert.equal(p.targetDuration, 3);
    assert.equal(computeTargetDuration(2, [2002.002, 1999]), 2);
    assert.equal(computeTargetDuration(2, [2500]), 3); // 2.500 rounds up
    assert.equal(computeTargetDuration(2, [2499.4]), 2); // EXTINF 2.499
    assert.equal(computeTargetDuration(1.5, []), 2);
    assert.equal(computeTargetDuration(0, []), 1);
    assert.equal(formatExtinf(2002.002), '2.002');
    assert.equal(formatExtinf(1999.6), '2.000');
  });

  it('renders EVENT/VOD playlists with ENDLIST', () => {
    for (const playlistType of ['EVENT', 'VOD'] as const) {
      const p = parseMedia(renderMediaPlaylist({ targetDuration: 2, mediaSequence: 0, segments, endList: true, playlistType }));
      assert.equal(p.playlistType, playlistType);
      assert.equal(p.endlist, true);
      assert.equal(p.segments.length, 3);
    }
  });

  it('keeps a URI on one line', () => {
    const text = renderMediaPlaylist({ targetDuration: 2, mediaSequence: 0, segments: [{ uri: 'a\nb.ts', durationMs: 1000 }] });
    assert.equal(parseMedia(text).segments[0]!.uri, 'a%0Ab.ts');
  });
});

describe('renderMasterPlaylist', () => {
  it('renders variants that an independent parser reads back', () => {
    const text = renderMasterPlaylist([
      { uri: 'tracks-v1a1/index.m3u8', bandwidth: 4_400_000, averageBandwidth: 4_100_000, resolution: { width: 1920, height: 1080 }, codecs: 'avc1.640028,mp4a.40.2', frameRate: 25 },
      { uri: 'tracks-v2a1/index.m3u8', bandwidth: 2_200_000, resolution: '1280x720', codecs: 'avc1.4d401f,mp4a.40.2', frameRate: 29.97 },
      { uri: 'tracks-a1/index.m3u8', bandwidth: 130_000, codecs: 'mp4a.40.2' },
    ]);
    const p = HLS.parse(text) as MasterPlaylist;
    assert.equal(p.isMasterPlaylist, true);
    assert.deepEqual(
      p.variants.map((v) => [v.uri, v.bandwidth, v.averageBandwidth, v.resolution, v.codecs, v.frameRate]),
      [
        ['tracks-v1a1/index.m3u8', 4_400_000, 4_100_000, { width: 1920, height: 1080 }, 'avc1.640028,mp4a.40.2', 25],
        ['tracks-v2a1/index.m3u8', 2_200_000, undefined, { width: 1280, height: 720 }, 'avc1.4d401f,mp4a.40.2', 29.97],
        ['tracks-a1/index.m3u8', 130_000, undefined, undefined, 'mp4a.40.2', undefined],
      ],
    );
    assert.match(text, /FRAME-RATE=29\.970/);
  });
});
