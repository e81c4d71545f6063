#!/usr/bin/env bash
# `make demo`: dynamic linking end to end with the `sca` tool, in a temporary folder that is
# removed afterwards.
set -euo pipefail
sca=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "1. The bank makes its signing key" "sca keygen --out bank.pk8"
bank_pub=$("$sca" keygen --out bank.pk8 | tee /dev/stderr | sed -n 's/^bank_pub: //p')

step "2. The bank signs a transfer (dynamic linking: amount and payee inside the signature)" \
  "sca payload make --key bank.pk8 --kind TRANSFER --field A=1250.00EUR --field 'B=Mario Rossi' --field I=IT60X0542811101000000123456 --ttl 300"
"$sca" payload make --key bank.pk8 --kind TRANSFER --field A=1250.00EUR --field 'B=Mario Rossi' \
  --field I=IT60X0542811101000000123456 --field 'D=Affitto novembre' --ttl 300 --out payload.txt
cat payload.txt

step "3. … and shows it as a QR code" "sca qr render payload.txt -o payload.png"
"$sca" qr render payload.txt -o payload.png
echo "payload.png: $(wc -c < payload.png) bytes"

step "4. The authenticator reads the QR code" "sca qr decode payload.png"
"$sca" qr decode payload.png > decoded.txt
cmp -s payload.txt decoded.txt && echo "decoded text = signed payload, byte for byte"

step "5. … verifies the bank's signature and shows every field" "sca payload verify --bank-pub … decoded.txt"
"$sca" payload verify --bank-pub "$bank_pub" decoded.txt

step "6. A changed amount is refused" "sed s/1250.00/9250.00/ decoded.txt | sca payload verify --bank-pub … -"
sed 's/1250.00EUR/9250.00EUR/' decoded.txt | "$sca" payload verify --bank-pub "$bank_pub" - || true

step "7. The code the customer types back (here from demo keys; the authenticator uses its own)" \
  "sca code --purpose operation --k-poss … --k-know … --payload decoded.txt"
"$sca" code --purpose operation --k-poss "$(printf '11%.0s' {1..32})" --k-know "$(printf '22%.0s' {1..32})" --payload decoded.txt

cat <<'MSG'

This is the developer's view of Sigillo's protocol. `make run` starts a demo bank with its
Area Clienti pages; `sca --help` (target/debug/sca) shows everything else this tool does.
MSG
