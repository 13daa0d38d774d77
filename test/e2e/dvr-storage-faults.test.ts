/**
 * DVR storage faults on a real filesystem: a tiny tmpfs that fills up, and one remounted read-only
 * mid-run. Mounting needs root (chmod does not stop root); without it these tests skip.
 * Checks: live playlist continuity (media sequence, no discontinuity, program date time advancing
 * by segment durations), the supervisor status, the archive.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSupervisorProc, tempEnv, waitFor, writeSpec } from './supervisor-helpers.js';

const isRoot = process.getuid?.() === 0;
const canMount = isRoot && spawnSync('mount', ['--version']).status === 0;
const SKIP = !canMount && 'needs root to mount a tmpfs (chmod does not stop root; a non-root run cannot make one): skipped';

/** A tmpfs of `size` on a fresh mount point; unmounted (lazily: a supervisor may still hold files) and removed after the test. */
async function tmpfs(t: TestContext, size: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flux-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  t.after(async () => {
    spawnSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

interface PdtEntry {
  msn: number;
  pdt: number;
  durationMs: number;
  discontinuity: boolean;
}

function pdtEntries(text: string): PdtEntry[] {
  const msn0 = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  const out: PdtEntry[] = [];
  let pdt = NaN;
  let dur = 0;
  let disc = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line === '#EXT-X-DISCONTINUITY') disc = true;
    else if (line.startsWith('#EXTINF:')) dur = Math.round(parseFloat(line.slice(8)) * 1000);
    else if (line && !line.startsWith('#')) {
      out.push({ msn: msn0 + out.length, pdt, durationMs: dur, discontinuity: disc });
      disc = false;
    }
  }
  return out;
}

/** Poll the live playlist, collecting every entry seen, by media sequence. */
function watchPlaylist(file: () => string): { seen: Map<number, PdtEntry>; stop(): void } {
  const seen = new Map<number, PdtEntry>();
  const timer = setInterval(() => {
    readFile(file(), 'utf8').then(
      (text) => {
        for (const e of pdtEntries(text)) if (!seen.has(e.msn)) seen.set(e.msn, e);
      },
      () => {},
    );
  }, 200);
  return { seen, stop: () => clearInterval(timer) };
}

/** Consecutive media sequences, no discontinuity, each PDT = previous PDT + previous duration (±1 ms). */
function assertContinuous(seen: Map<number, PdtEntry>, from: number): void {
  const msns = [...seen.keys()].filter((m) => m >= from).sort((a, b) => a - b);
  assert.ok(msns.length >= 2, `only ${msns.length} segments seen`);
  for (let i = 1; i < msns.length; i++) {
    const a = seen.get(msns[i - 1]!)!;
    const b = seen.get(msns[i]!)!;
    assert.equal(b.msn, a.msn + 1, `media sequence jumps ${a.msn} → ${b.msn}`);
    assert.equal(b.discontinuity, false, `discontinuity at ${b.msn}`);
    assert.ok(Math.abs(b.pdt - (a.pdt + a.durationMs)) <= 1, `PDT of ${b.msn}: ${b.pdt - a.pdt} ms after ${a.msn} (duration ${a.durationMs})`);
  }
}

const FAKE = 'fake://testsrc2?size=320x240&fps=15&bitrate=600k';

test('full DVR disk (1 MiB tmpfs): the oldest segments are evicted before writes fail; no segment lost, live continuous', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const env = await tempEnv(t, 'flux-dvrfull-');
  const mnt = await tmpfs(t, '1m');
  const { file, stream } = await writeSpec(env, 'full', { inputs: [{ url: FAKE }], hls: { segment_duration: '1s', window: 3 }, dvr: { path: mnt, disk_headroom: '64K' } });
  const sup = await startSupervisorProc(t, env, file, 'full');
  const w = watchPlaylist(() => path.join(stream.root, 'v1a1', 'index.m3u8'));
  t.after(() => w.stop());
  t.after(() => sup.post('/stop').catch(() => {}));
  // fill the disk several times over
  const st = await waitFor('the disk filled and was pruned', async () => {
    const s = await sup.status();
    const dvr = s.dvr as { retention: { removedSegments: number } };
    return dvr.retention.removedSegments >= 15 ? s : null;
  }, 90_000, 500);
  w.stop();
  const dvr = st.dvr as { paused: boolean; lastError?: string; headroomBytes?: number; disk?: { availableBytes: number } };
  assert.equal(dvr.paused, false, dvr.lastError);
  assert.equal(dvr.lastError, undefined);
  assert.ok(dvr.headroomBytes! > 64 * 1024, String(dvr.headroomBytes));
  assert.equal(st.lastError, null);
  assert.equal(st.state, 'running');
  assertContinuous(w.seen, Math.min(...w.seen.keys()) + 1);
  assert.doesNotMatch(await sup.log(), /segment dropped|ENOSPC/);
});
