# libodp: `make demo` shows it working end to end; `make test` runs every test.
CARGO ?= cargo

.PHONY: all build demo test test-rust test-c lint header clean

all: build

build:
	$(CARGO) build --release --lib

demo:
	bash examples/demo.sh

test: lint test-rust test-c

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust:
	$(CARGO) test

# The C tests use the debug library and the collector example; valgrind runs them (VALGRIND=0 skips it).
test-c:
	$(CARGO) build --lib --example collector
	bash tests/c/run.sh

# Regenerates include/odp.h (build.rs does it on every build; commit the result).
header:
	$(CARGO) build --lib

clean:
	$(CARGO) clean
