#!/usr/bin/env bash
# `make run`: the Sigillo desktop app — Area Clienti and the authenticator in two windows, with
# its own demo bank on loopback (its SMS codes appear in the authenticator's simulated phone).
# Extra arguments go to the app: scripts/run.sh --server https://bank.example | --kiosk
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat >&2 <<'MSG'
Sigillo is a desktop app and this session has no display (DISPLAY and WAYLAND_DISPLAY are unset).
  On a machine without a desktop, run the demo bank alone and use Area Clienti from a browser:
    make server          (sca-server --demo on http://127.0.0.1:8080/, with sigillo-auth as the authenticator)
  Or give it a virtual display:  Xvfb :99 & DISPLAY=:99 make run
MSG
  exit 2
fi
scripts/build-ui.sh
echo "== building the desktop app"
cargo build --locked -q -p sigillo-desktop
args=("$@")

# Keys live in the desktop keyring (Secret Service). Without one (a bare X session), use a
# private, throwaway one for this run.
has_secrets() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  local m
  for m in ListNames ListActivatableNames; do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      "org.freedesktop.DBus.$m" 2>/dev/null | grep -q '"org.freedesktop.secrets"' && return 0
  done
  return 1
}
if [[ " ${args[*]:-} " != *" --kiosk "* ]] && ! has_secrets && [ -z "${SIGILLO_KEYRING_SESSION:-}" ]; then
  echo "== no desktop keyring is running: using a private, throwaway one for this run"
  echo "   (profiles and the demo bank made now are forgotten at exit; on a desktop they are kept)"
  exec scripts/with-keyring.sh target/debug/sigillo "${args[@]}"
fi
exec target/debug/sigillo "${args[@]}"
