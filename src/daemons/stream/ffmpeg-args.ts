/**
 * The supervisor's link to src/ffmpeg: argument builders and (for hardware transcoders only,
 * since it runs ffmpeg a few times) capability detection. Imports the modules directly, not the
 * index, to keep the daemon's start-up lean.
 */
import type { ResolvedInput, ResolvedStream } from '../../config/model.js';
import { buildPipelineArgs as build, type PipelineContext } from '../../ffmpeg/args.js';
import { detectCaps, type FfmpegCaps } from '../../ffmpeg/caps.js';
import type { PipelineArgs } from './pipeline.js';

/** Caps are needed only to check/choose hardware encoders; CPU pipelines start without probing ffmpeg. */
export async function capsFor(stream: ResolvedStream, ffmpegPath: string): Promise<FfmpegCaps | undefined> {
  if (!stream.transcoder || stream.transcoder.hw === 'cpu') return undefined;
  return detectCaps(ffmpegPath);
}

export function makeArgsBuilder(
  caps: FfmpegCaps | undefined,
  onWarning?: (w: string) => void,
): (stream: ResolvedStream, input: ResolvedInput | 'stdin', ctx?: PipelineContext) => PipelineArgs | null {
  const seen = new Set<string>();
  return (stream, input, ctx) => {
    const r = build(stream, input, caps, ctx);
    if (r && onWarning)
      for (const w of r.warnings)
        if (!seen.has(w)) {
          seen.add(w);
          onWarning(w);
        }
    return r;
  };
}
