/**
 * Playback follows a stream's live output when its supervisor moved it off an unwritable root
 * (src/daemons/stream/live-storage.ts): the supervisor's status names the fallback root, and the
 * live playlists and segments are served from there. Only the one fallback the node expects,
 * `<data_dir>/<stream>`, is accepted. Archive requests keep reading the DVR root.
 */
import type { ResolvedStream } from '../../config/model.js';
import { safeJoin } from '../../core/paths.js';

// the same substituted object per stream and root: playback memoizes paths per stream object
const memo = new WeakMap<ResolvedStream, { root: string; stream: ResolvedStream }>();

export function withLiveRoot(stream: ResolvedStream | undefined, liveRoot: string | undefined, dataDir: string): ResolvedStream | undefined {
  if (!stream || !liveRoot || liveRoot === stream.root) return stream;
  const m = memo.get(stream);
  if (m && m.root === liveRoot) return m.stream;
  if (liveRoot !== safeJoin(dataDir, stream.name)) return stream;
  const moved: ResolvedStream = { ...stream, root: liveRoot };
  memo.set(stream, { root: liveRoot, stream: moved });
  return moved;
}
