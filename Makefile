# Sigillo — the two commands of the README, and a few more for developers.
#   make run    runs Sigillo
#   make test   runs every test (what CI runs)
# Both install what is missing first (scripts/ensure-deps.sh).

SHELL := /bin/bash
CARGO ?= cargo
VECTORS := crates/sca-protocol/tests/vectors/sca1.json
# Use cargo-nextest when it is there (faster, one process per test); plain cargo test otherwise.
NEXTEST := $(shell command -v cargo-nextest >/dev/null 2>&1 && echo yes)

.PHONY: run test deps lint unit doc-test vectors bench fmt clean-demo help

help:
	@echo "make run    run Sigillo (for now: the sca developer tool's dynamic-linking demo)"
	@echo "make test   every test: format, lints, unit + integration tests, published vectors"
	@echo "make bench  the benchmarks of docs/benchmarks.md"

deps:
	@scripts/ensure-deps.sh build test

run: deps
	@$(CARGO) build --locked -q -p sca-cli
	@scripts/demo.sh target/debug/sca

test: deps lint unit doc-test vectors
	@echo "make test: all green"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# Every test runs with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus session.
unit:
ifeq ($(NEXTEST),yes)
	scripts/with-keyring.sh $(CARGO) nextest run --workspace --locked --no-fail-fast
else
	scripts/with-keyring.sh $(CARGO) test --workspace --locked --no-fail-fast --all-targets
endif

doc-test:
	$(CARGO) test --workspace --locked --doc

vectors:
	$(CARGO) build --locked -q -p sca-cli
	target/debug/sca vectors check $(VECTORS)

bench:
	$(CARGO) bench --locked -p sca-protocol --bench protocol
	$(CARGO) run --locked --release -p sca-qr --example decode_rate

fmt:
	$(CARGO) fmt --all
