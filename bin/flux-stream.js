#!/usr/bin/env node
// flux-stream: the per-stream supervisor daemon. Plain JS, no oclif: starts fast and lean.
// Usage: flux-stream --spec <run>/streams/<name>.json [--socket path] [--pid-file path] [--log-file path]
// (flags parsed in src/daemons/stream/cli.ts). The build bundles it into one file (scripts/bundle-daemons.js):
// fewer modules loaded = less memory per stream.
// FLUX_STREAM_SRC=1 (tests, with `node --import tsx`): run the TypeScript sources instead of dist/
const entry = process.env.FLUX_STREAM_SRC === '1' ? '../src/daemons/stream/cli.ts' : '../dist/bundle/flux-stream.js';
await import(new URL(entry, import.meta.url).href);
