/**
 * A last-resort slate behind a dead primary: udp:// (nobody sends) fails after source_timeout and
 * fake://slate?text=…&image=FILE (silent) takes over; its segments carry the slate's picture and
 * silent audio.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { expectLive, FFMPEG, ffprobe, freeUdpPort, readPlaylist, startSupervisorProc, tempEnv, waitFor, writeSpec } from './supervisor-helpers.js';

/** Cleanups in reverse order (the supervisor stops before its temp dir is removed). */
function lifo(t: TestContext): TestContext {
  const fns: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });
  return { after: (fn: () => unknown) => fns.push(fn) } as unknown as TestContext;
}

test('fake://slate with text and image takes over from a dead input; picture drawn, audio silent', { timeout: 90_000 }, async (tc) => {
  const t = lifo(tc);
  const env = await tempEnv(t);
  const port = await freeUdpPort();
  const image = path.join(env.dir, 'slate card.png');
  execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=white:size=80x60', '-frames:v', '1', '-y', image]);
  const slate = `fake://slate?text=${encodeURIComponent('Back soon: stay tuned')}&image=${encodeURIComponent(image)}&size=160x120&fps=10`;
  const { file, stream } = await writeSpec(env, 'sl', {
    inputs: [
      { url: `udp://127.0.0.1:${port}`, source_timeout: '2s' },
      { url: slate, priority: 2 },
    ],
    hls: { segment_duration: '1s', window: 10 },
  });
  const sup = await startSupervisorProc(t, env, file, 'sl');
  const st = await waitFor('the slate is the active input', async () => {
    const s = await sup.status();
    return s.activeInput === 1 ? s : null;
  }, 15_000, 100);
  assert.equal(st.inputs[0]!.state, 'failed');
  await expectLive(sup, stream, { segments: 2, timeoutMs: 20_000 });
  const pl = await readPlaylist(stream);
  const seg = path.join(stream.root, 'v1a1', pl!.entries.at(-1)!.uri);
  const probe = ffprobe(seg);
  assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.width, 160);
  assert.ok(probe.streams.some((s) => s.codec_type === 'audio'), 'the slate has an audio track');
  const vol = spawnSync(FFMPEG, ['-hide_banner', '-i', seg, '-map', '0:a', '-af', 'volumedetect', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
  const maxVolume = Number(/max_volume: (-?[\d.]+|-inf) dB/.exec(vol)?.[1]?.replace('-inf', '-999'));
  assert.ok(maxVolume <= -80, `silent audio: max_volume ${maxVolume} dB`);
  const luma = spawnSync(FFMPEG, ['-hide_banner', '-v', 'error', '-i', seg, '-map', '0:v', '-frames:v', '1', '-vf', 'signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-', '-f', 'null', '-'], { encoding: 'utf8' }).stdout;
  const yavg = Number(/YAVG=([\d.]+)/.exec(luma)?.[1]);
  assert.ok(yavg > 20, `the image and text are drawn on black: mean luma ${yavg}`);
});
