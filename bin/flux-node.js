#!/usr/bin/env node
// Flux node agent daemon (no oclif: starts fast). See src/daemons/node/main.ts.
import '../dist/daemons/node/main.js';
