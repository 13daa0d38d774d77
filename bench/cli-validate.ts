/**
 * Wall time of `./bin/run.js validate <generated 200-stream config>` (oclif + zod + yaml + every check).
 * Target: median < 300 ms. One measurement run = hyperfine (or spawn timings) over 10 invocations after
 * 2 warm-ups; the metric is their median. Also times the same 200 streams through the `yaml` library
 * (a leading `---` makes src/core/fast-yaml.ts give up: what the fast path saves), 5,000- and
 * 10,000-stream configs (UDP inputs: the port checks must stay linear; 3 invocations) and node's bare
 * start-up for context.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertBuilt, nodeFloor, timeCommand } from './cli-timing.js';
import { manyStreamsYaml } from '../test/helpers/config-fixtures.js';

assertBuilt();
const dir = mkdtempSync(path.join(tmpdir(), 'flux-bench-validate-'));
try {
  const f200 = path.join(dir, 's200.yaml');
  const f200yaml = path.join(dir, 's200-yaml.yaml');
  const f5000 = path.join(dir, 's5000.yaml');
  const f10000 = path.join(dir, 's10000.yaml');
  writeFileSync(f200, manyStreamsYaml(200));
  writeFileSync(f200yaml, '---\n' + manyStreamsYaml(200));
  writeFileSync(f5000, manyStreamsYaml(5000));
  writeFileSync(f10000, manyStreamsYaml(10000));
  const t200 = timeCommand(['./bin/run.js', 'validate', f200], { runs: 10, warmup: 2 });
  const t200yaml = timeCommand(['./bin/run.js', 'validate', f200yaml], { runs: 10, warmup: 2 });
  const t5000 = timeCommand(['./bin/run.js', 'validate', f5000], { runs: 3, warmup: 1 });
  const t10000 = timeCommand(['./bin/run.js', 'validate', f10000], { runs: 3, warmup: 1 });
  const floor = nodeFloor(10);
  console.log(
    JSON.stringify({
      metrics: {
        validate_200_ms: { value: +t200.medianMs.toFixed(1), unit: 'ms', better: 'lower' },
        validate_200_yaml_lib_ms: { value: +t200yaml.medianMs.toFixed(1), unit: 'ms', better: 'lower' },
        fast_path_saves_ms: { value: +(t200yaml.medianMs - t200.medianMs).toFixed(1), unit: 'ms', better: 'higher' },
        validate_5000_ms: { value: +t5000.medianMs.toFixed(1), unit: 'ms', better: 'lower' },
        validate_10000_ms: { value: +t10000.medianMs.toFixed(1), unit: 'ms', better: 'lower' },
        node_startup_ms: { value: +floor.medianMs.toFixed(1), unit: 'ms', better: 'lower' },
        ...(t200.cpuMs !== undefined && floor.cpuMs !== undefined
          ? {
              validate_200_cpu_ms: { value: +t200.cpuMs.toFixed(1), unit: 'ms', better: 'lower' },
              node_startup_cpu_ms: { value: +floor.cpuMs.toFixed(1), unit: 'ms', better: 'lower' },
            }
          : {}),
      },
      notes: `./bin/run.js validate on generated configs (200 streams: ${t200.tool} median of ${t200.runs} after 2 warm-ups; the same through the yaml library: leading ---; 5,000 and 10,000 UDP-input streams: median of ${t5000.runs}); *_cpu = mean user+system CPU per invocation; target < 300 ms for 200, ≤ 2 s for 10,000`,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
