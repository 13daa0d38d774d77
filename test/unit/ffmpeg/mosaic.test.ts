import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildPipelineArgs } from '../../../src/ffmpeg/args.js';
import { cellSize, defaultGrid, mosaicBitrate, mosaicPlan, mosaicUrlProblem, parseMosaicUrl, SLATE_COLOR } from '../../../src/ffmpeg/mosaic.js';
import { linkMosaicInputs, resolveConfig } from '../../../src/config/resolve.js';
import type { ResolvedMosaic } from '../../../src/config/model.js';
import { input, stream, transcoder, profile, after, allAfter } from './fixtures.js';

/** A resolved mosaic of `names` with playlists under /data. */
function mosaic(url: string): ResolvedMosaic {
  const m = parseMosaicUrl(url);
  const { tiles, ...opts } = m;
  return { ...opts, tiles: tiles.map((name) => ({ name, playlist: `/data/${name}/v1a1/index.m3u8`, segmentDurationMs: 1000 })) };
}

const fc = (args: string[]) => after(args, '-filter_complex') ?? '';
const inputsOf = (args: string[]) => allAfter(args, '-i');

test('URL: tiles (names with /, %2C for a comma), defaults, options', () => {
  const m = parseMosaicUrl('mosaic://cams/door,cams/yard,a%2Cb');
  assert.deepEqual(m.tiles, ['cams/door', 'cams/yard', 'a,b']);
  assert.deepEqual([m.cols, m.rows, m.width, m.height, m.fps, m.labels, m.bitrate, m.audio], [2, 2, 1280, 720, '25', false, undefined, undefined]);
  const o = parseMosaicUrl('mosaic://a,b,c?layout=3x1&size=1920x1080&fps=30000/1001&bitrate=3M&labels=1&audio=b');
  assert.deepEqual([o.cols, o.rows, o.width, o.height, o.fps, o.labels, o.bitrate, o.audio], [3, 1, 1920, 1080, '30000/1001', true, 3_000_000, 'b']);
  assert.ok(Math.abs(o.fpsValue - 29.97) < 0.01);
});

test('default grid: the smallest near-square one (1 → 1x1, 2 → 2x1, 3/4 → 2x2, 6 → 3x2, 9 → 3x3, 10 → 4x3)', () => {
  const got = [1, 2, 3, 4, 5, 6, 7, 9, 10].map((n) => {
    const g = defaultGrid(n);
    return `${n}:${g.cols}x${g.rows}`;
  });
  assert.deepEqual(got, ['1:1x1', '2:2x1', '3:2x2', '4:2x2', '5:3x2', '6:3x2', '7:3x3', '9:3x3', '10:4x3']);
});

test('URL problems: empty tile list or name, bad layout/size/fps/bitrate/labels, audio not a tile, unknown option', () => {
  const bad: [string, RegExp][] = [
    ['mosaic://', /at least one tile/],
    ['mosaic://?layout=2x2', /at least one tile/],
    ['mosaic://a,,b', /empty tile name/],
    ['mosaic://a,b?layout=0x2', /layout=0x2: expected COLUMNSxROWS/],
    ['mosaic://a,b?layout=two', /layout=two/],
    ['mosaic://a,b,c?layout=2x1', /layout=2x1 has 2 cells for 3 tiles/],
    ['mosaic://a?size=13x7', /size=13x7/],
    ['mosaic://a?size=641x360', /even positive/],
    ['mosaic://a,b,c,d,e,f,g,h,i,j?layout=10x1&size=100x100', /gives 10x100 cells/],
    ['mosaic://a?fps=0', /fps=0/],
    ['mosaic://a?bitrate=lots', /bitrate=lots/],
    ['mosaic://a?labels=maybe', /labels=maybe: expected 1 or 0/],
    ['mosaic://a,b?audio=c', /audio=c: not one of the tiles/],
    ['mosaic://a?grid=2x2', /unknown option "grid" \(known: layout, size, fps, bitrate, labels, audio\)/],
  ];
  for (const [url, re] of bad) assert.match(mosaicUrlProblem(url) ?? '(none)', re, url);
  assert.equal(mosaicUrlProblem('mosaic://a,b?layout=2x2&size=320x240&labels=0'), undefined);
});

test('cells are the frame divided by the grid, rounded down to even; default bitrate scales with pixels', () => {
  assert.deepEqual(cellSize({ width: 1280, height: 720, cols: 3, rows: 3 }), { width: 426, height: 240 });
  assert.deepEqual(cellSize({ width: 1920, height: 1080, cols: 2, rows: 2 }), { width: 960, height: 540 });
  assert.equal(mosaicBitrate({ width: 1280, height: 720, fpsValue: 25 }), 1_843_000);
  assert.equal(mosaicBitrate({ width: 320, height: 240, fpsValue: 10 }), 300_000);
  assert.equal(mosaicBitrate({ width: 320, height: 240, fpsValue: 10, bitrate: 900_000 }), 900_000);
});

test('one tile: its hls input, scaled into the whole frame, padded; silent audio', () => {
  const p = mosaicPlan(mosaic('mosaic://cam?size=640x360&fps=10'));
  assert.deepEqual(inputsOf(p.inputArgs), ['/data/cam/v1a1/index.m3u8', 'anullsrc=channel_layout=stereo:sample_rate=48000']);
  assert.equal(after(p.inputArgs, '-live_start_index'), '-1');
  assert.equal(after(p.inputArgs, '-max_reload'), '6');
  assert.equal(after(p.inputArgs, '-f'), 'hls');
  assert.deepEqual(p.graph, [
    '[0:v:0]fps=10,scale=w=640:h=360:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=w=640:h=360:x=(ow-iw)/2:y=(oh-ih)/2:color=black,setsar=1,format=yuv420p[t0]',
    '[t0]pad=w=640:h=360:x=0:y=0:color=black[mosaic]',
  ]);
  assert.equal(p.audioMap, '1:a');
  assert.deepEqual(p.tiles, [{ name: 'cam', live: true }]);
});

test('three tiles in the default 2x2: xstack at cell positions, the empty cell black', () => {
  const p = mosaicPlan(mosaic('mosaic://a,b,c?size=320x240'));
  assert.equal(p.graph.length, 4);
  assert.equal(p.graph[3], '[t0][t1][t2]xstack=inputs=3:layout=0_0|160_0|0_120:fill=black,pad=w=320:h=240:x=0:y=0:color=black[mosaic]');
  assert.match(p.graph[1]!, /^\[1:v:0\]fps=25,scale=w=160:h=120:/);
});

test('four tiles 2x2 at 1920x1080 and nine tiles 3x3 at 1280x720 (cells rounded to even, frame padded)', () => {
  const four = mosaicPlan(mosaic('mosaic://a,b,c,d?size=1920x1080'));
  assert.match(four.graph.at(-1)!, /xstack=inputs=4:layout=0_0\|960_0\|0_540\|960_540:fill=black,pad=w=1920:h=1080/);
  const nine = mosaicPlan(mosaic('mosaic://a,b,c,d,e,f,g,h,i'));
  assert.match(nine.graph.at(-1)!, /^\[t0\]\[t1\]\[t2\]\[t3\]\[t4\]\[t5\]\[t6\]\[t7\]\[t8\]xstack=inputs=9:layout=0_0\|426_0\|852_0\|0_240\|426_240\|852_240\|0_480\|426_480\|852_480:fill=black,pad=w=1280:h=720:/);
  assert.equal(inputsOf(nine.inputArgs).length, 10);
  // a wide layout: 4x1
  const row = mosaicPlan(mosaic('mosaic://a,b,c,d?layout=4x1&size=1280x240'));
  assert.match(row.graph.at(-1)!, /layout=0_0\|320_0\|640_0\|960_0:/);
});

test('missing tiles are slates: dark lavfi colour with the name, paced with -re; live ones keep their order', () => {
  const p = mosaicPlan(mosaic("mosaic://t1,it's:here,t3?size=320x240&fps=10"), new Set(['t1', 't3']));
  assert.deepEqual(p.tiles, [{ name: 't1', live: true }, { name: "it's:here", live: false }, { name: 't3', live: true }]);
  const ins = inputsOf(p.inputArgs);
  assert.equal(ins[0], '/data/t1/v1a1/index.m3u8');
  assert.match(ins[1]!, new RegExp(`^color=c=${SLATE_COLOR}:size=160x120:rate=10,drawtext=text=it\\\\\\\\\\\\'s\\\\\\\\:here:expansion=none:`));
  assert.equal(ins[2], '/data/t3/v1a1/index.m3u8');
  // -re -f lavfi before the slate (and before the silence), not before the hls tiles
  const i1 = p.inputArgs.indexOf(ins[1]!);
  assert.deepEqual(p.inputArgs.slice(i1 - 4, i1), ['-re', '-f', 'lavfi', '-i']);
  assert.equal(p.graph[1], '[1:v:0]null[t1]');
  assert.match(p.graph[2]!, /^\[2:v:0\]fps=10,/);
  // every tile a slate: still a picture, paced by the slates
  const none = mosaicPlan(mosaic('mosaic://a,b'), new Set());
  assert.equal(none.inputArgs.filter((a) => a === '-re').length, 3);
});

test('labels=1 draws each live tile name; audio=NAME maps that tile\'s audio while it is live, else silence', () => {
  const p = mosaicPlan(mosaic('mosaic://a,b?labels=1&audio=b&size=640x240'));
  assert.match(p.graph[0]!, /format=yuv420p,drawtext=text=a:expansion=none:fontcolor=white:fontsize=20:x=10:y=10:box=1/);
  assert.match(p.graph[1]!, /drawtext=text=b:/);
  assert.equal(p.audioMap, '1:a:0?');
  assert.equal(inputsOf(p.inputArgs).length, 2, 'no silence input when a tile gives the audio');
  const slate = mosaicPlan(mosaic('mosaic://a,b?labels=1&audio=b'), new Set(['a']));
  assert.equal(slate.audioMap, '2:a');
  assert.match(inputsOf(slate.inputArgs)[2]!, /^anullsrc/);
  assert.ok(!/drawtext=text=a/.test(mosaicPlan(mosaic('mosaic://a,b')).graph[0]!), 'no labels by default');
});

test('pipeline: encoded like a fake source (libx264, keyframes every segment, AAC) to pipe:1; live tiles from the context', () => {
  const inp = input('mosaic://a,b?size=320x240&fps=10', { mosaic: mosaic('mosaic://a,b?size=320x240&fps=10') });
  const s = stream([inp], undefined, { hls: { segmentDurationMs: 1000, window: 6 } });
  const r = buildPipelineArgs(s, inp, undefined, { liveTiles: new Set(['b']) })!;
  assert.deepEqual(r.outputs, [{ rendition: 'v1a1', fd: 1 }]);
  assert.equal(after(r.args, '-c:v'), 'libx264');
  assert.equal(after(r.args, '-b:v'), '300000');
  assert.equal(after(r.args, '-g'), '10');
  assert.equal(after(r.args, '-force_key_frames'), 'expr:gte(t,n_forced*1)');
  assert.equal(after(r.args, '-c:a'), 'aac');
  assert.deepEqual(allAfter(r.args, '-map'), ['[mosaic]', '2:a']);
  assert.match(fc(r.args), /^\[0:v:0\]null\[t0\];\[1:v:0\]fps=10,/);
  assert.equal(r.args.at(-1), 'pipe:1');
  // without a context (flux stream args from the config): every tile live
  assert.deepEqual(inputsOf(buildPipelineArgs(s, inp)!.args).slice(0, 2), ['/data/a/v1a1/index.m3u8', '/data/b/v1a1/index.m3u8']);
});

test('pipeline with a transcoder: the ladder encodes the mosaic picture; copy profiles are refused', () => {
  const inp = input('mosaic://a,b', { mosaic: mosaic('mosaic://a,b') });
  const t = transcoder({ video: [profile(0, { width: 1280, height: 720 }), profile(1, { width: 640, height: 360, bitrate: 500_000 })] });
  const r = buildPipelineArgs(stream([inp], t), inp)!;
  const g = fc(r.args);
  assert.match(g, /xstack=inputs=2:.*\[mosaic\];\[mosaic\]split=2\[s0\]\[s1\];\[s0\]scale=w=1280:h=720/);
  assert.deepEqual(allAfter(r.args, '-map'), ['[v0]', '[v1]', '2:a']);
  assert.deepEqual(r.outputs.map((o) => o.fd), [1, 3]);
  assert.ok(!r.args.includes('+genpts'));
  const copy = transcoder({ video: [profile(0, { codec: 'copy' })] });
  assert.throws(() => buildPipelineArgs(stream([inp], copy), inp), /no codec: copy/);
  // an unresolved mosaic says why
  assert.throws(() => buildPipelineArgs(stream([input('mosaic://a?layout=0x0')]), input('mosaic://a?layout=0x0')), /layout=0x0/);
});

test('resolution links tiles to the tile streams\' live playlists (dvr root, ladder rendition, data-dir fallback)', () => {
  const cfg = resolveConfig(
    {
      server: { data_dir: '/srv/data' },
      streams: {
        'cams/door': { inputs: [{ url: 'fake://testsrc' }], hls: { segment_duration: '1s' } },
        rec: { inputs: [{ url: 'fake://testsrc' }], dvr: { path: '/mnt/rec' }, transcoder: { video: [{ bitrate: '1M', size: '640x360' }] } },
        wall: { inputs: [{ url: 'mosaic://cams/door,rec,ghost?labels=1' }] },
      },
    } as never,
    '/etc/flux/flux.yaml',
  );
  const m = cfg.streams.wall!.inputs[0]!.mosaic!;
  assert.deepEqual(m.tiles, [
    { name: 'cams/door', playlist: '/srv/data/cams/door/v1a1/index.m3u8', segmentDurationMs: 1000 },
    { name: 'rec', playlist: '/mnt/rec/v1a1/index.m3u8', fallbackPlaylist: '/srv/data/rec/v1a1/index.m3u8', segmentDurationMs: 2000 },
    { name: 'ghost', playlist: '/srv/data/ghost/v1a1/index.m3u8', segmentDurationMs: 2000 },
  ]);
  assert.equal(m.labels, true);
  // a URL that does not parse is left unresolved (validate reports it)
  const s = { ...cfg.streams.wall!, inputs: [input('mosaic://?x')] };
  linkMosaicInputs({ wall: s }, '/srv/data');
  assert.equal(s.inputs[0]!.mosaic, undefined);
});

test('real ffmpeg accepts the graph: every tile a slate, labels, 2x2 with an empty cell', { timeout: 30_000 }, () => {
  const p = mosaicPlan(mosaic('mosaic://a,b,c?size=160x120&fps=10&labels=1'), new Set());
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', ...p.inputArgs, '-filter_complex', p.graph.join(';'), '-map', p.videoLabel, '-frames:v', '2', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const r = spawnSync('ffmpeg', args, { maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, String(r.stderr));
  const frame = r.stdout.subarray(0, 160 * 120 * 3);
  const px = (x: number, y: number) => [...frame.subarray((y * 160 + x) * 3, (y * 160 + x) * 3 + 3)];
  assert.ok(px(4, 4).every((v) => Math.abs(v - 0x20) <= 2), `slate corner ${px(4, 4)}`);
  assert.deepEqual(px(120, 100), [0, 0, 0], 'empty cell black');
});
