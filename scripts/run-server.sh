#!/usr/bin/env bash
# `make server`: a demo bank (sca-server --demo) serving Area Clienti,
# with the headless authenticator (sigillo-auth) to approve its logins and transfers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${SIGILLO_PORT:-8080}
data=${SIGILLO_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/sigillo/demo-bank}

scripts/build-ui.sh
echo "== building sca-server and sigillo-auth"
cargo build --locked -q -p sca-server -p authenticator

cat <<MSG

Sigillo demo bank
  Area Clienti:   http://127.0.0.1:$port/     (open it in a browser)
  Its data:       $data   (delete it to start afresh)
  Authenticator:  target/debug/sigillo-auth activate --server http://127.0.0.1:$port --user <user code below>
                  (password and SMS code below; then: sigillo-auth otp login | listen | scan FILE)
                  Without a desktop keyring: scripts/with-keyring.sh bash, then the same commands.
  Stop with Ctrl-C.

MSG
mkdir -p "$data"
exec target/debug/sca-server --listen "127.0.0.1:$port" --data-dir "$data" --demo
