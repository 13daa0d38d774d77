/** Request-head limits shared by the node's HTTP and HTTPS listeners. */

/** A client must have sent its whole request head within this (slow-header clients are cut). */
export const HEADERS_TIMEOUT_MS = 20_000;

/**
 * Options for `http(s).createServer`. Node enforces headersTimeout only when it sweeps its
 * connection list, every connectionsCheckingInterval (default 30 s): a slow-header client then
 * stays up to 50 s. Sweeping every second closes it within a second of the timeout.
 * requestTimeout 0: ingest and long downloads keep their connection.
 */
export const SERVER_OPTIONS = { connectionsCheckingInterval: 1000, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0 } as const;

/** Timeouts shared by the HTTP and HTTPS listeners (and the playback workers' servers). */
export function tuneServer(server: { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number }): void {
  server.keepAliveTimeout = 15_000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 0; // ingest/long downloads
}

/**
 * Pending connections the kernel holds for a playback port (capped by net.core.somaxconn). Node's
 * default, 511, is less than a wave of viewers opens at once: a player wall, a CDN shield, a channel
 * start; the rest had their SYNs dropped and came back a second or more later (bench/scale.ts: 242
 * of 188k requests timed out with 1,000 clients connecting together).
 */
export const LISTEN_BACKLOG = 4096;
