#!/usr/bin/env bash
# The benchmark (not a test): training speed per backend against a PyTorch peer, modularization and
# reuse times, and the API under load, on a throwaway database (mwt_bench, recreated each run).
#   npm run bench -- [--skip-service] [--skip-peer] [--cpu] ...   (see bench/run.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/mwt_bench}"
export MWT_QUIET=1
source scripts/prepare.sh
prepare_database --fresh
npx tsx bench/run.ts "$@"
