/**
 * Demux + segment throughput of the native MPEG-TS path (src/media): a ~50 MB, 4 Mbit/s H.264/AAC TS
 * (generated once with ffmpeg into os.tmpdir() and cached by name) held in memory, fed in 64 KiB chunks
 * to a Segmenter with a no-op sink. The first (cold, JIT-compiling) pass is reported apart; after two
 * more warm-up passes, the mean of the timed passes is the metric (steady state, as in a long-running daemon).
 *
 *   node --import tsx bench/demux.ts        (or: npm run bench -- demux)
 *
 * Last stdout line: {"metrics":{"demux_segment_MBps":{...}},"notes":"..."}
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Segmenter, type SegmenterSink } from '../src/media/hls/segmenter.js';

const CHUNK = 64 * 1024;
const WARMUP_PASSES = 3;
const TIMED_PASSES = 5;
const FILE = join(tmpdir(), 'flux-bench-demux-h264-aac-720p25-4M-100s-v1.ts');

function ensureInput(): Buffer {
  if (!existsSync(FILE) || statSync(FILE).size < 40e6) {
    const tmp = `${FILE}.${process.pid}.part`;
    process.stderr.write(`generating ${FILE} with ffmpeg (once, ~15 s)...\n`);
    // prettier-ignore
    const args = [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '100', '-pix_fmt', 'yuv420p',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M', '-minrate', '4M', '-maxrate', '4M', '-bufsize', '4M',
      '-x264-params', 'nal-hrd=cbr', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', '128k', '-f', 'mpegts', tmp,
    ];
    const r = spawnSync(process.env.FLUX_FFMPEG ?? 'ffmpeg', args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing to clean */
      }
      throw new Error(`ffmpeg failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
    }
    renameSync(tmp, FILE);
  }
  return readFileSync(FILE);
}

const input = ensureInput();
const chunks: Buffer[] = [];
for (let o = 0; o < input.length; o += CHUNK) chunks.push(input.subarray(o, Math.min(o + CHUNK, input.length)));

let segments = 0;
let dataCalls = 0;
const sink: SegmenterSink = {
  openSegment() {
    segments++;
  },
  data() {
    dataCalls++;
  },
  closeSegment() {},
};

function pass(): number {
  const seg = new Segmenter(sink, { targetDurationMs: 2000 });
  const t0 = process.hrtime.bigint();
  for (const c of chunks) seg.push(c);
  seg.flush();
  const ns = Number(process.hrtime.bigint() - t0);
  if (seg.stats.ccErrors !== 0 || seg.stats.packets * 188 !== input.length) throw new Error('unexpected demux result');
  return ns;
}

const coldNs = pass(); // first pass: includes JIT compilation
for (let k = 1; k < WARMUP_PASSES; k++) pass();
segments = 0;
dataCalls = 0;
let totalNs = 0;
let bestNs = Infinity;
const cpu0 = process.cpuUsage();
for (let k = 0; k < TIMED_PASSES; k++) {
  const ns = pass();
  totalNs += ns;
  if (ns < bestNs) bestNs = ns;
}
const cpu = process.cpuUsage(cpu0);
const cpuMbps = (input.length * TIMED_PASSES) / 1e6 / ((cpu.user + cpu.system) / 1e6);
const mbps = (input.length * TIMED_PASSES) / 1e6 / (totalNs / 1e9);
const best = input.length / 1e6 / (bestNs / 1e9);
const cold = input.length / 1e6 / (coldNs / 1e9);
const perPass = segments / TIMED_PASSES;
console.log(
  `input ${(input.length / 1e6).toFixed(1)} MB in ${chunks.length} chunks; ${perPass} segments/pass, ` +
    `${(dataCalls / TIMED_PASSES).toFixed(0)} sink.data calls/pass; cold first pass ${cold.toFixed(1)} MB/s; ` +
    `steady mean ${mbps.toFixed(1)} MB/s, best pass ${best.toFixed(1)} MB/s, per CPU second ${cpuMbps.toFixed(1)} MB/s`,
);
console.log(
  JSON.stringify({
    metrics: {
      demux_segment_MBps: { value: Math.round(mbps * 10) / 10, unit: 'MB/s', better: 'higher' },
      demux_segment_cold_MBps: { value: Math.round(cold * 10) / 10, unit: 'MB/s', better: 'higher' },
      demux_segment_cpu_MBps: { value: Math.round(cpuMbps * 10) / 10, unit: 'MB/s', better: 'higher' },
    },
    notes: `Segmenter (TS demux + keyframe cuts, no-op sink), ${(input.length / 1e6).toFixed(1)} MB H.264 720p25 CBR 4 Mbit/s + AAC, 64 KiB chunks; demux_segment_MBps = mean of ${TIMED_PASSES} passes after ${WARMUP_PASSES} warm-up passes; cold = first pass incl. JIT; cpu = bytes per CPU second of the timed passes (less sensitive to a busy machine); one core, node ${process.version}`,
  }),
);
