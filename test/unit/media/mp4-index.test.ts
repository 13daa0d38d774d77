/** The MP4 index reader behind VOD: moov anywhere, keyframe times, segment plan, bad files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Mp4Error, parseMoov, planSegments, scanTopLevel } from '../../../src/media/mp4-index.js';

const FFMPEG = process.env.FLUX_FFMPEG ?? 'ffmpeg';
const dir = mkdtempSync(path.join(os.tmpdir(), 'flux-mp4-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function make(name: string, args: string[]): Buffer {
  const f = path.join(dir, name);
  execFileSync(FFMPEG, ['-v', 'error', ...args, '-y', f]);
  return readFileSync(f);
}
const reader = (buf: Buffer) => async (pos: number, len: number) => buf.subarray(pos, Math.min(buf.length, pos + len));
async function index(buf: Buffer) {
  const { moov, boxes } = await scanTopLevel(buf.length, reader(buf));
  return { idx: parseMoov(buf.subarray(moov.offset, moov.offset + moov.size)), boxes };
}
const SRC = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '13'];
const H264 = (g: number, bf: number) => ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(g), '-keyint_min', String(g), '-sc_threshold', '0', '-bf', String(bf), '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'];

test('moov at the end or first: same index; keyframe times with B-frames; tracks', async () => {
  const endBuf = make('end.mp4', [...SRC, ...H264(25, 2)]);
  const startBuf = make('start.mp4', ['-i', path.join(dir, 'end.mp4'), '-c', 'copy', '-movflags', '+faststart']);
  const a = await index(endBuf);
  const b = await index(startBuf);
  assert.deepEqual(a.boxes.map((x) => x.type).filter((t) => t !== 'free'), ['ftyp', 'mdat', 'moov']);
  assert.deepEqual(b.boxes.map((x) => x.type).filter((t) => t !== 'free'), ['ftyp', 'moov', 'mdat']);
  assert.deepEqual(a.idx.keyframes, b.idx.keyframes);
  assert.deepEqual(a.idx.keyframes.map((k) => Math.round(k * 1000) / 1000), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.ok(a.idx.keyframeLead.every((l) => Math.abs(l - 0.08) < 1e-9), 'two B-frames at 25 fps: keyframes show 80 ms after they decode');
  assert.ok(Math.abs(a.idx.durationSec - 13) < 0.05);
  assert.deepEqual(a.idx.tracks.map((t) => [t.kind, t.codec, t.width, t.height]), [['video', 'avc1', 160, 120], ['audio', 'mp4a', undefined, undefined]]);
  assert.deepEqual(planSegments(a.idx, 6).map((s) => [Math.round(s.start), Math.round(s.duration * 1000) / 1000]), [[0, 6], [6, 6], [12, 1]]);
  // keyframes every 4 s: a 6 s target gives 8 s segments (cut only on keyframes)
  const sparse = await index(make('sparse.mp4', [...SRC, ...H264(100, 0)]));
  assert.deepEqual(sparse.idx.keyframeLead.every((l) => l === 0), true, 'no B-frames: no lead');
  assert.deepEqual(planSegments(sparse.idx, 6).map((s) => [Math.round(s.start), Math.round(s.duration)]), [[0, 8], [8, 5]]);
});

test('audio-only files are cut by time; truncated and non-MP4 files are refused with the reason', async () => {
  const audio = await index(make('a.m4a.mp4', ['-f', 'lavfi', '-i', 'sine', '-t', '14', '-c:a', 'aac']));
  assert.deepEqual(audio.idx.keyframes, []);
  assert.deepEqual(planSegments(audio.idx, 6).map((s) => Math.round(s.start)), [0, 6, 12]);
  const full = readFileSync(path.join(dir, 'end.mp4'));
  const err = async (buf: Buffer) => {
    try {
      await index(buf);
    } catch (e) {
      assert.ok(e instanceof Mp4Error, String(e));
      return e.message;
    }
    assert.fail('accepted');
  };
  assert.match(await err(full.subarray(0, full.length - 100)), /^truncated MP4: box moov at offset \d+ needs \d+ bytes, the file has \d+ left$/);
  assert.match(await err(full.subarray(0, 5000)), /^truncated MP4: box mdat/);
  assert.equal(await err(Buffer.from('hello world, not a movie')), 'not an MP4 file (no ftyp/moov boxes)');
  // ftyp + mdat, the moov never written (a recording that was cut off)
  const mdat = Buffer.alloc(16);
  mdat.writeUInt32BE(16, 0);
  mdat.write('mdat', 4, 'latin1');
  const ftyp = full.subarray(0, full.readUInt32BE(0));
  assert.equal(await err(Buffer.concat([ftyp, mdat])), 'MP4 has no moov box (index missing: an unfinished recording?)');
  // a corrupt moov: a child box that overruns its parent
  const { moov } = await scanTopLevel(full.length, reader(full));
  const m = Buffer.from(full.subarray(moov.offset, moov.offset + moov.size));
  m.writeUInt32BE(0x7fffffff, 8);
  assert.throws(() => parseMoov(m), /corrupt moov/);
});
