# Countersign. Two commands set up everything on a fresh Debian/Ubuntu machine:
#   make run    install what is missing, build, start the server with a demo organisation
#               and the desktop app
#   make test   the whole test suite (lints, type checks, unit, PostgreSQL and end-to-end)
# The other targets are their steps.

SHELL := /bin/bash
# Builds are shared across clones and CI runs: a warm target directory outside the clone.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/countersign/target
export PATH := $(HOME)/.cargo/bin:$(HOME)/.cache/countersign/node/bin:$(PATH)
# CI machines have 2 cores; keep test binaries from starving each other's servers.
CARGO_TEST_THREADS ?= 4

.PHONY: run test deps test-deps prune-target postgres ui build lint fmt bindings check-ui test-rust schemathesis clean-artifacts

run: deps ui build
	@scripts/run.sh

test: test-deps prune-target postgres lint check-ui ui test-rust schemathesis
	@echo "make test: all checks passed"

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

postgres:
	@scripts/postgres.sh

# The warm target directory is shared by every run; keep it from filling the disk.
prune-target:
	@scripts/prune-target.sh

ui:
	@cd ui && npm run build --silent

# The same package selection as `cargo test --workspace`, so that `make run` and `make test`
# share one set of compiled dependencies instead of each building its own.
build:
	cargo build --workspace --bins --tests

# Formatting first: it is the cheapest check and the most common slip.
lint:
	cargo fmt --all --check
	cd ui && npm run --silent typecheck && npm run --silent lint

check-ui:
	cd ui && npm run --silent test

# Clippy needs ui/dist (the desktop crate embeds it), hence the ui prerequisite in `test`.
test-rust:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace -- --test-threads=$(CARGO_TEST_THREADS)
	@echo "screenshots of the desktop end-to-end run: artifacts/e2e/"

# The live server against its own OpenAPI document (after test-rust, which built it).
schemathesis:
	@scripts/schemathesis.sh

# Regenerates ui/src/bindings.ts from the Tauri commands.
bindings:
	UPDATE_BINDINGS=1 cargo test -p countersign-desktop bindings_are_up_to_date

fmt:
	cargo fmt --all

clean-artifacts:
	rm -rf artifacts
