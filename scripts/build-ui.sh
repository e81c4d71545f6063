#!/usr/bin/env bash
# Builds the web pages (ui/dist: Area Clienti and the authenticator window) when they are
# missing or older than their sources; installs the npm packages first when needed.
set -euo pipefail
cd "$(dirname "$0")/../ui"
command -v npm >/dev/null || { echo "Sigillo's pages need Node.js 20 or newer with npm" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci (ui)"
  npm ci --no-audit --no-fund --loglevel=error
fi
stamp=dist/authenticator.html
if [ ! -f "$stamp" ] || ! grep -q 'assets/' "$stamp" \
  || [ -n "$(find src index.html authenticator.html package-lock.json vite.config.ts -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "== building the pages (ui/dist)"
  npm run --silent build
fi
