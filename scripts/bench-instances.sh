#!/usr/bin/env bash
# Authorizations/s and push latency on PostgreSQL with 1 and 2 instances, against SQLite with 1,
# in one run on this machine (load generator included); docs/benchmarks.md ("Scale-out").
#   scripts/bench-instances.sh [AUTHORIZATIONS [LOAD OPTIONS…]]   e.g. 30000 --customers 16
#   SCA_BENCH_SETUPS="pg2" scripts/bench-instances.sh 20000         only some of: sqlite pg1 pg2
# Release builds of sca-server and the load generator; a throwaway PostgreSQL cluster
# (scripts/with-postgres.sh, fsync and synchronous_commit on); every server in sandbox mode.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
if [ -z "${SCA_TEST_POSTGRES:-}" ]; then
  cargo build --release --locked --bin sca-server --example load >&2
  exec scripts/with-postgres.sh "$0" "$@"
fi
server=target/release/sca-server
load=target/release/examples/load
scratch=$(mktemp -d)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$scratch"; }
trap stop EXIT
# start NAME PORT DATABASE_URL: a sandbox server on 127.0.0.1:PORT with its keys in $scratch/keys.
start() {
  local url=()
  [ -n "$3" ] && url=(--database-url "$3")
  SCA_ADMIN_TOKEN=bench SCA_LOGIN_BURST=0 RUST_LOG=warn "$server" --listen "127.0.0.1:$2" --sandbox \
    --data-dir "$scratch/$1" --bank-key-file "$scratch/keys/bank.p8" --secrets-key-file "$scratch/keys/secrets.key" \
    "${url[@]}" >"$scratch/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$2/api/v1/health" >/dev/null && return; sleep 0.1; done
  cat "$scratch/$1.log" >&2; exit 1
}
mkdir -p "$scratch/keys"
"$server" keygen --bank-key-file "$scratch/keys/bank.p8" --secrets-key-file "$scratch/keys/secrets.key" >/dev/null
psql -q "$SCA_TEST_POSTGRES" -c "CREATE DATABASE bench1" -c "CREATE DATABASE bench2"
pg="${SCA_TEST_POSTGRES%/*}"
extra=("${@:2}")
run() { echo "== $1"; shift; "$load" --admin-token bench --authorizations "$n" --pushes 300 --scenario authorize,push "$@" "${extra[@]}"; }

setups=" ${SCA_BENCH_SETUPS:-sqlite pg1 pg2} "
if [[ $setups == *" sqlite "* ]]; then
  start sqlite 18101 ""
  run "SQLite, 1 instance" --base http://127.0.0.1:18101
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ $setups == *" pg1 "* ]]; then
  start pg1 18111 "$pg/bench1"
  run "PostgreSQL, 1 instance" --base http://127.0.0.1:18111
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  # The next setup starts on a quiet cluster: no autovacuum of this one's tables, no checkpoint
  # of its writes falling in the next run.
  psql -q "$SCA_TEST_POSTGRES" -c "DROP DATABASE bench1" -c "CHECKPOINT"
fi

if [[ $setups == *" pg2 "* ]]; then
  start pg2a 18121 "$pg/bench2"
  start pg2b 18122 "$pg/bench2"
  run "PostgreSQL, 2 instances (push created on the second, device on the first)" \
    --base http://127.0.0.1:18121 --also http://127.0.0.1:18122
fi
