# Sourced by demo.sh, test.sh and bench.sh: dependencies, the native kernels, PostgreSQL and Redis,
# the Prisma client, and the database named by DATABASE_URL (callers set it; `prepare_database
# --fresh` recreates it empty).
[ -d node_modules ] || npm ci --no-audit --no-fund
# Built at install where g++ exists; this catches an install made before (a no-op when up to date),
# and rebuilds with oneDNN once ensure-native-deps.sh has installed it.
bash scripts/ensure-native-deps.sh
node packages/native/scripts/build.mjs
bash scripts/ensure-services.sh
# Software Vulkan (lavapipe) for the webgpu backend's tests; says so and moves on where it cannot.
bash scripts/ensure-lavapipe.sh
bash scripts/ensure-datasets.sh
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
npx prisma generate >/dev/null
prepare_database() {
  npx tsx scripts/database.ts "$DATABASE_URL" "$@"
  npx prisma migrate deploy >/dev/null
}
# The dashboard (apps/ui, served at /ui/): built when missing or older than its sources.
if [ ! -f apps/ui/dist/index.html ] || [ -n "$(find apps/ui/web apps/ui/index.html apps/ui/vite.config.ts apps/ui/package.json -newer apps/ui/dist/index.html -print -quit)" ]; then
  echo "[prepare] building the dashboard (npm run build:ui)"
  npm run --silent build:ui >/dev/null
fi
# Headless Chromium for the dashboard's browser tests (test/ui): Debian's package, where apt exists
# and we are root; elsewhere those tests say what is missing and skip.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "[prepare] installing Debian's chromium for the browser tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null || echo "[prepare] chromium did not install: test/ui will skip"
  else
    echo "[prepare] no /usr/bin/chromium (and no apt as root to install it): test/ui will skip"
  fi
}
