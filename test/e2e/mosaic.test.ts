/**
 * mosaic:// on a real node: two tiny colour streams and a disabled one composed into a 2x2 mosaic
 * (the disabled one a slate, the fourth cell empty), played over HLS; a tile stream changed through
 * the API shows its new colour, and a tile stream that stops becomes a slate, each within a bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startNode, tempDir, waitFor } from '../helpers/index.js';
import { RESULTS } from '../../src/protocol/results.js';

const run = promisify(execFile);

const tile = (color: string, extra: Record<string, unknown> = {}) => ({
  inputs: [{ url: `fake://color?color=${color}&size=160x120&fps=10&tone=0` }],
  hls: { segment_duration: '1s', window: 4 },
  ...extra,
});

type Rgb = [number, number, number];
const COLORS: Record<string, Rgb> = { red: [255, 0, 0], blue: [0, 0, 255], yellow: [255, 255, 0], slate: [0x20, 0x20, 0x20], black: [0, 0, 0] };

function nameOf(px: Rgb): string {
  for (const [n, c] of Object.entries(COLORS)) if (px.every((v, i) => Math.abs(v - c[i]!) <= 24)) return n;
  return `rgb(${px.join(',')})`;
}

/** The first frame of the mosaic's newest segment, as 320x240 RGB. */
async function grab(base: string): Promise<Buffer | null> {
  const pl = await fetch(`${base}/tracks-v1a1/index.m3u8`).then((r) => (r.ok ? r.text() : ''), () => '');
  const segs = pl.split('\n').filter((l) => l && !l.startsWith('#'));
  if (!segs.length) return null;
  try {
    const { stdout } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', `${base}/tracks-v1a1/${segs.at(-1)}`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 1 << 22,
      timeout: 10_000,
    });
    return stdout.length >= 320 * 240 * 3 ? stdout : null;
  } catch {
    return null; // the segment left the window meanwhile
  }
}

/** What each cell shows, sampled away from the slate's text: [t1, t2, missing-ok, empty]. */
function cells(frame: Buffer): string[] {
  const px = (x: number, y: number): Rgb => {
    const o = (y * 320 + x) * 3;
    return [frame[o]!, frame[o + 1]!, frame[o + 2]!];
  };
  return [px(20, 20), px(180, 20), px(20, 140), px(180, 140)].map(nameOf);
}

async function until(base: string, want: string[], timeoutMs: number, message: string): Promise<number> {
  const t0 = Date.now();
  let last: string[] = [];
  await waitFor(
    async () => {
      const f = await grab(base);
      if (f) last = cells(f);
      return last.join() === want.join();
    },
    { timeoutMs, intervalMs: 300, message },
  ).catch((e: Error) => {
    throw new Error(`${message}: wanted ${want.join(', ')}, got ${last.join(', ')} (${e.message})`);
  });
  return Date.now() - t0;
}

test('mosaic: live tiles, a slate for a disabled stream, a changed source and a stopped one', { timeout: 150_000 }, async (t) => {
  const dir = await tempDir(t, 'flux-mos-');
  const node = await startNode(t, {
    dir,
    streams: {
      t1: tile('red'),
      t2: tile('blue'),
      'missing-ok': tile('green', { disabled: true }),
      wall: { inputs: [{ url: 'mosaic://t1,t2,missing-ok?layout=2x2&size=320x240&fps=10' }], hls: { segment_duration: '1s', window: 4 } },
    },
  });
  const base = `${node.baseUrl}/wall`;

  // both tiles live, the disabled stream a slate, the fourth cell black
  await until(base, ['red', 'blue', 'slate', 'black'], 45_000, 'the first mosaic');

  // the HLS plays: H.264 320x240 with an AAC track (silence)
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', `${base}/index.m3u8`], { timeout: 20_000 });
  const streams = (JSON.parse(stdout) as { streams: { codec_name: string; width?: number; height?: number }[] }).streams;
  const video = streams.find((s) => s.codec_name === 'h264');
  assert.deepEqual([video?.width, video?.height], [320, 240], stdout);
  assert.ok(streams.some((s) => s.codec_name === 'aac'), stdout);

  // the status says which tiles are live
  const doc = await node.stream('wall');
  assert.deepEqual(doc.stats.inputs[0]!.tiles, [
    { name: 't1', live: true },
    { name: 't2', live: true },
    { name: 'missing-ok', live: false },
  ]);
  // …in the --json result too, as its schema describes it
  const json = await node.cli(['stream', 'show', 'wall', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = RESULTS['stream show'].parse(json.json);
  assert.deepEqual(parsed, json.json);
  assert.deepEqual((parsed.stats.inputs[0] as { tiles?: unknown }).tiles, doc.stats.inputs[0]!.tiles);
  const show = await node.cli(['stream', 'show', 'wall']);
  assert.match(show.stdout + show.stderr, /MOSAIC TILES[\s\S]*missing-ok\s+slate/);

  // flux stream args shows the command line
  const args = await node.cli(['stream', 'args', 'wall', '--json']);
  assert.equal(args.code, 0, args.stderr);
  const line = (args.json as { lines: { role: string; args: string[] }[] }).lines[0]!;
  assert.match(line.args[line.args.indexOf('-filter_complex') + 1]!, /xstack=inputs=3:layout=0_0\|160_0\|0_120:fill=black/);

  // a tile's source changes (through the API): the mosaic shows the new colour
  const put = await node.api('PUT', '/api/v3/streams/t1', tile('yellow'));
  assert.equal(put.status, 200, put.text);
  const changed = await until(base, ['yellow', 'blue', 'slate', 'black'], 25_000, 'the changed tile');

  // a tile stream stops: its tile becomes a slate, the others play on
  const stop = await node.api('PUT', '/api/v3/streams/t2', tile('blue', { disabled: true }));
  assert.equal(stop.status, 200, stop.text);
  const slated = await until(base, ['yellow', 'slate', 'slate', 'black'], 25_000, 'the stopped tile as a slate');
  await waitFor(async () => (await node.stream('wall')).stats.inputs[0]!.tiles?.[1]?.live === false, { timeoutMs: 5000, message: 't2 reported as a slate' });
  t.diagnostic(`changed colour shown after ${changed} ms, stopped tile slated after ${slated} ms`);
});
