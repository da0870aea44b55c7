#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres, no password) and Redis (127.0.0.1:6379)
# answer, starting or installing them when they do not:
#   1. local servers that are installed but stopped are started;
#   2. else, with a Docker engine, `docker compose up -d postgres redis` (this repo's compose file);
#   3. else, as root on Debian/Ubuntu, apt installs postgresql and redis-server and starts them,
#      with local TCP logins trusted (a development machine's setup; never do this on a shared host).
set -euo pipefail
cd "$(dirname "$0")/.."

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
say() { echo "[services] $*"; }

wait_for() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do up "$port" && return 0; sleep 0.5; done
  say "$name did not come up on 127.0.0.1:$port"; return 1
}

start_postgres() {
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    say "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    return 0
  fi
  return 1
}

start_redis() {
  if command -v redis-server >/dev/null 2>&1; then
    say "starting a local Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null
    return 0
  fi
  return 1
}

docker_up() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || return 1
  say "starting postgres and redis with docker compose"
  docker compose up -d postgres redis
}

apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  say "installing PostgreSQL and Redis from the distribution's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null
  local hba
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -1)
  # Trust local TCP logins, as the default DATABASE_URL (no password) expects.
  sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  start_postgres
  start_redis
}

if ! up 5432; then start_postgres || docker_up || apt_install || { say "no PostgreSQL: install one, or Docker"; exit 1; }; fi
if ! up 6379; then start_redis || docker_up || apt_install || { say "no Redis: install one, or Docker"; exit 1; }; fi
wait_for 5432 PostgreSQL
wait_for 6379 Redis
say "PostgreSQL and Redis are up"
