#!/usr/bin/env bash
# Installs what Sigillo's `make run` and `make test` need and is missing: Debian packages when
# run as root (or with passwordless sudo), otherwise it prints the exact command and stops.
# Usage: scripts/ensure-deps.sh [build] [test]
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
pkg_missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# build: a C toolchain (ring), clang + libclang for the webcam crate's bindings (nokhwa/V4L2).
# test:  a real Secret Service on a private D-Bus session for the keyring tests; Chromium for the
#        browser tests of Area Clienti; Python's venv for schemathesis (from PyPI); PostgreSQL's
#        server binaries for the throwaway cluster the server suite runs on a second time (no
#        cluster of the package is used); systemd-analyze, curl and adduser for the server
#        package test.
# desktop: Tauri 2's WebKitGTK and GTK libraries (build), WebKitWebDriver, Xvfb, dunst and the
#        D-Bus tools (desktop tests); the Rust tool tauri-driver is installed with cargo.
want=()
for profile in "$@"; do
  case "$profile" in
    build) want+=(build-essential pkg-config clang libclang-dev) ;;
    test) want+=(dbus gnome-keyring chromium python3-venv postgresql systemd curl adduser) ;;
    desktop) want+=(build-essential pkg-config file libssl-dev libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev
                    libsoup-3.0-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev) ;;
    desktop-test) want+=(webkit2gtk-driver xvfb xauth dbus dbus-x11 dunst gnome-keyring imagemagick) ;;
    *) echo "ensure-deps: unknown profile '$profile'" >&2; exit 2 ;;
  esac
done

missing=()
if have dpkg-query; then
  for p in "${want[@]}"; do pkg_missing "$p" && missing+=("$p"); done
else
  have cc || missing+=(a C compiler)
fi

if ((${#missing[@]})); then
  if ! have apt-get; then
    echo "Sigillo needs: ${missing[*]} (not a Debian system: install them with your package manager)." >&2
    exit 1
  fi
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then
    if have sudo && sudo -n true 2>/dev/null; then sudo_cmd=(sudo); else
      echo "Sigillo needs these Debian packages: ${missing[*]}" >&2
      echo "Run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "ensure-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web pages build with Vite, which needs Node.js 20 or newer (Debian 12 ships 18).
if [[ " $* " == *" test "* ]]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if ! have npm || [ "$node_major" -lt 20 ]; then
    echo "Sigillo's web pages need Node.js 20 or newer with npm (found: ${node_major/#0/none})." >&2
    echo "Install it from https://nodejs.org or your distribution's backports, then run this again." >&2
    exit 1
  fi
fi

if [[ " $* " == *" desktop-test "* ]] && ! have tauri-driver && have cargo; then
  echo "ensure-deps: installing tauri-driver (cargo install --locked, about 2 minutes)"
  cargo install --locked -q tauri-driver
fi

if ! have cargo; then
  echo "Sigillo needs Rust 1.90 or newer (cargo). Install it from https://rustup.rs and run this again." >&2
  exit 1
fi
