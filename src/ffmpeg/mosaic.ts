/**
 * `mosaic://` inputs: one picture built from other streams of the same node (ffmpeg xstack), as
 * Flussonic's `mosaic://`.
 *
 *   mosaic://NAME[,NAME…]?layout=CxR&size=WxH&fps=N&bitrate=B&labels=1&audio=NAME
 *
 * Tiles are stream names, comma-separated (a name with a comma in it is written `%2C`; names may
 * hold `/`). Options:
 *   layout=CxR   columns x rows (default: the smallest near-square grid that fits: 1 → 1x1,
 *                2 → 2x1, 3–4 → 2x2, 5–6 → 3x2, 7–9 → 3x3 …)
 *   size=WxH     output frame, even numbers (default 1280x720); each cell is W/C x H/R (even)
 *   fps=N        output frame rate, integer or N/M (default 25)
 *   bitrate=B    video bitrate (default 0.08 bit per pixel per frame: 1.8M at 1280x720/25,
 *                4.1M at 1920x1080/25); a stream with a transcoder encodes with its ladder instead
 *   labels=1|0   draw each tile's stream name in its top-left corner (default 0)
 *   audio=NAME   the audio of that tile (one of the tiles); default: silent AAC, so players
 *                always have an audio track
 *
 * Each live tile is ffmpeg's hls demuxer on the tile stream's live media playlist on disk (its
 * first rendition), from its newest segment, brought to the output rate, scaled to fit its cell
 * (aspect kept, padded black). A tile that has no live output is a dark slate with its name
 * (lavfi color + drawtext, paced with -re). Which tiles are live is the supervisor's business
 * (src/daemons/stream/mosaic-tiles.ts): this module only builds the arguments for a given set.
 *
 * A live tile that stops updating ends its demuxer after `max_reload` playlist reloads (about
 * three target durations) instead of blocking: xstack then holds its last picture, so one stalled
 * tile never stalls the mosaic; the supervisor replaces it with a slate on its next check.
 */
import { InputError } from '../core/errors.js';
import { parseBitrate, parseFrameSize } from '../config/units.js';
import type { ResolvedMosaic } from '../config/model.js';
import { escapeFilterValue } from './quote.js';

export const MOSAIC_OPTIONS = ['layout', 'size', 'fps', 'bitrate', 'labels', 'audio'] as const;

/** What a mosaic:// URL says (before its tiles are resolved to playlists). */
export interface MosaicUrl {
  tiles: string[];
  cols: number;
  rows: number;
  width: number;
  height: number;
  /** frame rate as ffmpeg writes it (`25`, `30000/1001`) */
  fps: string;
  fpsValue: number;
  /** from bitrate=; absent: mosaicBitrate() or the transcoder's ladder */
  bitrate?: number;
  labels: boolean;
  audio?: string;
}

/** Background of a slate: dark grey, so a missing tile is told apart from a black picture and an empty cell. */
export const SLATE_COLOR = '0x202020';

/** The smallest near-square grid for n tiles: columns ≥ rows (1x1, 2x1, 2x2, 3x2, 3x3, 4x3 …). */
export function defaultGrid(n: number): { cols: number; rows: number } {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  return { cols, rows: Math.max(1, Math.ceil(n / cols)) };
}

function fail(msg: string): never {
  throw new InputError(`mosaic:// ${msg}`);
}

/** Parse a mosaic:// URL; throws InputError with the reason (empty tile list, bad or unknown option). */
export function parseMosaicUrl(url: string): MosaicUrl {
  const m = /^mosaic:\/\/([^?#]*)(?:\?([^#]*))?$/i.exec(url);
  if (!m) fail(`"${url}": expected mosaic://NAME[,NAME…][?options]`);
  const list = m[1]!;
  if (!list) fail('needs at least one tile: mosaic://NAME[,NAME…]');
  const tiles = list.split(',').map((raw) => {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      fail(`tile "${raw}": bad %-escape`);
    }
    if (!name) fail(`"${list}": empty tile name (two commas, or a comma at an end)`);
    return name;
  });
  const out: MosaicUrl = { tiles, ...defaultGrid(tiles.length), width: 1280, height: 720, fps: '25', fpsValue: 25, labels: false };
  for (const [key, value] of new URLSearchParams(m[2] ?? '')) {
    switch (key) {
      case 'layout': {
        const g = /^(\d{1,2})x(\d{1,2})$/i.exec(value);
        const cols = Number(g?.[1]);
        const rows = Number(g?.[2]);
        if (!g || cols < 1 || rows < 1) fail(`option layout=${value}: expected COLUMNSxROWS, each 1..99, e.g. 2x2`);
        out.cols = cols;
        out.rows = rows;
        break;
      }
      case 'size': {
        let s;
        try {
          s = parseFrameSize(value);
        } catch (e) {
          fail(`option size=${value}: ${(e as Error).message}`);
        }
        if (s.width <= 0 || s.height <= 0 || s.width % 2 || s.height % 2 || s.width > 7680 || s.height > 4320) {
          fail(`option size=${value}: expected even positive WIDTHxHEIGHT up to 7680x4320`);
        }
        out.width = s.width;
        out.height = s.height;
        break;
      }
      case 'fps': {
        const f = /^(\d+)(?:\/(\d+))?$/.exec(value);
        const v = f ? Number(f[1]) / Number(f[2] ?? 1) : NaN;
        if (!f || !(v > 0 && v <= 120)) fail(`option fps=${value}: expected a frame rate like 25 or 30000/1001 (at most 120)`);
        out.fps = value;
        out.fpsValue = v;
        break;
      }
      case 'bitrate':
        try {
          out.bitrate = parseBitrate(value);
        } catch (e) {
          fail(`option bitrate=${value}: ${(e as Error).message}`);
        }
        if (!(out.bitrate >= 50_000)) fail(`option bitrate=${value}: too low (at least 50k)`);
        break;
      case 'labels':
        if (/^(1|true|yes|on)$/i.test(value)) out.labels = true;
        else if (/^(0|false|no|off)$/i.test(value)) out.labels = false;
        else fail(`option labels=${value}: expected 1 or 0`);
        break;
      case 'audio':
        if (!tiles.includes(value)) fail(`option audio=${value}: not one of the tiles (${tiles.join(', ')})`);
        out.audio = value;
        break;
      default:
        fail(`unknown option "${key}" (known: ${MOSAIC_OPTIONS.join(', ')})`);
    }
  }
  if (out.cols * out.rows < tiles.length) {
    fail(`layout=${out.cols}x${out.rows} has ${out.cols * out.rows} cells for ${tiles.length} tiles`);
  }
  const cell = cellSize(out);
  if (cell.width < 16 || cell.height < 16) fail(`size=${out.width}x${out.height} with layout=${out.cols}x${out.rows} gives ${cell.width}x${cell.height} cells (at least 16x16)`);
  return out;
}

/** A problem with a mosaic:// URL as one line, or undefined (for config validation). */
export function mosaicUrlProblem(url: string): string | undefined {
  try {
    parseMosaicUrl(url);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Cell size: the frame divided by the grid, rounded down to even numbers (yuv420p). */
export function cellSize(m: Pick<MosaicUrl, 'width' | 'height' | 'cols' | 'rows'>): { width: number; height: number } {
  const even = (v: number) => Math.floor(v / 2) * 2;
  return { width: even(m.width / m.cols), height: even(m.height / m.rows) };
}

/** Default video bitrate: ~0.08 bit per pixel per frame, 300k floor, 8M ceiling. */
export function mosaicBitrate(m: Pick<MosaicUrl, 'width' | 'height' | 'fpsValue' | 'bitrate'>): number {
  if (m.bitrate) return m.bitrate;
  return Math.min(8_000_000, Math.max(300_000, Math.round((m.width * m.height * m.fpsValue * 0.08) / 1000) * 1000));
}

/** How the mosaic's ffmpeg reads its tiles and builds its picture. */
export interface MosaicPlan {
  /** input options and `-i …` for every live tile, every slate and the silent audio, in order */
  inputArgs: string[];
  /** filtergraph chains (joined with `;`) ending in the `[mosaic]` label */
  graph: string[];
  /** label of the composed video in `graph` */
  videoLabel: string;
  /** the `-map` value of the output audio (`N:a:0?` of the audio tile, or `N:a` of the silence) */
  audioMap: string;
  /** tiles in order, with whether each is read live (false: a slate) */
  tiles: { name: string; live: boolean }[];
}

/**
 * Reading a tile's live playlist: from its newest segment, probing briefly (the segment on disk
 * already holds PAT/PMT and a keyframe), and ending — rather than blocking the whole mosaic — when
 * the playlist has not grown for about three target durations (max_reload counts reloads at half
 * a target duration each while no new segment comes).
 */
export function tileInputArgs(playlist: string): string[] {
  return [
    '-thread_queue_size', '512',
    '-analyzeduration', '500000',
    '-probesize', '500000',
    '-live_start_index', '-1',
    '-max_reload', '6',
    '-f', 'hls',
    '-i', playlist,
  ];
}

function slateGraph(name: string, w: number, h: number, fps: string): string {
  const big = Math.max(10, Math.round(h / 9));
  const small = Math.max(8, Math.round(h / 14));
  const text = escapeFilterValue(name);
  return [
    `color=c=${SLATE_COLOR}:size=${w}x${h}:rate=${fps}`,
    `drawtext=text=${text}:expansion=none:fontcolor=0xb0b0b0:fontsize=${big}:x=(w-text_w)/2:y=(h-text_h)/2`,
    `drawtext=text=${escapeFilterValue('no signal')}:expansion=none:fontcolor=0x808080:fontsize=${small}:x=(w-text_w)/2:y=(h+text_h)/2+${big}`,
    'format=yuv420p',
  ].join(',');
}

/**
 * The inputs and filtergraph of a mosaic. `live`: names of the tiles to read live (the others are
 * slates); undefined = every tile live (what `flux stream args` shows from the config alone).
 */
export function mosaicPlan(m: ResolvedMosaic, live?: ReadonlySet<string>): MosaicPlan {
  if (!m.tiles.length) throw new InputError('mosaic:// needs at least one tile');
  const cell = cellSize(m);
  const { width: cw, height: ch } = cell;
  const inputArgs: string[] = [];
  const graph: string[] = [];
  const tiles: MosaicPlan['tiles'] = [];
  let nextInput = 0;
  let audioMap: string | undefined;
  const labelSize = Math.max(8, Math.round(ch / 12));
  m.tiles.forEach((t, i) => {
    const isLive = live ? live.has(t.name) : true;
    tiles.push({ name: t.name, live: isLive });
    const k = nextInput++;
    if (isLive) {
      inputArgs.push(...tileInputArgs(t.playlist));
      const chain = [
        `fps=${m.fps}`,
        `scale=w=${cw}:h=${ch}:force_original_aspect_ratio=decrease:force_divisible_by=2`,
        `pad=w=${cw}:h=${ch}:x=(ow-iw)/2:y=(oh-ih)/2:color=black`,
        'setsar=1',
        'format=yuv420p',
      ];
      if (m.labels) {
        chain.push(`drawtext=text=${escapeFilterValue(t.name)}:expansion=none:fontcolor=white:fontsize=${labelSize}:x=${Math.round(labelSize / 2)}:y=${Math.round(labelSize / 2)}:box=1:boxcolor=black@0.5:boxborderw=${Math.max(2, Math.round(labelSize / 4))}`);
      }
      graph.push(`[${k}:v:0]${chain.join(',')}[t${i}]`);
      if (m.audio === t.name) audioMap = `${k}:a:0?`;
    } else {
      // paced at native speed: with every tile a slate nothing else would pace the output
      inputArgs.push('-re', '-f', 'lavfi', '-i', slateGraph(t.name, cw, ch, m.fps));
      graph.push(`[${k}:v:0]null[t${i}]`);
    }
  });
  if (!audioMap) {
    const k = nextInput++;
    inputArgs.push('-re', '-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000');
    audioMap = `${k}:a`;
  }
  // cells not taken by a tile and the rounding margin are black (fill=, pad)
  const fitFrame = `pad=w=${m.width}:h=${m.height}:x=0:y=0:color=black`;
  if (m.tiles.length === 1) {
    graph.push(`[t0]${fitFrame}[mosaic]`);
  } else {
    const layout = m.tiles.map((_, i) => `${(i % m.cols) * cw}_${Math.floor(i / m.cols) * ch}`).join('|');
    graph.push(`${m.tiles.map((_, i) => `[t${i}]`).join('')}xstack=inputs=${m.tiles.length}:layout=${layout}:fill=black,${fitFrame}[mosaic]`);
  }
  return { inputArgs, graph, videoLabel: '[mosaic]', audioMap, tiles };
}
