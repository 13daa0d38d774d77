/**
 * The balancer's choice (Flussonic's `/balance/<stream>/…`): the least-loaded node that can serve,
 * by one of three modes; ties are broken at random so equal nodes share new viewers.
 *   clients  fewest playback clients
 *   bitrate  lowest output bitrate
 *   usage    lowest output bitrate / the node's max_bitrate (a node without max_bitrate counts as full)
 */
export type BalanceMode = 'clients' | 'bitrate' | 'usage';
export const BALANCE_MODES: readonly BalanceMode[] = ['clients', 'bitrate', 'usage'];

export interface BalanceCandidate {
  name: string;
  address: string;
  clients: number;
  output_bitrate: number;
  max_bitrate?: number | null;
}

export function loadOf(n: BalanceCandidate, mode: BalanceMode): number {
  if (mode === 'clients') return n.clients;
  if (mode === 'bitrate') return n.output_bitrate;
  return n.max_bitrate ? n.output_bitrate / n.max_bitrate : Number.POSITIVE_INFINITY;
}

export function pickBalanced<T extends BalanceCandidate>(nodes: T[], mode: BalanceMode, random: () => number = Math.random): T | undefined {
  if (!BALANCE_MODES.includes(mode)) mode = 'clients';
  if (!nodes.length) return undefined;
  const loads = nodes.map((n) => loadOf(n, mode));
  const min = Math.min(...loads);
  const best = nodes.filter((_, i) => loads[i] === min);
  return best[Math.floor(random() * best.length)] ?? best[0];
}
