# Sourced by demo.sh, test.sh and bench.sh: dependencies, the native kernels, PostgreSQL and Redis,
# the Prisma client, and the database named by DATABASE_URL (callers set it; `prepare_database
# --fresh` recreates it empty).
[ -d node_modules ] || npm ci --no-audit --no-fund
# Built at install where g++ exists; this catches an install made before (a no-op when up to date).
node packages/native/scripts/build.mjs
bash scripts/ensure-services.sh
bash scripts/ensure-datasets.sh
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
npx prisma generate >/dev/null
prepare_database() {
  npx tsx scripts/database.ts "$DATABASE_URL" "$@"
  npx prisma migrate deploy >/dev/null
}
