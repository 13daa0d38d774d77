/** The program-level summary of a `MediaInfo` (codecs string, first video and audio track's parameters). */
import type { MediaInfo, TrackInfo } from './types.js';

/** Recomputes `codecs`, `width/height/fps` (first video track) and `sampleRate/channels` (first audio track) in place. */
export function summarizeMediaInfo(mi: MediaInfo): void {
  const codecs: string[] = [];
  let video: TrackInfo | undefined;
  let audio: TrackInfo | undefined;
  // Video codecs first, then audio, as HLS CODECS lists them.
  for (const kind of ['video', 'audio'] as const) {
    for (const t of mi.tracks) {
      if (t.kind !== kind) continue;
      if (kind === 'video' && video === undefined) video = t;
      if (kind === 'audio' && audio === undefined) audio = t;
      if (t.codecString !== undefined && !codecs.includes(t.codecString)) codecs.push(t.codecString);
    }
  }
  mi.codecs = codecs.length > 0 ? codecs.join(',') : undefined;
  mi.width = video?.width;
  mi.height = video?.height;
  mi.fps = video?.fps;
  mi.sampleRate = audio?.sampleRate;
  mi.channels = audio?.channels;
}
