#!/usr/bin/env bash
# Builds the Debian package of sca-server: the binary in /usr/bin, the systemd unit (its own user,
# StateDirectory, hardening), the example configuration as /etc/sigillo/sca-server.env (a conffile),
# and docs/deploy.md.
#   scripts/server-deb.sh                   a release build (what `make server-deb` runs)
#   scripts/server-deb.sh --binary PATH     package an already built binary (the tests use the
#                                           debug one the test build made)
# Prints the path of the .deb (target/debian/).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    *) echo "server-deb: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$binary" ]; then
  # Release builds embed the pages of ui/dist.
  scripts/build-ui.sh >&2
  cargo build --release --locked --bin sca-server >&2
  binary=target/release/sca-server
fi
[ -x "$binary" ] || { echo "server-deb: no binary at $binary" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$binary" "$root/usr/bin/sca-server"
install -D -m 0644 packaging/sca-server/sca-server.service "$root/lib/systemd/system/sca-server.service"
install -D -m 0640 crates/sca-server/config.example.env "$root/etc/sigillo/sca-server.env"
install -D -m 0644 docs/deploy.md "$root/usr/share/doc/sca-server/deploy.md"
printf 'Sigillo sca-server\nLicense: %s\n' "$(sed -n 's/^license = "\(.*\)"/\1/p' Cargo.toml | head -1)" \
  > "$root/usr/share/doc/sca-server/copyright"
mkdir -p "$root/DEBIAN"
install -m 0755 packaging/sca-server/postinst packaging/sca-server/prerm packaging/sca-server/postrm "$root/DEBIAN/"
echo /etc/sigillo/sca-server.env > "$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: sca-server
Version: $version
Architecture: $arch
Maintainer: Sigillo <sigillo@example.invalid>
Installed-Size: $size
Depends: libc6 (>= 2.34), libgcc-s1, adduser
Suggests: postgresql
Section: net
Priority: optional
Homepage: https://example.invalid/sigillo
Description: Sigillo SCA server: PSD2 strong customer authentication with dynamic linking
 The bank side of Sigillo: customers, login with SCA, operations signed for dynamic linking,
 authenticator devices with push, lockout and a signed audit log. Runs as the systemd service
 sca-server under its own user; SQLite in /var/lib/sigillo by default.
CONTROL
mkdir -p target/debian
out="target/debian/sca-server_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$out" >&2
echo "$out"
