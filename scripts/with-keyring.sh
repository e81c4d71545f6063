#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus session,
# with the keyring files in a throwaway folder: the user's own keyring is never touched.
set -euo pipefail
if [ -z "${SIGILLO_KEYRING_SESSION:-}" ]; then
  for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "with-keyring: $tool is missing (apt-get install dbus gnome-keyring)" >&2; exit 1; }
  done
  exec dbus-run-session -- env SIGILLO_KEYRING_SESSION=1 "$0" "$@" 2> >(grep -v 'Failed to set fd limit' >&2)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
eval "$(printf 'sigillo-tests' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# The daemon makes its "login" collection (the `default` alias) after it answers: on a loaded
# machine a test that came first found no collection ("result not returned from SS API"). Wait
# for it, 10 s at most.
if command -v dbus-send >/dev/null; then
  for _ in $(seq 1 100); do
    if dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
      org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null | grep -q 'collection/'; then
      break
    fi
    sleep 0.1
  done
fi
"$@"
