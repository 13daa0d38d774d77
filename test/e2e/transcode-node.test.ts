/**
 * Full-node versions: a 3-profile CPU ladder played through the node's HTTP (master playlist with
 * three variants, each variant's segments at its size), and a push from one stream into the node's
 * own RTMP publish input of another stream (Flux → Flux).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, startNode, tempDir, waitFor } from '../helpers/index.js';

const run = promisify(execFile);

async function get(url: string): Promise<{ status: number; text: string; body: Buffer }> {
  const r = await fetch(url);
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, text: body.toString('utf8'), body };
}

function mediaUris(playlist: string): string[] {
  return playlist.split('\n').filter((l) => l && !l.startsWith('#'));
}

test('node: 3-profile ladder → master playlist with 3 variants, each at its size', async (t) => {
  const dir = await tempDir(t, 'flux-tn-');
  const node = await startNode(t, {
    dir,
    streams: {
      ladder: {
        inputs: [{ url: 'fake://testsrc?size=320x240&fps=25' }],
        transcoder: {
          video: [
            { bitrate: '300k', size: '320x240', preset: 'ultrafast' },
            { bitrate: '150k', size: '240x-2', preset: 'ultrafast' },
            { bitrate: '80k', size: '160x-2', preset: 'ultrafast' },
          ],
          audio: { bitrate: '64k' },
        },
        hls: { segment_duration: '1s', window: 4 },
      },
    },
  });
  const base = `${node.baseUrl}/ladder`;
  const master = await waitFor(
    async () => {
      const m = await get(`${base}/index.m3u8`);
      return m.status === 200 && (m.text.match(/#EXT-X-STREAM-INF/g) ?? []).length === 3 ? m.text : null;
    },
    { timeoutMs: 45_000, message: 'master playlist with 3 variants' },
  );
  const variants = mediaUris(master);
  assert.deepEqual(variants, ['tracks-v1a1/index.m3u8', 'tracks-v2a1/index.m3u8', 'tracks-v3a1/index.m3u8']);
  const sizes: string[] = [];
  for (const v of variants) {
    const pl = await waitFor(
      async () => {
        const r = await get(`${base}/${v}`);
        return r.status === 200 && mediaUris(r.text).length >= 2 ? r.text : null;
      },
      { timeoutMs: 30_000, message: `segments in ${v}` },
    );
    const seg = mediaUris(pl)[1]!;
    const r = await get(`${base}/${path.posix.dirname(v)}/${seg}`);
    assert.equal(r.status, 200);
    const file = path.join(dir, `${path.posix.dirname(v)}.ts`);
    await writeFile(file, r.body);
    const p = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', file]);
    const streams = (JSON.parse(p.stdout) as { streams: { codec_type: string; width?: number; height?: number }[] }).streams;
    const video = streams.find((s) => s.codec_type === 'video')!;
    assert.ok(streams.some((s) => s.codec_type === 'audio'), `${v}: audio`);
    sizes.push(`${video.width}x${video.height}`);
  }
  assert.deepEqual(sizes, ['320x240', '240x180', '160x120']);
  const st = await node.stream('ladder');
  assert.equal(st.stats.ffmpeg.length, 1, 'one ffmpeg for the ladder');
});

test('node: push from one stream into the node’s own RTMP publish input of another', async (t) => {
  const dir = await tempDir(t, 'flux-tn-');
  const rtmp = await freePort();
  const node = await startNode(t, {
    dir,
    server: { rtmp },
    streams: {
      src: {
        inputs: [{ url: 'fake://testsrc?size=320x240&fps=25' }],
        push: [{ url: `rtmp://127.0.0.1:${rtmp}/live/dst`, retry_delay: '500ms' }],
        hls: { segment_duration: '1s' },
      },
      dst: { inputs: [{ url: 'publish://' }], hls: { segment_duration: '1s' } },
    },
  });
  await waitFor(async () => (await node.stream('src')).stats.push[0]?.state === 'running', { timeoutMs: 45_000, message: 'src push running' });
  const pl = await waitFor(
    async () => {
      const r = await get(`${node.baseUrl}/dst/tracks-v1a1/index.m3u8`);
      return r.status === 200 && mediaUris(r.text).length >= 2 ? r.text : null;
    },
    { timeoutMs: 45_000, message: 'dst segments from the push' },
  );
  const seg = await get(`${node.baseUrl}/dst/tracks-v1a1/${mediaUris(pl)[1]!}`);
  const file = path.join(dir, 'dst.ts');
  await writeFile(file, seg.body);
  const p = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width', '-of', 'json', file]);
  const codecs = (JSON.parse(p.stdout) as { streams: { codec_name: string; width?: number }[] }).streams;
  assert.ok(codecs.some((s) => s.codec_name === 'h264' && s.width === 320));
  assert.ok(codecs.some((s) => s.codec_name === 'aac'));
  const dst = await node.stream('dst');
  assert.equal(dst.stats.alive, true);
});
