/**
 * DASH pieces: the MPD renderer (timeline runs folded with @r, durations), the live window and variant
 * readers of the agent, and the per-track cuts of multiplexed CMAF (ffprobe decodes each track alone).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoDuration, renderMpd } from '../../../src/media/dash/mpd.js';
import { CmafSegmenter } from '../../../src/media/mp4/cmaf-segmenter.js';
import { initForTrack, initTracks, segmentForTrack, segmentTiming } from '../../../src/media/mp4/split.js';
import { variantOf, windowOf } from '../../../src/daemons/node/dash.js';
import { renderMediaPlaylist } from '../../../src/media/hls/playlist.js';
import { ffprobeBytes, h264Fixture } from './_helpers.js';

describe('MPD', () => {
  it('folds equal, contiguous segments into S@r and keeps gaps as new S', () => {
    const mpd = renderMpd({
      availabilityStartTime: Date.UTC(2026, 0, 1),
      publishTime: Date.UTC(2026, 0, 1, 0, 1),
      minimumUpdatePeriodMs: 1000,
      timeShiftBufferDepthMs: 6000,
      maxSegmentDurationMs: 1000,
      minBufferTimeMs: 2000,
      suggestedPresentationDelayMs: 3000,
      initialization: 'dash/$RepresentationID$/init.mp4',
      media: 'dash/$RepresentationID$/$Time$.m4s',
      video: [{ id: 'v1a1-v', bandwidth: 500_000, codecs: 'avc1.64001f', timescale: 90000, width: 640, height: 360, timeline: [{ t: 0, d: 90000 }, { t: 90000, d: 90000 }, { t: 180000, d: 90000 }, { t: 300000, d: 45000 }] }],
      audio: [{ id: 'v1a1-a', bandwidth: 64_000, codecs: 'mp4a.40.2', timescale: 48000, audioSamplingRate: 48000, timeline: [{ t: 0, d: 48128 }] }],
    });
    assert.match(mpd, /<S t="0" d="90000" r="2"\/>\n\s*<S t="300000" d="45000"\/>/);
    assert.match(mpd, /availabilityStartTime="2026-01-01T00:00:00\.000Z" publishTime="2026-01-01T00:01:00\.000Z"/);
    assert.match(mpd, /timeShiftBufferDepth="PT6S"/);
    assert.match(mpd, /<AdaptationSet id="1" contentType="audio"/);
    assert.equal(isoDuration(2500), 'PT2.5S');
    assert.equal(isoDuration(1000), 'PT1S');
  });

  it('windowOf keeps what follows the last discontinuity under one init; variantOf reads the master', () => {
    const text = renderMediaPlaylist({
      targetDuration: 1,
      mediaSequence: 5,
      segments: [
        { uri: '2026/01/01/00/1000-1000.m4s', durationMs: 1000, programDateTime: 1000, map: 'init-aaaaaaaaaaaa.mp4' },
        { uri: '2026/01/01/00/2000-1000.m4s', durationMs: 1000, programDateTime: 2000, map: 'init-bbbbbbbbbbbb.mp4', discontinuity: true },
        { uri: '2026/01/01/00/3000-1000.m4s', durationMs: 1000, programDateTime: 3000, map: 'init-bbbbbbbbbbbb.mp4' },
        { uri: '../../etc/passwd', durationMs: 1000, programDateTime: 4000, map: 'init-bbbbbbbbbbbb.mp4' },
      ],
    });
    const w = windowOf(text);
    assert.deepEqual(w.segments.map((s) => s.uri), ['2026/01/01/00/2000-1000.m4s', '2026/01/01/00/3000-1000.m4s'], 'only names the writer makes');
    assert.equal(w.segments[0]!.map, 'init-bbbbbbbbbbbb.mp4');
    assert.equal(w.segments[1]!.pdt, 3000);
    const v = variantOf('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=25.000\ntracks-v1a1/index.m3u8\n', 'v1a1');
    assert.deepEqual(v, { bandwidth: 900000, codecs: ['avc1.64001f', 'mp4a.40.2'], width: 640, height: 360, frameRate: 25 });
    assert.deepEqual(variantOf('', 'v1a1'), {});
  });
});

describe('per-track CMAF cuts', () => {
  it('init and segments of one track decode alone; timing sums all fragments', () => {
    let init: Buffer | null = null;
    const segs: Buffer[][] = [];
    const s = new CmafSegmenter({ init: (i) => (init = i.data), openSegment: () => segs.push([]), part: (p) => segs.at(-1)!.push(p.data), closeSegment: () => undefined }, { targetDurationMs: 1000, partDurationMs: 500 });
    s.push(h264Fixture(4, 25).data);
    s.flush();
    assert.ok(init);
    assert.deepEqual(initTracks(init)!.map((t) => [t.id, t.kind, t.timescale]), [[1, 'video', 90000], [2, 'audio', 48000]]);
    const whole = segs.map((x) => Buffer.concat(x));
    const timing = segmentTiming(whole[1]!)!;
    assert.equal(timing.get(1)!.duration, 90000, 'a 1 s segment made of parts');
    assert.equal(segmentTiming(whole[2]!)!.get(1)!.start, timing.get(1)!.start + 90000);
    for (const [id, codec, frames] of [[1, 'h264', 100], [2, 'aac', 180]] as const) {
      const mp4 = Buffer.concat([initForTrack(init, id)!, ...whole.map((x) => segmentForTrack(x, id)!)]);
      const st = ffprobeBytes(`track${id}.mp4`, mp4, ['-count_frames', '-show_streams']).json.streams;
      assert.deepEqual(st.map((x: any) => x.codec_name), [codec]);
      assert.ok(Number(st[0].nb_read_frames) >= frames, `${codec}: ${st[0].nb_read_frames}`);
    }
    assert.equal(initForTrack(init, 9), null);
    assert.equal(segmentForTrack(whole[0]!, 9), null);
    assert.equal(segmentTiming(whole[0]!.subarray(0, 50)), null, 'truncated: null, no throw');
    assert.equal(initTracks(Buffer.from('nonsense')), null);
  });
});

describe('DVR DASH', () => {
  it('a TS segment remuxed whole into one CMAF segment, retimed onto the archive timeline; static MPD', async () => {
    const { remuxTsSegment } = await import('../../../src/daemons/node/dash-archive.js');
    const x = remuxTsSegment(h264Fixture(4, 25).data)!;
    assert.ok(x);
    const v = x.tracks.find((t) => t.kind === 'video')!;
    assert.equal(x.timing.get(v.id)!.duration, 4 * 90000, 'one segment for the whole file, across its keyframes');
    const moved = segmentForTrack(x.seg, v.id, 180000 - x.timing.get(v.id)!.start)!;
    assert.equal(segmentTiming(moved)!.get(v.id)!.start, 180000);
    const st = ffprobeBytes('dvr.mp4', Buffer.concat([initForTrack(x.init.data, v.id)!, moved]), ['-count_frames', '-show_streams']).json.streams[0];
    assert.equal(Number(st.nb_read_frames), 100);
    // decode time 2 s; the first picture shows a composition offset later (B-frames: at most 3 frames)
    assert.ok(Number(st.start_time) >= 2 && Number(st.start_time) <= 2.12, `starts at the archive time it was moved to: ${st.start_time}`);
    assert.equal(remuxTsSegment(Buffer.alloc(1880, 0x47)), null);
    const mpd = renderMpd({ type: 'static', mediaPresentationDurationMs: 8000, availabilityStartTime: 0, publishTime: 0, minimumUpdatePeriodMs: 0, timeShiftBufferDepthMs: 0, maxSegmentDurationMs: 2000, minBufferTimeMs: 4000, suggestedPresentationDelayMs: 0, initialization: 'i', media: 'm', video: [], audio: [] });
    assert.match(mpd, /type="static" mediaPresentationDuration="PT8S"/);
    assert.doesNotMatch(mpd, /availabilityStartTime|minimumUpdatePeriod/);
  });
});
