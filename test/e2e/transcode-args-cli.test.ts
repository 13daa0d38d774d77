/**
 * `flux stream args NAME` on a real config file (built CLI): the command lines per input and push
 * target, as JSON and as shell-quoted text; unknown streams fail with exit 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir } from '../helpers/index.js';

const CONFIG = `server:
  data_dir: ./data
  run_dir: ./run
streams:
  tv/news:
    inputs:
      - url: fake://testsrc?size=640x360&fps=25
      - url: tshttp://127.0.0.1:1/backup
        backup: true
    transcoder:
      video:
        - { bitrate: 1000k, size: 640x360 }
        - { bitrate: 400k, size: 320x-2 }
      audio: { bitrate: 96k }
    push:
      - rtmp://127.0.0.1/live/news
      - url: srt://127.0.0.1:9000
  plain:
    inputs:
      - url: udp://239.0.0.1:1234
`;

test('stream args: JSON lines for inputs and pushes, human text with shell quoting', async (t) => {
  const dir = await tempDir(t, 'flux-args-');
  const file = path.join(dir, 'flux.yaml');
  await writeFile(file, CONFIG);
  const r = await runCli(['stream', 'args', 'tv/news', '--json', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.stream, 'tv/news');
  assert.equal(r.json.source, 'config');
  const lines = r.json.lines as { role: string; args: string[] | null; command: string; outputs?: { fd: number }[]; note?: string }[];
  assert.deepEqual(lines.map((l) => l.role), ['input', 'input', 'push', 'push']);
  assert.deepEqual(lines[0]!.outputs!.map((o) => o.fd), [1, 3]);
  assert.ok(lines[0]!.args!.includes('-filter_complex'));
  assert.ok(lines[1]!.args!.includes('pipe:0'), 'tshttp backup is read natively and fed on stdin');
  assert.ok(lines[2]!.args!.includes('flv'));
  assert.ok(lines[3]!.args!.at(-1)!.startsWith('srt://127.0.0.1:9000?mode=caller'));

  const h = await runCli(['stream', 'args', 'tv/news', '--config', file]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^# input 1: fake:\/\/testsrc\?size=640x360&fps=25 \(v1a1→fd1 v2a1→fd3\)$/m);
  assert.match(h.stdout, /-filter_complex '\[0:v:0\]split=2/);
  assert.match(h.stdout, /^# push 1: rtmp:\/\/127\.0\.0\.1\/live\/news$/m);

  const p = await runCli(['stream', 'args', 'plain', '--config', file]);
  assert.equal(p.code, 0);
  assert.match(p.stdout, /# native: no ffmpeg/);

  const missing = await runCli(['stream', 'args', 'nope', '--config', file]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /stream "nope" is not in/);
});
