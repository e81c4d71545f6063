#!/usr/bin/env bash
# schemathesis (PyPI) against sca-server's OpenAPI document: installs it once into a virtual
# environment under target/, then runs the ignored test that starts a sandbox server with a
# logged-in customer and hands it the document. SCHEMATHESIS_EXAMPLES bounds the examples per
# operation (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.32.5
VENV=target/schemathesis-venv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "api-fuzz: installing schemathesis $VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$VERSION"
fi
export SCHEMATHESIS="$PWD/$VENV/bin/schemathesis"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --run-ignored only --no-capture \
    -E 'test(schemathesis_finds_the_document_exact)'
else
  cargo test --locked -p sca-server --test api -- --ignored --nocapture schemathesis_finds_the_document_exact
fi
