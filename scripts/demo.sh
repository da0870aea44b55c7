#!/usr/bin/env bash
# One command, fresh machine to result: installs, brings up PostgreSQL and Redis, migrates, starts
# the API and one worker, submits a pipeline job on MNIST, follows its progress and prints the
# result table, then stops the API and the worker. Options go to the client, e.g.
#   npm run demo -- --epochs 25 --classes 2,5,7
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/mwt}"
export PORT="${PORT:-3000}"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
# A local demo on loopback: no API keys, so the client needs none (the API logs a warning about it).
# Never run a reachable API like this; see "Authentication" in the README.
export MWT_AUTH=disabled
export HOST="${HOST:-127.0.0.1}"
source scripts/prepare.sh
prepare_database
mkdir -p .data
# The entry points themselves, started by node directly as the README says (not through npm: npm
# would not pass the signal on, and the API and worker would outlive the demo).
node --import tsx apps/api/src/main.ts >.data/api.log 2>&1 &
api=$!
node --import tsx apps/worker/src/main.ts >.data/worker.log 2>&1 &
worker=$!
trap 'kill $api $worker 2>/dev/null; wait 2>/dev/null || true' EXIT
echo "[demo] API on http://127.0.0.1:$PORT (Swagger UI: /docs), logs in .data/"
echo "[demo] dashboard: http://127.0.0.1:$PORT/ui/ (follow the job live there)"
echo "[demo] MWT_AUTH=disabled: authentication is OFF for this local demo (every request is admin)"
npx tsx scripts/demo-client.ts --url "http://127.0.0.1:$PORT" "$@"
# In a terminal, the API stays up for the dashboard link the client printed last; scripts end here.
if [ -t 0 ] && [ -t 1 ]; then
  echo "[demo] the API and worker keep running for the dashboard; Ctrl-C stops them"
  wait $api || true
fi
