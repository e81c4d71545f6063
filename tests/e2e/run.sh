#!/usr/bin/env bash
# Area Clienti: every test of the web pages, in one command (called by `make test`).
#   1. npm dependencies (npm ci) for ui/ and tests/e2e/ when missing or stale
#   2. the pages (npm run build → ui/dist) and their unit tests (Vitest)
#   3. sca-server and sigillo-auth (cargo build)
#   4. the end-to-end tests in Debian's Chromium, inside a private D-Bus + unlocked keyring
# Exits non-zero on the first failure. Artifacts (screenshots, axe reports, server logs) go to
# artifacts/e2e/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

step() { printf '\n== %s\n' "$*"; }

need_ci() { # dir: node_modules missing or older than the lock file
  [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]
}

for tool in node npm cargo; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done
chromium_bin=${CHROMIUM_BIN:-/usr/bin/chromium}
[ -x "$chromium_bin" ] || { echo "run.sh: $chromium_bin is missing (apt-get install -y chromium)" >&2; exit 1; }

step "npm dependencies"
for dir in ui tests/e2e; do
  if need_ci "$dir"; then (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); else echo "$dir: up to date"; fi
done

step "ui: type check, unit tests (Vitest), build"
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)

# The binaries come from the workspace's test build (the one `make unit` ran, so this is free
# after it): a `cargo build -p …` would unify other features and compile half the tree again.
step "cargo test --workspace --no-run (sca-server, sigillo-auth)"
cargo test --workspace --locked --no-run -q 2>&1 | grep -v '^  Executable' || true
test -x target/debug/sca-server && test -x target/debug/sigillo-auth

step "end to end (Chromium + sca-server --demo + sigillo-auth)"
start=$(date +%s)
rm -rf artifacts/e2e && mkdir -p artifacts/e2e
scripts/with-keyring.sh node --test --test-concurrency=1 --test-reporter=spec \
  tests/e2e/banking.test.mjs tests/e2e/idle.test.mjs tests/e2e/threeds.test.mjs tests/e2e/firstaccess.test.mjs \
  tests/e2e/bills.test.mjs
echo "e2e: $(( $(date +%s) - start )) s; screenshots and axe reports in artifacts/e2e/"
