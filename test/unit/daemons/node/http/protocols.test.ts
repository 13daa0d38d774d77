/**
 * `protocols` per stream: validation (served ones only, dash with fmp4, ll-hls exactly with low_latency) and serving
 * (without hls / ll-hls every HLS URL of the stream answers 404; thumbnails are not a protocol).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ResolvedStream } from '../../../../../src/config/model.js';
import { validateText } from '../../../../../src/config/load.js';
import { resolveConfig } from '../../../../../src/config/resolve.js';
import { createPlaybackHandler } from '../../../../../src/daemons/node/playback.js';

const issues = (text: string) => validateText(text, 'flux.yaml').issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
const S = 'streams:\n  a:\n    inputs: [{url: "fake://testsrc"}]\n';

test('protocols: validation', () => {
  assert.deepEqual(issues(`${S}    protocols: [hls]\n`), []);
  assert.deepEqual(issues(`${S}    protocols: [ll-hls, hls]\n    hls: { low_latency: true }\n`), []);
  const r = validateText(`${S}    protocols: [hls, hls]\n`, 'flux.yaml');
  assert.deepEqual(resolveConfig(r.input!).streams.a!.protocols, ['hls']);
  assert.equal(resolveConfig(validateText(S, 'flux.yaml').input!).streams.a!.protocols, undefined, 'absent: all');
  assert.deepEqual(issues(`${S}    protocols: [hls, dash]\n    hls: { container: fmp4 }\n`), []);
  const dash = issues(`${S}    protocols: [hls, dash]\n`);
  assert.equal(dash.length, 1);
  assert.match(dash[0]!, /^4:\d+: protocols: dash needs hls\.container: fmp4/);
  assert.deepEqual(issues(`${S}    protocols: [hls, dash]\n    dvr: { path: /tmp/x }\n`), [], 'archive MPDs of a TS recording');
  assert.deepEqual(issues(`${S}    protocols: [mpegts]\n`), [], 'mpegts is served (/<stream>/mpegts)');
  assert.match(issues(`${S}    protocols: [rtmp]\n`)[0]!, /^4:\d+: /);
  assert.match(issues(`${S}    protocols: [hls]\n    hls: { low_latency: true }\n`)[0]!, /^4:\d+: hls\.low_latency needs ll-hls in protocols/);
  assert.match(issues(`${S}    protocols: [hls, ll-hls]\n`)[0]!, /^4:\d+: protocols: ll-hls needs hls\.low_latency: true/);
});

test('protocols: without hls the stream\'s HLS URLs answer 404', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-proto-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const mk = (name: string, protocols?: ResolvedStream['protocols']): ResolvedStream => ({
    name,
    disabled: false,
    inputs: [],
    root: path.join(dir, name),
    push: [],
    hls: { segmentDurationMs: 1000, window: 4 },
    auth: { playToken: false, secureLink: false },
    renditions: ['v1a1'],
    ...(protocols ? { protocols } : {}),
  });
  const streams: Record<string, ResolvedStream> = { on: mk('on', ['hls']), off: mk('off', []), all: mk('all') };
  for (const s of Object.values(streams)) {
    await mkdir(path.join(s.root, 'v1a1', '2026', '01', '01', '00'), { recursive: true });
    await writeFile(path.join(s.root, 'index.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\ntracks-v1a1/index.m3u8\n');
    await writeFile(path.join(s.root, 'v1a1', 'index.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.000,\n2026/01/01/00/1767225600000-1000.ts\n');
    await writeFile(path.join(s.root, 'v1a1', '2026', '01', '01', '00', '1767225600000-1000.ts'), Buffer.alloc(188, 0x47));
  }
  const handler = createPlaybackHandler({ getStream: (n) => streams[n], listStreams: () => Object.keys(streams) });
  const server = createServer((req, res) => {
    void handler(req, res).then((ok) => {
      if (!ok) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const urls = ['index.m3u8', 'tracks-v1a1/index.m3u8', 'tracks-v1a1/2026/01/01/00/1767225600000-1000.ts', 'embed.html', 'archive-1767225600-60.m3u8'];
  for (const u of urls.slice(0, 3)) {
    assert.equal((await fetch(`${base}/on/${u}`)).status, 200, `on/${u}`);
    assert.equal((await fetch(`${base}/all/${u}`)).status, 200, `all/${u}`);
  }
  for (const u of urls) {
    const r = await fetch(`${base}/off/${u}`);
    assert.equal(r.status, 404, `off/${u}`);
    if (u !== 'archive-1767225600-60.m3u8') assert.match(await r.text(), /not served over HLS/);
  }
});
