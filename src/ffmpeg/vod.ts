/**
 * ffmpeg arguments of one VOD HLS segment: [start, start+duration) of an MP4 remuxed to MPEG-TS
 * without re-encoding. `start` is a keyframe time from the file's index; seeking lands on the
 * keyframe at or before the seek point, so the seek point is nudged 1 ms past it (never the one
 * before) and the copy stops 2 ms before the next keyframe's decode time (it is never included).
 * Timestamps are shifted back to file time so consecutive segments are continuous.
 */
export function vodSegmentArgs(file: string, startSec: number, durationSec: number, leadSec = 0): string[] {
  const s = (x: number) => x.toFixed(6);
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    '-ss', s(startSec + 0.001), '-i', file,
    // stream copy stops on decode time: the next keyframe decodes `leadSec` before it is shown
    '-t', s(Math.max(0.001, durationSec - leadSec - 0.002)),
    '-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy',
    '-output_ts_offset', s(startSec), '-muxdelay', '0', '-muxpreload', '0',
    '-f', 'mpegts', 'pipe:1',
  ];
}
