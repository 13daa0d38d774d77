/**
 * Who captures which `cluster_ingest` stream: a pure plan from one snapshot of etcd, so every node
 * computes the same answer and etcd's transactions settle the races. The plan only says what to
 * try; a stream is run only once the owner key names this node (see member.ts).
 *
 *  - an owned stream stays with its owner, except that the owner hands it back to the stream's
 *    `capture_at` node once that node has been a member for `return_after` (soft preference);
 *  - an unowned stream goes to its `capture_at` node when that node is alive and can capture it,
 *    otherwise to the live node with the fewest captures (ties broken by a hash of stream and node
 *    name, so equal nodes split a batch of streams instead of one node taking all of them).
 */
import { createHash } from 'node:crypto';

export interface PeerView {
  name: string;
  /** cluster_ingest streams this node can capture (configured there) */
  ingest: string[];
  /** how long the node has been a member without interruption (ms) */
  member_for_ms: number;
}

export interface IngestStream {
  name: string;
  captureAt?: string;
  /** a shared stream (from etcd): every node has it, whatever its last heartbeat lists */
  shared?: boolean;
}

export interface OwnershipPlan {
  /** unowned streams this node should try to take (transaction on Create == 0) */
  take: string[];
  /** streams this node owns and should hand back to their preferred node */
  release: string[];
}

function tieBreak(stream: string, node: string): string {
  return createHash('sha1').update(stream).update('\0').update(node).digest('hex');
}

export function planOwnership(me: string, streams: IngestStream[], peers: PeerView[], owners: Record<string, string>, returnAfterMs: number): OwnershipPlan {
  const alive = new Map(peers.map((p) => [p.name, p]));
  const counts = new Map<string, number>(peers.map((p) => [p.name, 0]));
  for (const owner of Object.values(owners)) if (counts.has(owner)) counts.set(owner, counts.get(owner)! + 1);
  const take: string[] = [];
  const release: string[] = [];
  for (const s of [...streams].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const owner = owners[s.name];
    if (owner !== undefined) {
      const pref = s.captureAt ? alive.get(s.captureAt) : undefined;
      if (owner === me && pref && pref.name !== me && (s.shared || pref.ingest.includes(s.name)) && pref.member_for_ms >= returnAfterMs) release.push(s.name);
      continue;
    }
    // a node's heartbeat may predate a new shared stream: shared streams can go to any live node
    const able = s.shared ? peers : peers.filter((p) => p.ingest.includes(s.name));
    if (!able.length) continue;
    const pref = s.captureAt ? able.find((p) => p.name === s.captureAt) : undefined;
    const pick =
      pref ??
      able.reduce((best, p) => {
        const cb = counts.get(best.name)!;
        const cp = counts.get(p.name)!;
        if (cp !== cb) return cp < cb ? p : best;
        return tieBreak(s.name, p.name) < tieBreak(s.name, best.name) ? p : best;
      });
    counts.set(pick.name, counts.get(pick.name)! + 1);
    if (pick.name === me) take.push(s.name);
  }
  return { take, release };
}
