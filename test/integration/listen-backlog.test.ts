/**
 * The playback port's accept queue: a wave of 1,000 viewers connecting at once must not have SYNs
 * dropped by Node's default backlog of 511 (bench/scale.ts saw 242 timeouts). The kernel shows a
 * listening socket's backlog as its Send-Q (`ss -ltn`), capped by net.core.somaxconn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { listenTcp, closeServer } from '../../src/daemons/node/listeners.js';
import { LISTEN_BACKLOG } from '../../src/core/http-server-options.js';

test('the HTTP port listens with a backlog of LISTEN_BACKLOG (capped by somaxconn)', async (t) => {
  const server = http.createServer((_req, res) => res.end());
  await listenTcp(server, 0, '127.0.0.1');
  t.after(() => closeServer(server));
  const port = (server.address() as { port: number }).port;
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const sendQ = Number(line.split(/\s+/)[2]);
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  assert.equal(sendQ, Math.min(LISTEN_BACKLOG, somaxconn), line);
  assert.ok(sendQ > 511, `backlog ${sendQ} is no more than Node's default`);
});
