#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for running the test suite against PostgreSQL.
#
#   scripts/throwaway-postgres.sh start DIR    create a cluster in DIR (must not exist yet), start
#                                              it on a free port, print its URL on stdout
#   scripts/throwaway-postgres.sh stop DIR     stop that cluster and delete DIR
#   scripts/throwaway-postgres.sh run CMD...   start one in a temporary folder, run CMD with
#                                              DATABASE_URL set to it, stop it however CMD ends
#
# The URL is postgres://marquee@127.0.0.1:PORT/postgres: superuser `marquee`, trust
# authentication (any local user may connect while it runs), fsync off. Test data only.
#
# Uses the newest server under /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql),
# else pg_ctl on PATH. PostgreSQL refuses to run as root: as root, the cluster runs as the
# `postgres` user, which Debian's package creates.
set -euo pipefail

fail() {
  echo "throwaway-postgres: $*" >&2
  exit 1
}

find_bindir() {
  local candidates
  candidates="$(compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' | sort -V | tail -n 1 || true)"
  if [[ -n "$candidates" ]]; then
    dirname "$candidates"
  elif command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"
  else
    fail 'no PostgreSQL server found (install it: apt-get install postgresql)'
  fi
}

# Runs a server binary as the cluster's owner: the postgres user when we are root, else ourselves.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || fail 'running as root, but there is no postgres user to run the server'
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

free_port() {
  node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => {
    console.log(s.address().port);
    s.close();
  });"
}

start() {
  local dir="$1" bin port
  [[ -e "$dir" ]] && fail "$dir already exists; give a new folder"
  # The server's options are one string, split at spaces.
  [[ "$dir" =~ [[:space:]] ]] && fail "the folder's path must not contain spaces: $dir"
  bin="$(find_bindir)"
  mkdir -p "$dir"
  [[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
  if ! as_owner "$bin/initdb" --pgdata="$dir/data" --username=marquee --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    fail "initdb failed in $dir"
  fi
  port="$(free_port)"
  # The socket goes into DIR too: Debian's /var/run/postgresql may not exist or not be ours.
  if ! as_owner "$bin/pg_ctl" start --pgdata="$dir/data" --log="$dir/postgres.log" --wait \
    --timeout=60 --options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >&2; then
    cat "$dir/postgres.log" >&2 || true
    fail "the server in $dir did not start"
  fi
  echo "postgres://marquee@127.0.0.1:$port/postgres"
}

stop() {
  local dir="$1"
  [[ -e "$dir" ]] || return 0
  # Deletes only what start made: a folder holding a cluster, or one left empty by a failed start.
  [[ -f "$dir/data/PG_VERSION" || -z "$(ls -A "$dir")" || -f "$dir/initdb.log" ]] ||
    fail "$dir does not hold a cluster made by this script; not deleting it"
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_owner "$(find_bindir)/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait >&2 ||
      fail "could not stop the server in $dir; left as it is"
  fi
  rm -rf "$dir"
}

run() {
  [[ $# -gt 0 ]] || fail 'run: which command?'
  local parent dir url
  parent="$(mktemp -d)"
  # The server's user must reach the cluster's folder inside.
  chmod 711 "$parent"
  dir="$parent/cluster"
  # Expanded now: the trap runs after this function's locals are gone.
  trap "stop '$dir' && rmdir '$parent'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  url="$(start "$dir")"
  DATABASE_URL="$url" "$@"
}

command="${1:-}"
case "$command" in
  start | stop)
    [[ $# -eq 2 ]] || fail "usage: $0 $command DIR"
    "$command" "$(realpath -m "$2")"
    ;;
  run)
    shift
    run "$@"
    ;;
  *)
    fail "usage: $0 start DIR | stop DIR | run CMD..."
    ;;
esac
