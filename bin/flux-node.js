#!/usr/bin/env node
// Flux node agent daemon (no oclif: starts fast). See src/daemons/node/main.ts; the build bundles it
// into one file (scripts/bundle-daemons.js): fewer modules loaded = a smaller agent.
import '../dist/bundle/flux-node.js';
