/**
 * Wall time of `./bin/run.js --version` (oclif start-up with the prebuilt manifest). Target: median < 300 ms.
 * One measurement run = hyperfine (or spawn timings) over 10 invocations after 2 warm-ups; the metric is
 * their median. Also reports node's bare start-up on this machine at the same time, for context.
 */
import { assertBuilt, nodeFloor, timeCommand } from './cli-timing.js';

assertBuilt();
const t = timeCommand(['./bin/run.js', '--version'], { runs: 10, warmup: 2 });
const floor = nodeFloor(10);
console.log(
  JSON.stringify({
    metrics: {
      version_ms: { value: +t.medianMs.toFixed(1), unit: 'ms', better: 'lower' },
      node_startup_ms: { value: +floor.medianMs.toFixed(1), unit: 'ms', better: 'lower' },
      over_node_ms: { value: +(t.medianMs - floor.medianMs).toFixed(1), unit: 'ms', better: 'lower' },
      ...(t.cpuMs !== undefined && floor.cpuMs !== undefined
        ? {
            version_cpu_ms: { value: +t.cpuMs.toFixed(1), unit: 'ms', better: 'lower' },
            node_startup_cpu_ms: { value: +floor.cpuMs.toFixed(1), unit: 'ms', better: 'lower' },
          }
        : {}),
    },
    notes: `./bin/run.js --version, ${t.tool} median of ${t.runs} after 2 warm-ups; node_startup = node -e 0; *_cpu = mean user+system CPU per invocation; target < 300 ms`,
  }),
);
