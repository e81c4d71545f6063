#!/usr/bin/env bash
# The Debian package of sca-server, installed on this machine: the unit file verifies, its
# hardening rates "OK" or better, and the unit's own command line — as its user, with its
# environment file and state directory — starts the server, which answers /api/v1/health. Then
# the package is purged and what the test made is removed.
#
# No systemd runs as PID 1 here, so the test does what the unit asks of systemd by hand (user,
# StateDirectory, EnvironmentFile, ExecStart); the sandboxing options are checked by
# `systemd-analyze security --offline`, not enforced.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "server-deb test: $*"; }
fail() { echo "server-deb test FAILED: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  say "skipped: installing a package needs root (CI runs as root)"
  exit 0
fi
if dpkg-query -W -f='${Status}' sca-server 2>/dev/null | grep -q "install ok installed" || [ -e /var/lib/sigillo ]; then
  say "skipped: sca-server is installed here already, or /var/lib/sigillo exists; a real installation is never touched"
  exit 0
fi
binary=target/debug/sca-server
[ -x "$binary" ] || fail "no $binary (run the test build first: make unit)"

deb=$(scripts/server-deb.sh --binary "$binary")
say "built $deb"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  dpkg --purge sca-server >/dev/null 2>&1 || true
  rm -rf /var/lib/sigillo /etc/sigillo
  getent passwd sigillo >/dev/null && deluser --system --quiet sigillo >/dev/null 2>&1 || true
  getent group sigillo >/dev/null && delgroup --system --quiet sigillo >/dev/null 2>&1 || true
}
trap cleanup EXIT
dpkg -i "$deb" >/dev/null
unit=/lib/systemd/system/sca-server.service
[ -f "$unit" ] || fail "the unit is not installed"

# The unit verifies, and its exposure is 2.0 or lower ("OK").
verify=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify says: $verify"
exposure=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for sca-server.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "no exposure level from systemd-analyze security"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "exposure $exposure is above 2.0"
say "unit verified; exposure $exposure"

# What the unit asks of systemd, read from the unit itself.
field() { sed -n "s/^$1=//p" "$unit" | head -1; }
user=$(field User)
state=/var/lib/$(field StateDirectory)
envfile=$(field EnvironmentFile)
exec_start=$(field ExecStart)
getent passwd "$user" >/dev/null || fail "the package did not make the user $user"
[ "$(stat -c '%U:%G %a' "$envfile")" = "root:$user 640" ] || fail "$envfile is $(stat -c '%U:%G %a' "$envfile")"
install -d -o "$user" -g "$user" -m "$(field StateDirectoryMode)" "$state"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
# shellcheck disable=SC2046,SC2086
runuser -u "$user" -- env -i PATH=/usr/bin:/bin $(grep -E '^[A-Z_]+=' "$envfile") \
  SCA_LISTEN="127.0.0.1:$port" $exec_start >"$log" 2>&1 &
pid=$!
health=""
for _ in $(seq 1 60); do
  health=$(curl -fsS "http://127.0.0.1:$port/api/v1/health" 2>/dev/null) && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the server exited"; }
  sleep 0.5
done
[ "$health" = '{"status":"ok","durable":true}' ] || { cat "$log" >&2; fail "health answered: $health"; }
say "ExecStart as $user answers /api/v1/health: $health"
for f in sca.db bank-key.p8 secrets.key; do
  [ "$(stat -c '%U' "$state/$f")" = "$user" ] || fail "$state/$f is not the service user's"
done
[ "$(stat -c '%a' "$state/bank-key.p8")" = 600 ] || fail "bank-key.p8 is not 0600"

# SIGTERM stops it well within TimeoutStopSec.
kill -TERM "$pid"
for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
kill -0 "$pid" 2>/dev/null && fail "still running 15 s after SIGTERM"
wait "$pid" || true
pid=""

# Purge removes the program and the unit, never the data.
dpkg --purge sca-server >/dev/null
[ ! -e /usr/bin/sca-server ] && [ ! -e "$unit" ] || fail "purge left the program or the unit"
[ -f "$state/sca.db" ] || fail "purge removed the bank's data"
say "purged; the data directory stayed, as it must (the test removes it now)"
