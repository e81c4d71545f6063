#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster of its own: Debian's server binaries, initdb
# into a temporary folder, a free loopback port, trust authentication on loopback only. The
# command finds it in SCA_TEST_POSTGRES (a postgres:// URL of a superuser; tests make a database
# each). The cluster is stopped and deleted when the command ends, whatever its outcome; no
# preinstalled server is used and none is left behind.
set -euo pipefail
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: PostgreSQL's server binaries are missing (apt-get install postgresql)" >&2
  exit 1
fi
scratch=$(mktemp -d /tmp/sigillo-pg.XXXXXX)
# initdb refuses to run as root: as root the cluster belongs to the postgres user.
as=()
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
  chown postgres: "$scratch"
fi
stop() {
  "${as[@]}" "$bindir/pg_ctl" -D "$scratch/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap stop EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as[@]}" "$bindir/initdb" -D "$scratch/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$scratch/initdb.log" 2>&1 ||
  { cat "$scratch/initdb.log" >&2; exit 1; }
# Durable commits as in production (fsync, synchronous_commit=on); enough connections for the
# suite's servers running at once. SCA_PG_OPTIONS adds server options (benchmarks: e.g.
# "-c shared_preload_libraries=pg_stat_statements").
"${as[@]}" "$bindir/pg_ctl" -D "$scratch/data" -l "$scratch/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$scratch -c max_connections=400 -c shared_buffers=128MB ${SCA_PG_OPTIONS:-}" \
  start >/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
export SCA_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: a throwaway cluster on 127.0.0.1:$port" >&2
"$@"
