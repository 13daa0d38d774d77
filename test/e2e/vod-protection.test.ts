/** VOD files are not streams, but the node-wide address rules (auth.allow_ips / deny_ips) protect them too. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, http, startNode, tempDir } from '../helpers/index.js';

for (const [rule, want] of [['deny_ips: [127.0.0.0/8]', 403], ['allow_ips: [127.0.0.1]', 404]] as const) {
  test(`vod: auth.${rule} → /vod/… answers ${want}`, { timeout: 60_000 }, async (t) => {
    const dir = await tempDir(t);
    await mkdir(path.join(dir, 'media'));
    const port = await freePort();
    const yaml = `server: { http: ${port}, host: 127.0.0.1, rtmp: false, data_dir: ./data, run_dir: ./run }\nstreams: {}\nvod:\n  movies: { path: ./media }\nauth: { ${rule} }\n`;
    await startNode(t, { dir, yaml, server: { http: port } });
    // a file that does not exist: 404 when the address may play, 403 before anything is looked up when not
    const r = await http(`http://127.0.0.1:${port}/vod/movies/none.mp4/index.m3u8`);
    assert.equal(r.status, want, r.text);
  });
}
