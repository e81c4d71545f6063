#!/usr/bin/env bash
# The desktop tests (called by `make test`): the real `sigillo` app under Xvfb, driven through
# tauri-driver + WebKitWebDriver, in a private D-Bus session with an unlocked gnome-keyring and
# the dunst notification daemon; dbus-monitor records every desktop notification for the tests.
# Needs ui/dist (tests/e2e/run.sh or `make ui` builds it). Artifacts: artifacts/desktop/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

for tool in Xvfb dbus-run-session dbus-monitor dunst WebKitWebDriver import node cargo; do
  command -v "$tool" >/dev/null || { echo "desktop tests: $tool is missing (scripts/ensure-deps.sh desktop)" >&2; exit 1; }
done
if ! command -v tauri-driver >/dev/null; then
  echo "== installing tauri-driver (cargo install --locked)"
  cargo install --locked -q tauri-driver
fi
scripts/build-ui.sh

# The app comes from the workspace's test build (src-tauri/tests/no_display.rs makes it build
# the binary), free after `make unit`; `cargo build -p` would compile much of the tree again.
echo "== cargo test --workspace --no-run (the app, target/debug/sigillo)"
cargo test --workspace --locked --no-run -q 2>&1 | grep -v '^  Executable' || true
test -x target/debug/sigillo

rm -rf artifacts/desktop && mkdir -p artifacts/desktop
export SIGILLO_NOTIFY_LOG="$root/artifacts/desktop/notifications.log"
start=$(date +%s)
scripts/with-xvfb.sh scripts/with-keyring.sh bash -c '
  # The notification calls and signals, and the server'"'"'s answers (the ids it gives).
  dbus-monitor --session "interface='"'"'org.freedesktop.Notifications'"'"'" \
    "type='"'"'method_return'"'"',sender='"'"'org.freedesktop.Notifications'"'"'" >"$SIGILLO_NOTIFY_LOG" 2>&1 &
  monitor=$!
  trap "kill $monitor 2>/dev/null || true" EXIT
  node --test --test-concurrency=1 --test-reporter=spec tests/desktop/desktop.test.mjs
'
echo "desktop: $(( $(date +%s) - start )) s; screenshots in artifacts/desktop/"
