/**
 * The supervisor's link to src/ffmpeg (argument builders). TEMPORARY minimal builder until
 * src/ffmpeg lands; then this file only re-exports buildPipelineArgs from there.
 */
import type { ResolvedInput, ResolvedStream } from '../../config/model.js';
import type { PipelineArgs } from './pipeline.js';

const OUT = ['-f', 'mpegts', '-mpegts_flags', '+resend_headers', 'pipe:1'];

function fakeInput(url: string): string[] {
  const q = new URL(url.replace(/^fake:\/\//, 'http://x/')).searchParams;
  const size = q.get('size') ?? '320x240';
  const fps = q.get('fps') ?? '25';
  return ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
}

function inputArgs(i: ResolvedInput): string[] {
  switch (i.scheme) {
    case 'fake':
      return fakeInput(i.url);
    case 'file':
      return ['-re', ...(i.loop ? ['-stream_loop', '-1'] : []), '-i', i.url.replace(/^file:\/\//, '')];
    case 'rtsp':
      return ['-rtsp_transport', i.rtspTransport ?? 'tcp', '-timeout', '5000000', '-i', i.url];
    case 'hls':
      return ['-re', '-i', i.url.replace(/^hls:/, 'http:')];
    default:
      return ['-i', i.url];
  }
}

export function buildPipelineArgs(stream: ResolvedStream, input: ResolvedInput | 'stdin'): PipelineArgs | null {
  const pre = ['-hide_banner', '-nostats', '-loglevel', 'warning', '-nostdin'];
  if (input !== 'stdin' && ['udp', 'tshttp', 'tshttps', 'publish'].includes(input.scheme) && !stream.transcoder) return null;
  const inArgs = input === 'stdin' ? ['-f', 'mpegts', '-i', 'pipe:0'] : inputArgs(input);
  if (input === 'stdin') pre.pop();
  const encode = !!stream.transcoder || (input !== 'stdin' && input.scheme === 'fake');
  if (!encode) return { args: [...pre, ...inArgs, '-map', '0', '-c', 'copy', ...OUT], outputs: [{ rendition: stream.renditions[0] ?? 'v1a1', fd: 1 }] };
  const profiles: { bitrate: number; width?: number; height?: number }[] = stream.transcoder?.video ?? [{ bitrate: 300_000 }];
  const args = [...pre, ...inArgs];
  const outputs: { rendition: string; fd: number }[] = [];
  const audioIn = input !== 'stdin' && input.scheme === 'fake' ? '1:a' : '0:a?';
  profiles.forEach((p, k) => {
    const fd = k === 0 ? 1 : k + 2;
    args.push('-map', '0:v', '-map', audioIn, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', String(p.bitrate), '-g', '15', '-keyint_min', '15', '-sc_threshold', '0');
    if (p.width && p.height) args.push('-s', `${p.width}x${p.height}`);
    args.push('-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', `pipe:${fd}`);
    outputs.push({ rendition: stream.renditions[k] ?? `v${k + 1}a1`, fd });
  });
  return { args, outputs };
}
