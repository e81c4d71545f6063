# Sigillo — the two commands of the README, and a few more for developers.
#   make run    runs Sigillo
#   make test   runs every test (what CI runs)
# Both install what is missing first (scripts/ensure-deps.sh).

SHELL := /bin/bash
CARGO ?= cargo
VECTORS := crates/sca-protocol/tests/vectors/sca1.json
# Use cargo-nextest when it is there (faster, one process per test); plain cargo test otherwise.
NEXTEST := $(shell command -v cargo-nextest >/dev/null 2>&1 && echo yes)

.PHONY: run server demo test deps ui lint unit api-fuzz doc-test vectors server-deb server-deb-test e2e desktop bench bundle fmt help

help:
	@echo "make run    run Sigillo: the desktop app with its own demo bank"
	@echo "make server the demo bank alone (Area Clienti on http://127.0.0.1:8080/, no desktop needed)"
	@echo "make bundle the .deb package of the desktop app (target/release/bundle/deb/)"
	@echo "make server-deb  the .deb package of sca-server with its systemd unit (target/debian/)"
	@echo "make demo   dynamic linking step by step with the sca developer tool"
	@echo "make test   every test: format, lints, unit + integration tests, published vectors"
	@echo "make bench  the benchmarks of docs/benchmarks.md"

deps:
	@scripts/ensure-deps.sh build desktop test desktop-test

# The desktop app (Area Clienti + authenticator, demo bank in-process); with no display it says
# so and suggests `make server`. The pages need Node.js for their first build.
run: deps
	@scripts/run.sh

server: deps
	@scripts/run-server.sh

ui:
	@scripts/build-ui.sh

demo: deps
	@$(CARGO) build --locked -q -p sca-cli
	@scripts/demo.sh target/debug/sca

test: deps ui lint unit api-fuzz doc-test vectors server-deb-test e2e desktop
	@echo "make test: all green"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# Every test runs with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus session.
# The server's API suite then runs again on PostgreSQL, in a throwaway cluster of its own
# (scripts/with-postgres.sh: initdb in a temporary folder, a free loopback port, removed after).
# schemathesis runs once, on SQLite (api-fuzz).
PG_SUITE := SCA_TEST_ENGINE=postgres scripts/with-postgres.sh scripts/with-keyring.sh
unit:
ifeq ($(NEXTEST),yes)
	scripts/with-keyring.sh $(CARGO) nextest run --workspace --locked --no-fail-fast
	$(PG_SUITE) $(CARGO) nextest run --workspace --locked --no-fail-fast -E 'binary(api) and not test(schemathesis)'
else
	scripts/with-keyring.sh $(CARGO) test --workspace --locked --no-fail-fast --all-targets
	$(PG_SUITE) $(CARGO) test --workspace --locked --no-fail-fast --test api -- --skip schemathesis
endif

# The OpenAPI document against the real server: schemathesis, every operation, every check but
# one (named in crates/sca-server/tests/api/schemathesis.rs with its reason).
api-fuzz:
	scripts/api-fuzz.sh

doc-test:
	$(CARGO) test --workspace --locked --doc

# `sca` from the workspace's test build (free after `make unit`; see tests/e2e/run.sh).
vectors:
	$(CARGO) test --workspace --locked --no-run -q 2>&1 | grep -v '^  Executable' || true
	target/debug/sca vectors check $(VECTORS)

# The Debian package of sca-server (release build) with its systemd unit; docs/deploy.md.
server-deb: deps
	@scripts/server-deb.sh

# That package, made from the test build's binary, installed here: the unit verifies, rates "OK"
# in systemd-analyze security, and its command line answers /api/v1/health; then it is purged.
server-deb-test:
	tests/server-deb/run.sh

# Area Clienti: Vitest, the build of ui/dist, and the browser tests in Chromium against a real
# sca-server --demo with sigillo-auth as the customer's authenticator.
e2e:
	tests/e2e/run.sh

# The real desktop app under Xvfb, driven through tauri-driver (tests/desktop/).
desktop:
	tests/desktop/run.sh

bundle: deps ui
	cd src-tauri && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npx tauri build --bundles deb
	@ls -1 target/release/bundle/deb/*.deb

bench:
	$(CARGO) bench --locked -p sca-protocol --bench protocol
	$(CARGO) run --locked --release -p sca-qr --example decode_rate
	tests/desktop/bench.sh

fmt:
	$(CARGO) fmt --all
