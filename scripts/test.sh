#!/usr/bin/env bash
# The whole test suite: build, then unit, integration (real ffmpeg and sockets, from src) and end-to-end (the built binary) tests with node's test runner.
# Usage: npm test [-- FILTER]   (FILTER: a substring of test file paths)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run -s build
mapfile -t files < <(find test/unit test/integration test/e2e -name '*.test.ts' 2>/dev/null | sort | grep -- "${1:-}" || true)
if [ ${#files[@]} -eq 0 ]; then echo "no test files match" >&2; exit 1; fi
# --test-force-exit: a file whose tests are done exits even if a library (werift) leaves a socket or timer
# open; what a test starts (nodes, supervisors, ffmpeg) is still stopped by its own after hooks
exec node --import tsx --test --test-force-exit --test-concurrency="${FLUX_TEST_CONCURRENCY:-2}" --test-timeout=300000 "${files[@]}"
