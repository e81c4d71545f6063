#!/usr/bin/env bash
# Runs a command on a virtual display of its own (Xvfb, the first free number from 90), which
# is stopped afterwards. Used by the desktop tests and benchmarks.
set -euo pipefail
command -v Xvfb >/dev/null || { echo "with-xvfb: Xvfb is missing (apt-get install xvfb)" >&2; exit 1; }
display=90
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
DISPLAY=":$display" NO_AT_BRIDGE=1 "$@"
