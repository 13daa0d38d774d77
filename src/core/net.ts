/** Address facts shared by config checks and the UDP source. */
import { isIP } from 'node:net';

/** True for an IPv4 224.0.0.0/4 or IPv6 ff00::/8 address (brackets allowed). */
export function isMulticast(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(h) === 4) {
    const first = Number(h.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  if (isIP(h) === 6) return h.toLowerCase().startsWith('ff');
  return false;
}
