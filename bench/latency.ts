/**
 * Live latency of TS HLS, fMP4 HLS and LL-HLS as hls.js plays them in headless Chromium
 * (templates/embed.html, hls.js low-latency mode), one stream at a time on one node.
 *
 *   node --import tsx bench/latency.ts   (FLUX_BENCH_SECONDS=60: sampling time per stream; build first)
 *
 * Latency = wall clock − EXT-X-PROGRAM-DATE-TIME of the frame on screen, sampled every 500 ms after a
 * warm-up (playback past 8 s). The program date time is stamped by the writer when a segment's first
 * frame arrives, so this is "arrival at the server → on screen": capture and encoder delay (the same
 * for all three) are not in it. Streams: fake://testsrc 320x180@25 with a tone, 1 s segments and GOP;
 * LL-HLS with 0.5 s parts. Prints one JSON line last: ts_latency_s, fmp4_latency_s, llhls_latency_s
 * (medians) and their p90s.
 */
import { fakeStream, http, startNode, tempDir, waitFor } from '../test/helpers/index.js';
import { launchChromium } from '../test/helpers/browser.js';

const SECONDS = Number(process.env.FLUX_BENCH_SECONDS ?? 60);
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

try {
  const dir = await tempDir(t, 'flux-bench-');
  const video = { size: '320x180', fps: 25 };
  const streams = {
    ts: fakeStream({ hls: { segment_duration: '1s', window: 6 } }, video),
    fmp4: fakeStream({ hls: { segment_duration: '1s', window: 6, container: 'fmp4' } }, video),
    ll: fakeStream({ hls: { segment_duration: '1s', window: 6, low_latency: true, part_duration: '0.5s' } }, video),
  };
  const node = await startNode(t, { dir, streams, waitAlive: true });
  for (const name of Object.keys(streams)) {
    await waitFor(async () => (await http(`${node.baseUrl}/${name}/index.m3u8`)).status === 200, { timeoutMs: 30_000, message: `${name} master playlist` });
  }
  const browser = await launchChromium(undefined);
  cleanups.unshift(() => browser.close());
  const results: Record<string, number[]> = {};
  for (const name of Object.keys(streams)) {
    const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
    await page.goto(`${node.baseUrl}/${name}/embed.html`);
    const read = () => page.evaluate(`(() => { const p = window.fluxPlayer; return { t: p.video.currentTime, latency: p.latency, fatal: p.fatal }; })()`) as Promise<{ t: number; latency: number | null; fatal: string | null }>;
    await waitFor(async () => {
      const s = await read();
      if (s.fatal) throw new Error(`${name}: ${s.fatal}`);
      return s.t > 8 && s.latency !== null;
    }, { timeoutMs: 90_000, intervalMs: 250, message: `${name} plays` });
    const samples: number[] = [];
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      const s = await read();
      if (s.latency !== null) samples.push(s.latency);
    }
    results[name] = samples;
    log(`${name}: median ${pct(samples, 0.5).toFixed(2)} s, p90 ${pct(samples, 0.9).toFixed(2)} s over ${samples.length} samples`);
    await page.close();
  }
  const m = (name: string, p: number) => ({ value: +pct(results[name]!, p).toFixed(2), unit: 's', better: 'lower' });
  console.log(
    JSON.stringify({
      metrics: {
        ts_latency_s: m('ts', 0.5),
        fmp4_latency_s: m('fmp4', 0.5),
        llhls_latency_s: m('ll', 0.5),
        ts_latency_p90_s: m('ts', 0.9),
        fmp4_latency_p90_s: m('fmp4', 0.9),
        llhls_latency_p90_s: m('ll', 0.9),
      },
      notes: `hls.js (embed.html, lowLatencyMode) in headless Chromium, ${SECONDS} s per stream after an 8 s warm-up; latency = now − PROGRAM-DATE-TIME of the frame on screen (arrival at the writer → screen); fake://testsrc 320x180@25, 1 s segments and GOP, LL-HLS parts 0.5 s`,
    }),
  );
} finally {
  for (const fn of cleanups) await fn();
}
