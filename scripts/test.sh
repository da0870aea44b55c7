#!/usr/bin/env bash
# The test suite, on a fresh machine too: installs dependencies if needed, brings up PostgreSQL and
# Redis, migrates a throwaway database, runs the gates (compile, type-check, lint, format, cycles:
# scripts/gates.sh), then runs every test file with node's runner.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/mwt_test}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export MWT_QUIET=1
source scripts/prepare.sh
prepare_database --fresh
ensure_chromium
bash scripts/gates.sh
echo "[test] running the suite"
# One file at a time: training tests are CPU-bound and this machine has two cores.
node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  test/core/*.test.ts test/db/*.test.ts test/api/*.test.ts test/e2e/*.test.ts test/deploy/*.test.ts test/cli/*.test.ts test/ui/*.test.ts "$@"
