/** Network facts: addresses (config checks, the UDP source) and ending a TCP connection (the RTMP listeners). */
import { isIP, type Socket } from 'node:net';

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

/**
 * End a TCP connection politely and make sure it goes: flush what was written last (a rejection
 * status, say), stop reading (what a closed peer still sends must not be read into memory
 * meanwhile), and destroy it if the peer has not closed within `graceMs`.
 */
export function endSocket(s: Socket, graceMs = 2000): void {
  if (s.destroyed) return;
  s.pause();
  s.end();
  const t = setTimeout(() => s.destroy(), graceMs);
  t.unref();
  s.once('close', () => clearTimeout(t));
}
