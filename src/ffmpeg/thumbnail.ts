/**
 * ffmpeg arguments for a thumbnail: one frame of an MP4 read from stdin (the one-frame preview.mp4),
 * optionally scaled to a width (height keeps the aspect ratio, rounded to even), JPEG on stdout.
 */
export const THUMBNAIL_MIN_WIDTH = 16;
export const THUMBNAIL_MAX_WIDTH = 3840;

export function thumbnailArgs(width?: number): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'mp4', '-i', 'pipe:0', '-frames:v', '1'];
  if (width !== undefined) {
    if (!Number.isInteger(width) || width < THUMBNAIL_MIN_WIDTH || width > THUMBNAIL_MAX_WIDTH) throw new RangeError(`thumbnail width ${width} is outside ${THUMBNAIL_MIN_WIDTH}..${THUMBNAIL_MAX_WIDTH}`);
    args.push('-vf', `scale=${width}:-2`);
  }
  args.push('-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '4', 'pipe:1');
  return args;
}
