# Sourced by demo.sh and test.sh: dependencies, PostgreSQL and Redis, the Prisma client, and the
# database named by DATABASE_URL (callers set it; `prepare_database --fresh` recreates it empty).
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/ensure-services.sh
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
npx prisma generate >/dev/null
prepare_database() {
  npx tsx scripts/database.ts "$DATABASE_URL" "$@"
  npx prisma migrate deploy >/dev/null
}
