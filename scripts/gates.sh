#!/usr/bin/env bash
# The gates the test suite runs first (scripts/test.sh; alone: npm run gates). Each prints its time.
#   tsc     every package and app compiled to its dist/ (tsc -b), the dashboard, then the whole tree
#           (tests, benchmarks, scripts) type-checked in one program
#   eslint  typescript-eslint strict and type-aware, plus the import-specifier style (eslint.config.js);
#           the violations found when the rules came in are listed in eslint-suppressions.json (a new
#           one fails; a fixed one must leave the list: npm run fix prunes it)
#   cycles  madge --circular: 0 import cycles (.madgerc)
#   format  prettier --check (.prettierrc.json)
# ESLint and prettier keep caches in node_modules/.cache, so a run after a small change is quick.
# `npm run fix` applies what ESLint and prettier can fix themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

gate() {
  local name=$1 start=$SECONDS
  shift
  echo "[gates] $name: $*"
  if ! "$@"; then
    echo "[gates] $name failed (npm run fix applies the automatic fixes)" >&2
    exit 1
  fi
  echo "[gates] $name passed in $((SECONDS - start)) s"
}

gate tsc-build npx tsc -b tsconfig.build.json
gate tsc-ui npx tsc -p apps/ui/tsconfig.json
gate tsc-tree npx tsc --noEmit -p tsconfig.json
gate eslint npx eslint --cache --cache-location node_modules/.cache/eslint/ --max-warnings 0 .
gate cycles npx madge --circular --no-spinner apps packages test bench scripts
gate format npx prettier --check --cache --log-level warn .
