#!/usr/bin/env bash
# Runs a command with the services the tests talk to: PostgreSQL at
# TEST_DATABASE_URL and Redis at TEST_REDIS_URL. When one does not answer but
# its server is installed, a throwaway one is started for the run (temporary
# folder, free port) and stopped after; when it is not installed either, the
# exact command to install it is printed.
set -euo pipefail

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

scratch=""
pg_ctl=""
redis_pid=""
cleanup() {
  if [ -n "$pg_ctl" ]; then ${as_postgres[@]+"${as_postgres[@]}"} "$pg_ctl" -D "$scratch/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  if [ -n "$scratch" ]; then rm -rf "$scratch"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

scratch_dir() {
  if [ -z "$scratch" ]; then
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/garage-services.XXXXXX")"
    chmod 755 "$scratch"
  fi
}

# host:port of a redis:// URL.
redis_host="${TEST_REDIS_URL#redis://}"
redis_host="${redis_host%%/*}"
redis_host="${redis_host##*@}"
redis_answers() {
  (exec 3<>"/dev/tcp/${redis_host%:*}/${redis_host##*:}") 2>/dev/null
}

as_postgres=()
if ! pg_isready -q -d "$TEST_DATABASE_URL" 2>/dev/null; then
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL does not answer at TEST_DATABASE_URL=$TEST_DATABASE_URL and its server is not installed." >&2
    echo "Install it (as root): apt-get install -y postgresql postgresql-client, or point TEST_DATABASE_URL at a server." >&2
    exit 1
  fi
  scratch_dir
  # initdb refuses to run as root: run the cluster as the postgres user.
  if [ "$(id -u)" = 0 ]; then as_postgres=(runuser -u postgres --); fi
  mkdir -p "$scratch/pg"
  if [ "$(id -u)" = 0 ]; then chown postgres "$scratch/pg"; fi
  port="$(free_port)"
  echo "services: PostgreSQL does not answer; starting a throwaway cluster on port $port"
  ${as_postgres[@]+"${as_postgres[@]}"} "$bin/initdb" -D "$scratch/pg" -U postgres --auth=trust -E UTF8 >/dev/null
  # Set before starting, so a start that fails half-way is stopped too.
  pg_ctl="$bin/pg_ctl"
  ${as_postgres[@]+"${as_postgres[@]}"} "$bin/pg_ctl" -D "$scratch/pg" -l "$scratch/pg/log" -w \
    -o "-p $port -k '$scratch/pg' -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  # Its client tools too (pg_isready), should the PATH lack them.
  export PATH="$PATH:$bin"
fi

if ! redis_answers; then
  if ! command -v redis-server >/dev/null; then
    echo "Redis does not answer at TEST_REDIS_URL=$TEST_REDIS_URL and redis-server is not installed." >&2
    echo "Install it (as root): apt-get install -y redis-server, or point TEST_REDIS_URL at a server." >&2
    exit 1
  fi
  scratch_dir
  port="$(free_port)"
  echo "services: Redis does not answer; starting a throwaway one on port $port"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$scratch" >/dev/null &
  redis_pid=$!
  export TEST_REDIS_URL="redis://127.0.0.1:$port"
  redis_host="127.0.0.1:$port"
  for _ in $(seq 1 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "services: the throwaway Redis did not start" >&2; exit 1; }
fi

"$@"
