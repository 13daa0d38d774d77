import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LiveStorage, isUnwritableError, seedLiveState } from '../../../../src/daemons/stream/live-storage.js';
import { withLiveRoot } from '../../../../src/daemons/node/live-root.js';
import { silentLogger } from '../../../../src/core/logger.js';
import type { ResolvedStream } from '../../../../src/config/model.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'flux-livest-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

const state = (updatedAt: number, mediaSequence: number) => JSON.stringify({ version: 1, rendition: 'v1a1', mediaSequence, discontinuitySequence: 0, targetDuration: 1, lastEndMs: 5000, segments: [], retired: [], updatedAt });

test('unwritable means EROFS/EACCES/EPERM, not a full disk', () => {
  assert.ok(isUnwritableError("EROFS: read-only file system, open '/x'"));
  assert.ok(isUnwritableError('EACCES: permission denied'));
  assert.ok(isUnwritableError('EPERM: operation not permitted'));
  assert.ok(!isUnwritableError('ENOSPC: no space left on device'));
  assert.ok(!isUnwritableError('disk too slow'));
});

test('seedLiveState carries the newer live.json over, never an older one', async (t) => {
  const d = await tmp(t);
  const [a, b] = [path.join(d, 'a'), path.join(d, 'b')];
  await mkdir(path.join(a, 'v1a1'), { recursive: true });
  await writeFile(path.join(a, 'v1a1', 'live.json'), state(200, 40));
  await seedLiveState(a, b, 'v1a1');
  assert.equal(JSON.parse(await readFile(path.join(b, 'v1a1', 'live.json'), 'utf8')).mediaSequence, 40);
  await writeFile(path.join(b, 'v1a1', 'live.json'), state(300, 47));
  await seedLiveState(a, b, 'v1a1'); // b is newer: kept
  assert.equal(JSON.parse(await readFile(path.join(b, 'v1a1', 'live.json'), 'utf8')).mediaSequence, 47);
  await seedLiveState(path.join(d, 'none'), b, 'v1a1'); // nothing to carry: no change, no throw
});

test('LiveStorage: an unwritable error moves to the fallback once; the probe moves back when writable', async (t) => {
  const d = await tmp(t);
  const primary = path.join(d, 'primary');
  const fallback = path.join(d, 'fallback');
  const moves: string[] = [];
  const events: string[] = [];
  let now = 0;
  const ls = new LiveStorage({
    primary,
    fallback,
    renditions: ['v1a1'],
    logger: silentLogger,
    move: async (root) => {
      moves.push(root);
    },
    event: (reason) => events.push(reason),
    now: () => now,
    probeEveryMs: 1000,
  });
  ls.onWriteError('ENOSPC: no space left on device');
  assert.equal(ls.error, null, 'a full disk is retention business');
  ls.onWriteError("EROFS: read-only file system, open '/x'");
  assert.match(ls.error!, /not writable \(EROFS\): live output continues from .*fallback, archive paused/);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(moves, [fallback]);
  assert.equal(ls.root, fallback);
  assert.equal(ls.inFallback, true);
  // the primary directory is writable here: the next probe (after probeEveryMs) moves back
  ls.tick();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(moves, [fallback], 'no probe before probeEveryMs');
  now += 1500;
  ls.tick();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(moves, [fallback, primary]);
  assert.equal(ls.error, null);
  assert.equal(ls.inFallback, false);
  assert.deepEqual(events, ['storage_unwritable', 'storage_recovered']);
});

test('LiveStorage without a separate fallback: the error is reported, nothing moves', async (t) => {
  const d = await tmp(t);
  const moves: string[] = [];
  const ls = new LiveStorage({ primary: d, fallback: d, renditions: ['v1a1'], logger: silentLogger, move: async (r) => void moves.push(r), event: () => {} });
  ls.onWriteError('EACCES: permission denied');
  assert.match(ls.error!, /not writable \(EACCES\): live output stopped/);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(moves, []);
});

test('withLiveRoot: playback follows only the expected fallback root, with one object per stream and root', () => {
  const s = { name: 'cams/door', root: '/srv/dvr/cams/door', renditions: ['v1a1'] } as unknown as ResolvedStream;
  assert.equal(withLiveRoot(s, undefined, '/var/lib/flux'), s);
  const moved = withLiveRoot(s, '/var/lib/flux/cams/door', '/var/lib/flux')!;
  assert.equal(moved.root, '/var/lib/flux/cams/door');
  assert.equal(withLiveRoot(s, '/var/lib/flux/cams/door', '/var/lib/flux'), moved, 'memoized');
  assert.equal(withLiveRoot(s, '/etc', '/var/lib/flux'), s, 'anything else is ignored');
  assert.equal(withLiveRoot(undefined, '/x', '/y'), undefined);
});
