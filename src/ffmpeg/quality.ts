/**
 * ffmpeg arguments of the quality watch of one input: MPEG-TS on stdin, video decoded on keyframes
 * only and scaled to 64x36 before signalstats (mean luma YAVG → black, difference to the previous
 * keyframe YDIF → frozen), audio resampled to 8 kHz mono-rate blocks of 0.5 s for astats (RMS level
 * → silence). The per-frame values are printed by the metadata filters on stderr (log level info).
 */
export function qualityWatchArgs(opts: { video: boolean; audio: boolean }): string[] {
  const graph: string[] = [];
  const maps: string[] = [];
  if (opts.video) {
    graph.push('[0:v:0]scale=64:36,signalstats,metadata=print:key=lavfi.signalstats.YAVG,metadata=print:key=lavfi.signalstats.YDIF[qv]');
    maps.push('-map', '[qv]');
  }
  if (opts.audio) {
    graph.push('[0:a:0]aresample=8000,asetnsamples=n=4000,astats=metadata=1:reset=1:measure_perchannel=none,ametadata=print:key=lavfi.astats.Overall.RMS_level[qa]');
    maps.push('-map', '[qa]');
  }
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-threads', '1',
    // probe 1 s instead of 5 s: the watch judges the first seconds of a source too
    '-analyzeduration', '1000000', '-probesize', '1000000',
    '-skip_frame:v', 'nokey', '-f', 'mpegts', '-i', 'pipe:0',
    '-filter_complex', graph.join(';'), ...maps, '-f', 'null', '-',
  ];
}
