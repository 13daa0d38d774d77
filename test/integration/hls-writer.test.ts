/**
 * HlsWriter end to end: real ffmpeg MPEG-TS in, segments and playlists on disk out, checked with
 * tools that are not ours: ffprobe (every segment decodes, keyframe first, timestamps continuous)
 * and the hls-parser package in strict mode (every playlist version the writer published).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parse, setOptions, types } from 'hls-parser';
import { HlsWriter, type WrittenSegment, type HlsWriterOptions } from '../../src/daemons/stream/hls-writer.js';
import { MasterWriter } from '../../src/daemons/stream/master-writer.js';
import { DEFAULT_COALESCE_BYTES } from '../../src/daemons/stream/hls-write-queue.js';
import { defer, generateTs, probePackets, startSource, tempDir, type ProbedPacket } from './hls-support.js';

setOptions({ strictMode: true, silent: true });

const FRAME = 0.04; // 25 fps

interface Snapshot {
  text: string;
  /** URIs named by the playlist that did not exist when it was published */
  missing: string[];
}

/** Writer whose every published playlist is captured (and its URIs checked on disk) right after each segment. */
async function openRecorded(t: TestContext, opts: Omit<HlsWriterOptions, 'onSegment'>, onSeg?: (seg: WrittenSegment, w: HlsWriter) => Promise<void> | void) {
  const written: WrittenSegment[] = [];
  const snapshots: Snapshot[] = [];
  const dir = path.join(opts.root, opts.rendition);
  const holder: { w?: HlsWriter } = {};
  const w = await HlsWriter.open({
    ...opts,
    onSegment: async (seg) => {
      written.push(seg);
      const text = await readFile(path.join(dir, 'index.m3u8'), 'utf8');
      const missing: string[] = [];
      for (const line of text.split('\n')) {
        if (line && !line.startsWith('#')) {
          try {
            await stat(path.join(dir, line));
          } catch {
            missing.push(line);
          }
        }
      }
      snapshots.push({ text, missing });
      await onSeg?.(seg, holder.w!);
    },
  });
  holder.w = w;
  defer(t, () => w.close());
  return { w, written, snapshots };
}

function feed(w: HlsWriter, ts: Buffer, chunk = 64 * 1024): void {
  for (let i = 0; i < ts.length; i += chunk) w.write(ts.subarray(i, i + chunk));
}

/**
 * Every published playlist parses in strict mode; media sequence never goes back; a URI keeps its
 * media sequence and discontinuity sequence in every version; PDT is strictly increasing and
 * chains with EXTINF within a version; window size and target duration hold.
 */
function checkSnapshots(snapshots: Snapshot[], window: number, targetDuration: number): types.MediaPlaylist[] {
  const parsed: types.MediaPlaylist[] = [];
  const seqOf = new Map<string, number>();
  const dseqOf = new Map<string, number>();
  const pdtOf = new Map<string, number>();
  let lastMsn = -1;
  let lastPdt = -Infinity;
  for (const [i, snap] of snapshots.entries()) {
    assert.deepEqual(snap.missing, [], `playlist #${i} named segments that were not on disk`);
    const pl = parse(snap.text);
    assert.ok(!pl.isMasterPlaylist, 'a media playlist');
    const mp = pl as types.MediaPlaylist;
    parsed.push(mp);
    assert.equal(mp.endlist, false, 'live playlist has no ENDLIST');
    assert.equal(mp.targetDuration, targetDuration, 'target duration');
    assert.ok(mp.segments.length >= 1 && mp.segments.length <= window, `window of ${mp.segments.length}`);
    assert.ok((mp.mediaSequenceBase ?? 0) >= lastMsn, `media sequence went back: ${mp.mediaSequenceBase} < ${lastMsn}`);
    lastMsn = mp.mediaSequenceBase ?? 0;
    let prevEnd: number | undefined;
    for (const s of mp.segments) {
      assert.ok(s.programDateTime instanceof Date, 'every segment has a PDT');
      const pdt = s.programDateTime.getTime();
      if (seqOf.has(s.uri)) {
        assert.equal(seqOf.get(s.uri), s.mediaSequenceNumber, `${s.uri} changed media sequence`);
        assert.equal(dseqOf.get(s.uri), s.discontinuitySequence, `${s.uri} changed discontinuity sequence`);
        assert.equal(pdtOf.get(s.uri), pdt, `${s.uri} changed PDT`);
      } else {
        assert.ok(pdt > lastPdt, `PDT not increasing at ${s.uri}`);
        lastPdt = pdt;
        seqOf.set(s.uri, s.mediaSequenceNumber);
        dseqOf.set(s.uri, s.discontinuitySequence);
        pdtOf.set(s.uri, pdt);
      }
      // the file name carries the PDT and the duration
      const m = /(\d+)-(\d+)\.ts$/.exec(s.uri)!;
      assert.equal(Number(m[1]), pdt, 'file name = PDT');
      assert.equal(Math.round(s.duration * 1000), Number(m[2]), 'file name = EXTINF');
      if (prevEnd !== undefined && !s.discontinuity) assert.equal(pdt, prevEnd, 'PDT chains with EXTINF');
      if (prevEnd !== undefined) assert.ok(pdt >= prevEnd, 'PDT monotonic across discontinuities');
      prevEnd = pdt + Number(m[2]);
    }
  }
  // media sequence numbers are consecutive in PDT order
  const bySeq = [...seqOf.entries()].sort((a, b) => a[1] - b[1]);
  for (let i = 1; i < bySeq.length; i++) {
    assert.equal(bySeq[i]![1], bySeq[i - 1]![1] + 1, 'media sequence numbers are consecutive');
    assert.ok(pdtOf.get(bySeq[i]![0])! > pdtOf.get(bySeq[i - 1]![0])!, 'media sequence follows PDT');
  }
  return parsed;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
  }
  return out.sort();
}

const video = (pk: ProbedPacket[]) => pk.filter((p) => p.type === 'video');
const audio = (pk: ProbedPacket[]) => pk.filter((p) => p.type === 'audio');

test('live ffmpeg at real-time pace: whole segments on keyframes, valid playlists, master, restart continues with a discontinuity', async (t) => {
  const root = await tempDir(t);
  const window = 4;
  const master = new MasterWriter({ root, renditions: ['v1a1'] });
  const probes: Promise<Awaited<ReturnType<typeof probePackets>>>[] = [];
  const base = { root, rendition: 'v1a1', segmentDurationMs: 2000, window, keepSegments: false };
  const a = await openRecorded(t, base, async (seg, w) => {
    probes.push(probePackets(seg.path)); // before the window moves on and deletes it
    await master.updateFrom(w);
  });
  const src = startSource({ seconds: 15, realtime: true }, (c) => a.w.write(c), t);
  assert.equal(await src.done, 0, 'ffmpeg ran');
  await a.w.close();
  await master.flush();

  const segs = a.written;
  assert.ok(segs.length >= 7, `segments written: ${segs.length}`);
  assert.equal(a.w.stats.lastError, null);
  assert.equal(a.w.stats.droppedSegments, 0);
  // 1 s GOP, 2 s target: every segment but the flushed last one is exactly two GOPs
  for (const s of segs.slice(0, -1)) {
    assert.ok(Math.abs(s.durationMs - 2000) <= 1, `segment duration ${s.durationMs}`);
    assert.equal(s.keyframe, true);
  }
  assert.ok(segs.at(-1)!.durationMs > 0 && segs.at(-1)!.durationMs <= 2000);
  segs.forEach((s, i) => assert.equal(s.mediaSequence, i));

  // ffprobe: every segment reads without an error, starts with a keyframe, and its timestamps
  // continue exactly where the previous segment's stopped
  const probed = await Promise.all(probes);
  let prevVideoEnd: number | undefined;
  let prevAudioEnd: number | undefined;
  for (const [i, p] of probed.entries()) {
    assert.equal(p.code, 0, `ffprobe exit code for segment ${i}`);
    assert.equal(p.errors, '', `ffprobe errors in segment ${i}: ${p.errors}`);
    const v = video(p.packets);
    const au = audio(p.packets);
    assert.ok(v.length > 0 && au.length > 0, 'video and audio in every segment');
    assert.equal(v[0]!.key, true, `segment ${i} starts with a keyframe`);
    const vStart = Math.min(...v.map((x) => x.pts));
    const vEnd = Math.max(...v.map((x) => x.pts)) + FRAME;
    const aStart = Math.min(...au.map((x) => x.pts));
    const aEnd = Math.max(...au.map((x) => x.pts + x.duration));
    assert.ok(Math.abs(vEnd - vStart - segs[i]!.durationMs / 1000) < 0.002, `segment ${i}: video spans ${vEnd - vStart}s, EXTINF ${segs[i]!.durationMs}ms`);
    if (prevVideoEnd !== undefined) assert.ok(Math.abs(vStart - prevVideoEnd) < 0.002, `video PTS gap before segment ${i}: ${vStart - prevVideoEnd}`);
    if (prevAudioEnd !== undefined) assert.ok(Math.abs(aStart - prevAudioEnd) < 0.03, `audio PTS gap before segment ${i}: ${aStart - prevAudioEnd}`);
    prevVideoEnd = vEnd;
    prevAudioEnd = aEnd;
  }

  const parsed = checkSnapshots(a.snapshots, window, 2);
  assert.equal(parsed.at(-1)!.mediaSequenceBase, segs.length - window);

  // master: one variant, measured peak, media info from the demuxer
  const mtext = await readFile(path.join(root, 'index.m3u8'), 'utf8');
  const m = parse(mtext) as types.MasterPlaylist;
  assert.ok(m.isMasterPlaylist);
  assert.equal(m.variants.length, 1);
  const v0 = m.variants[0]!;
  assert.equal(v0.uri, 'tracks-v1a1/index.m3u8');
  const peak = Math.max(...segs.filter((s) => s.durationMs >= 1000).map((s) => (s.bytes * 8000) / s.durationMs));
  assert.ok(v0.bandwidth >= peak * 0.98 && v0.bandwidth <= peak * 1.1, `BANDWIDTH ${v0.bandwidth} vs measured peak ${peak}`);
  assert.ok(v0.averageBandwidth! > 0 && v0.averageBandwidth! <= v0.bandwidth);
  assert.deepEqual(v0.resolution, { width: 320, height: 240 });
  assert.equal(v0.frameRate, 25);
  assert.match(v0.codecs ?? '', /^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/i);

  // old segments were deleted once out of the window (+2 grace); no temp files left
  const files = await listFiles(path.join(root, 'v1a1'));
  assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), []);
  assert.equal(files.filter((f) => f.endsWith('.ts')).length, window + 2);
  assert.ok(files.includes('live.json') && files.includes('index.m3u8'));

  // restart on the same directory: the sequence continues, the first new segment is a discontinuity
  const last = segs.at(-1)!;
  const b = await openRecorded(t, base);
  feed(b.w, await generateTs({ seconds: 5 }));
  await b.w.close();
  assert.ok(b.written.length >= 2);
  const first = b.written[0]!;
  assert.equal(first.mediaSequence, last.mediaSequence + 1, 'media sequence continues across the restart');
  assert.equal(first.discontinuity, true, 'restart = discontinuity');
  assert.ok(first.startMs >= last.startMs + last.durationMs, 'PDT does not go back');
  const pl = parse(b.snapshots[0]!.text) as types.MediaPlaylist;
  const idx = pl.segments.findIndex((s) => s.uri === first.uri);
  assert.ok(idx > 0, 'old segments are still in the window after the restart');
  assert.equal(pl.segments[idx]!.discontinuity, true);
  assert.equal(pl.segments[idx - 1]!.uri, last.uri);
  checkSnapshots([...a.snapshots, ...b.snapshots], window, 2);
});

test('60 s of content faster than real time: sequence and PDT monotonic, window bounded, nothing leaks', async (t) => {
  const root = await tempDir(t);
  const window = 6;
  const a = await openRecorded(t, { root, rendition: 'v1a1', segmentDurationMs: 2000, window, keepSegments: false });
  const src = startSource({ seconds: 60 }, (c) => a.w.write(c), t);
  assert.equal(await src.done, 0);
  await a.w.close();
  assert.equal(a.written.length, 30);
  const parsed = checkSnapshots(a.snapshots, window, 2);
  assert.equal(parsed.at(-1)!.mediaSequenceBase, 30 - window);
  assert.ok(parsed.every((p) => p.segments.every((s) => !s.discontinuity)), 'no discontinuity in a continuous source');
  const files = await listFiles(path.join(root, 'v1a1'));
  assert.equal(files.filter((f) => f.endsWith('.ts')).length, window + 2, 'window + grace segments on disk');
  assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), []);
  const state = JSON.parse(await readFile(path.join(root, 'v1a1', 'live.json'), 'utf8')) as { mediaSequence: number; segments: unknown[] };
  assert.equal(state.mediaSequence, 30 - window);
  assert.equal(state.segments.length, window);
});

test('restart recovery without live.json: from the old playlist, then from the segment files alone; DVR keeps segments', async (t) => {
  const root = await tempDir(t);
  const clip = await generateTs({ seconds: 6 });
  const base = { root, rendition: 'v1a1', segmentDurationMs: 2000, window: 5, keepSegments: true };
  const runs: { written: WrittenSegment[]; snapshots: Snapshot[] }[] = [];
  const run = async () => {
    const r = await openRecorded(t, base);
    feed(r.w, clip);
    await r.w.close();
    runs.push(r);
    return r;
  };
  const r1 = await run();
  assert.equal(r1.written.length, 3);

  // corrupt state: recover from index.m3u8, sequence continues exactly
  await writeFile(path.join(root, 'v1a1', 'live.json'), '{"version":1, trunc');
  const r2 = await run();
  assert.equal(r2.written[0]!.mediaSequence, r1.written.at(-1)!.mediaSequence + 1);
  assert.equal(r2.written[0]!.discontinuity, true);

  // no state, no playlist: the window is rebuilt from the newest segment files; the sequence
  // (derived from time) does not go back
  await rm(path.join(root, 'v1a1', 'live.json'));
  await rm(path.join(root, 'v1a1', 'index.m3u8'));
  const r3 = await run();
  assert.ok(r3.written[0]!.mediaSequence > r2.written.at(-1)!.mediaSequence, 'sequence moved forward');
  assert.equal(r3.written[0]!.discontinuity, true);
  const pl = parse(r3.snapshots[0]!.text) as types.MediaPlaylist;
  assert.equal(pl.segments.length, 5, 'rebuilt window + the new segment');
  assert.deepEqual(
    pl.segments.slice(0, 4).map((s) => s.uri),
    [r1.written.at(-1)!.uri, ...r2.written.map((s) => s.uri)],
    'the newest files on disk, in order',
  );
  for (const r of runs) checkSnapshots(r.snapshots, 5, 2);
  checkSnapshots([...r1.snapshots, ...r2.snapshots], 5, 2);

  // keepSegments (DVR): every segment ever written is still there
  const files = (await listFiles(path.join(root, 'v1a1'))).filter((f) => f.endsWith('.ts'));
  assert.equal(files.length, 9);
});

test('a segment that cannot be written is dropped, never named; the playlist goes on with a discontinuity', async (t) => {
  const root = await tempDir(t);
  const clip = await generateTs({ seconds: 6 });
  let clock = Date.UTC(2030, 0, 1, 10, 0, 0);
  const a = await openRecorded(t, { root, rendition: 'v1a1', segmentDurationMs: 2000, window: 6, keepSegments: false, now: () => clock });
  feed(a.w, clip);
  a.w.discontinuity(); // closes the open segment
  await a.w.drain();
  assert.equal(a.written.length, 3);
  const before = await readFile(path.join(root, 'v1a1', 'index.m3u8'), 'utf8');

  // a regular file where the next segments' year directory must go: mkdir fails (ENOTDIR/EEXIST)
  clock = Date.UTC(2031, 5, 1, 12, 0, 0);
  await writeFile(path.join(root, 'v1a1', '2031'), 'in the way');
  feed(a.w, clip);
  a.w.discontinuity();
  await a.w.drain();
  assert.equal(a.written.length, 3, 'nothing new was published');
  assert.ok(a.w.stats.droppedSegments >= 3, `dropped ${a.w.stats.droppedSegments}`);
  assert.match(a.w.stats.lastError ?? '', /ENOTDIR|EEXIST/);
  assert.equal(await readFile(path.join(root, 'v1a1', 'index.m3u8'), 'utf8'), before, 'playlist untouched by failed segments');

  // the obstacle is gone: segments flow again, the first one after the gap is a discontinuity
  await rm(path.join(root, 'v1a1', '2031'));
  feed(a.w, clip);
  await a.w.close();
  assert.equal(a.written.length, 6);
  assert.equal(a.written[3]!.discontinuity, true);
  assert.equal(a.written[3]!.mediaSequence, 3);
  assert.ok(a.written[3]!.uri.startsWith('2031/06/01/12/'), a.written[3]!.uri);
  checkSnapshots(a.snapshots, 6, 2);
  const files = await listFiles(path.join(root, 'v1a1'));
  assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
});

test('PDT jumps to the wall clock (with a discontinuity) when the source falls behind; a restart sweeps leftovers', async (t) => {
  const root = await tempDir(t);
  const clip = await generateTs({ seconds: 8 });
  const T0 = Date.UTC(2030, 0, 1, 10, 30, 0);
  let clock = T0;
  const base = { root, rendition: 'v1a1', segmentDurationMs: 2000, window: 3, keepSegments: false, maxPdtLagMs: 5000, now: () => clock };
  const a = await openRecorded(t, base);
  feed(a.w, clip.subarray(0, Math.floor(clip.length / 2 / 188) * 188));
  await a.w.drain();
  clock += 60_000; // the source stalls for a minute, then goes on with continuous timestamps
  feed(a.w, clip.subarray(Math.floor(clip.length / 2 / 188) * 188));
  await a.w.close();
  const jumped = a.written.findIndex((s) => s.startMs >= T0 + 60_000);
  assert.ok(jumped > 0, 'some segments after the stall');
  assert.equal(a.written[jumped]!.startMs, T0 + 60_000, 'PDT re-anchored to the wall clock');
  assert.equal(a.written[jumped]!.discontinuity, true);
  for (let i = 1; i < jumped; i++) assert.equal(a.written[i]!.startMs, a.written[i - 1]!.startMs + a.written[i - 1]!.durationMs);
  checkSnapshots(a.snapshots, 3, 2);

  // leftovers of a crash next to the window: a temp file and a segment no state names
  const hourDir = path.dirname(a.written.at(-1)!.path);
  const orphan = path.join(hourDir, `${T0 - 120_000}-2000.ts`);
  await writeFile(orphan, 'x');
  await writeFile(path.join(hourDir, '.deadbeef.tmp'), 'x');
  const b = await openRecorded(t, base);
  await b.w.drain();
  const files = await listFiles(path.join(root, 'v1a1'));
  assert.ok(!files.some((f) => f.endsWith('.tmp')), 'temp file swept');
  assert.ok(!files.includes(path.relative(path.join(root, 'v1a1'), orphan)), 'orphan segment swept');
  for (const s of b.w.liveWindow) assert.ok(files.includes(s.uri), `window segment kept: ${s.uri}`);
});

test('coalesced writes: segments are byte-identical to a write per chunk, with far fewer writes', async (t) => {
  const ts = await generateTs({ seconds: 12 });
  const fh = await (await import('node:fs/promises')).open(path.join(await tempDir(t), 'probe'), 'w');
  const proto = Object.getPrototypeOf(fh) as { writev: (...a: unknown[]) => Promise<unknown> };
  await fh.close();
  const orig = proto.writev;
  let writevs = 0;
  proto.writev = function (this: unknown, ...a: unknown[]) {
    writevs++;
    return orig.apply(this, a);
  };
  t.after(() => void (proto.writev = orig));
  const run = async (coalesceBytes: number | undefined) => {
    const root = await tempDir(t);
    writevs = 0;
    const w = await HlsWriter.open({ root, rendition: 'v1a1', segmentDurationMs: 2000, window: 30, keepSegments: true, now: () => 1_700_000_000_000, coalesceBytes });
    // a live feed: UDP-datagram-sized chunks with the event loop (and the disk) running between them
    for (let i = 0; i < ts.length; i += 1316) {
      w.write(ts.subarray(i, i + 1316));
      await new Promise((r) => setTimeout(r, 1));
    }
    await w.close();
    const files = new Map<string, Buffer>();
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.endsWith('.ts')) files.set(path.relative(root, p), await readFile(p));
      }
    };
    await walk(root);
    return { files, writevs };
  };
  const perChunk = await run(0);
  const coalesced = await run(undefined);
  assert.ok(perChunk.files.size >= 5, `segments: ${perChunk.files.size}`);
  assert.deepEqual([...coalesced.files.keys()].sort(), [...perChunk.files.keys()].sort(), 'same segment files');
  for (const [name, bytes] of perChunk.files) assert.ok(coalesced.files.get(name)!.equals(bytes), `${name} differs`);
  // per segment: what came while its file was opening, then one write per DEFAULT_COALESCE_BYTES and
  // one at its close; against about one per chunk
  const bound = 2 * coalesced.files.size + Math.ceil(ts.length / DEFAULT_COALESCE_BYTES);
  assert.ok(coalesced.writevs <= bound, `writes: ${coalesced.writevs} coalesced (bound ${bound}) vs ${perChunk.writevs} per chunk`);
  assert.ok(perChunk.writevs >= 4 * coalesced.writevs, `writes: ${coalesced.writevs} coalesced vs ${perChunk.writevs} per chunk (${ts.length} B)`);
});
