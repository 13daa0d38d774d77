/**
 * Slow-header HTTP clients (issue 18): a client that dribbles its request head a byte at a time is
 * closed at the configured headers timeout (20 s), not up to ~50 s later when Node's default 30 s
 * connection sweep comes round. Real node (built binary), raw TCP sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { dribbleHeaders, http, startNode, tempDir } from '../helpers/index.js';
import { HEADERS_TIMEOUT_MS } from '../../src/daemons/node/listeners.js';

const dribble = (port: number) => dribbleHeaders(port, '/api/v3/node', 70_000);

test('slow-header connections are closed at the headers timeout', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const node = await startNode(t, { dir, streams: {} });
  const clients = Promise.all([dribble(node.httpPort), dribble(node.httpPort), dribble(node.httpPort)]);
  // meanwhile the server answers others
  const r = await http(`${node.baseUrl}/api/v3/node`);
  assert.equal(r.status, 200);
  for (const { ms, answer } of await clients) {
    t.diagnostic(`slow-header client closed after ${ms} ms`);
    assert.ok(ms >= HEADERS_TIMEOUT_MS - 500, `closed early: ${ms} ms`);
    assert.ok(ms < HEADERS_TIMEOUT_MS + 2500, `closed ${ms - HEADERS_TIMEOUT_MS} ms after the headers timeout`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  }
});
