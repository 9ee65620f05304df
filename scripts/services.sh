#!/usr/bin/env bash
# scripts/services.sh — private PostgreSQL and Redis for tests, benchmarks and the quick start,
# from Debian's packages, on free loopback ports, under one directory. Nothing system-wide is
# touched, and `stop` removes everything `start` made.
#
#   scripts/services.sh start DIR [postgres] [redis]   start (both by default); writes DIR/env
#   scripts/services.sh stop DIR                        stop what DIR holds (idempotent)
#   scripts/services.sh env DIR                         print DIR/env (shell `export` lines)
#
# DIR/env exports KEYGATE_TEST_PG_URL, KEYGATE_TEST_PG_PORT, KEYGATE_TEST_PG_DATA,
# KEYGATE_TEST_PG_BIN, KEYGATE_TEST_PG_PID, KEYGATE_TEST_REDIS_URL, KEYGATE_TEST_REDIS_PORT,
# KEYGATE_TEST_REDIS_PID, KEYGATE_SERVICES_DIR.
set -Eeuo pipefail

die() { echo "services.sh: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n $d && -x $d/initdb ]] || die "PostgreSQL server binaries not found (run scripts/install-deps.sh)"
  echo "$d"
}

# Postgres refuses to run as root: as root, run its tools as the 'postgres' system user.
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  local dir=$1 bin port
  bin=$(pg_bin)
  port=$(free_port)
  mkdir -p "$dir/pg"
  [[ $(id -u) == 0 ]] && chown postgres: "$dir/pg"
  as_pg "$bin/initdb" -D "$dir/pg/data" -U keygate --auth=trust -E UTF8 --no-sync >"$dir/pg/initdb.log" 2>&1 \
    || { cat "$dir/pg/initdb.log" >&2; die "initdb failed"; }
  as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 start -o \
    "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_preload_libraries=pg_stat_statements -c max_connections=200" \
    >/dev/null || { cat "$dir/pg/server.log" >&2; die "postgres did not start"; }
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U keygate keygate
  "$bin/psql" -q -h 127.0.0.1 -p "$port" -U keygate -d keygate -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
  cat >>"$dir/env" <<ENV
export KEYGATE_TEST_PG_URL=postgresql://keygate@127.0.0.1:$port/keygate
export KEYGATE_TEST_PG_PORT=$port
export KEYGATE_TEST_PG_DATA=$dir/pg/data
export KEYGATE_TEST_PG_BIN=$bin
export KEYGATE_TEST_PG_PID=$(head -1 "$dir/pg/data/postmaster.pid")
ENV
}

start_redis() {
  local dir=$1 port
  command -v redis-server >/dev/null || die "redis-server not found (run scripts/install-deps.sh)"
  port=$(free_port)
  mkdir -p "$dir/redis"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/redis" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" >/dev/null
  for _ in $(seq 100); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
  done
  redis-cli -p "$port" ping 2>/dev/null | grep -q PONG || { cat "$dir/redis/redis.log" >&2; die "redis did not start"; }
  cat >>"$dir/env" <<ENV
export KEYGATE_TEST_REDIS_URL=redis://127.0.0.1:$port/0
export KEYGATE_TEST_REDIS_PORT=$port
export KEYGATE_TEST_REDIS_PID=$(cat "$dir/redis/redis.pid")
ENV
}

stop_all() {
  local dir=$1
  [[ -d $dir ]] || return 0
  if [[ -f $dir/redis/redis.pid ]]; then
    local pid
    pid=$(cat "$dir/redis/redis.pid")
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ -f $dir/pg/data/postmaster.pid ]]; then
    local pid
    pid=$(head -1 "$dir/pg/data/postmaster.pid")
    kill -CONT "$pid" 2>/dev/null || true
    as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg/data" -m immediate -w -t 20 stop >/dev/null 2>&1 \
      || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || die "usage: services.sh start|stop|env DIR [postgres] [redis]"
case $cmd in
  start)
    shift 2
    want=("$@")
    ((${#want[@]})) || want=(postgres redis)
    mkdir -p "$dir"
    chmod 755 "$dir"
    : >"$dir/env"
    echo "export KEYGATE_SERVICES_DIR=$dir" >>"$dir/env"
    for s in "${want[@]}"; do
      case $s in
        postgres) start_postgres "$dir" ;;
        redis) start_redis "$dir" ;;
        *) die "unknown service '$s'" ;;
      esac
    done
    ;;
  stop) stop_all "$dir" ;;
  env) cat "$dir/env" ;;
  *) die "unknown command '$cmd'" ;;
esac
