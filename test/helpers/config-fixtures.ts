/** Paths of the config fixtures and generators of big configs, shared by config unit and CLI tests. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(REPO, 'test/fixtures/config');
export const GOOD = path.join(FIXTURES, 'good');
export const BAD = path.join(FIXTURES, 'bad');
export const TEMPLATE = path.join(REPO, 'templates/flux.yaml');

/** A valid config with `n` streams (unique multicast groups, a backup input and HLS options each). */
export function manyStreamsYaml(n: number): string {
  const parts: string[] = ['server:\n  http: 8080\ndvr:\n  main:\n    path: ./dvr\n    retention: 1d\nstreams:\n'];
  for (let i = 0; i < n; i++) {
    parts.push(
      `  ch${i}:\n    inputs:\n      - url: udp://239.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:1234\n` +
        `      - url: fake://testsrc\n        backup: true\n        source_timeout: 5s\n` +
        `    dvr: { storage: main }\n    hls: { segment_duration: 2s, window: 6 }\n`,
    );
  }
  return parts.join('');
}
