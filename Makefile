# libodp: `make demo` shows it working end to end; `make test` runs every test.
CARGO ?= cargo
PYTHON ?= python3
PY_VENV := target/python-venv
PREFIX ?= /usr/local

.PHONY: nightly all build demo bench install test test-rust test-c test-cpp test-packaging test-go test-python lint header clean test-sanitize sanitize-address sanitize-thread miri fuzz

all: build

build:
	$(CARGO) build --release --lib

demo:
	bash examples/demo.sh

test: lint test-rust test-c test-cpp test-packaging test-go test-python

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust:
	$(CARGO) test

# The C tests use the debug library and the collector example; valgrind runs them (VALGRIND=0 skips it).
test-c:
	$(CARGO) build --lib --example collector
	bash tests/c/run.sh

# Benchmarks against the Optimizely SDKs (not part of `make test`): release builds, a local
# collector, BENCH_RUNS runs of each measurement; prints one table, writes bench/results.json
# and docs/bench.png. See bench/README.md.
BENCH_RUNS ?= 5
bench:
	$(PYTHON) bench/run.py --runs $(BENCH_RUNS)

# Library, headers, pkg-config and CMake files under $(PREFIX); DESTDIR stages.
install:
	DESTDIR="$(DESTDIR)" bash bindings/c/install.sh "$(PREFIX)"

# C++ wrapper: GoogleTest via ctest, then the binaries under valgrind (VALGRIND=0 skips).
test-cpp:
	bash tests/cpp/run.sh

# Install into a temp prefix; build the C and C++ quickstarts with pkg-config (shared and
# static) and CMake find_package(odp); run each against a collector.
test-packaging:
	bash tests/packaging/run.sh

# Go binding: vet, race detector, and the quickstart against the collector.
test-go:
	$(CARGO) build --release --lib --example collector
	test -z "$$(gofmt -l bindings/go examples/go)"
	cd bindings/go && go vet ./... && go test -race -count=1 ./...
	cd examples/go && go vet ./...
	bash examples/go/run_quickstart.sh

# Python binding: pytest against the source tree (offline), then `pip install` into a fresh venv
# under target/ (pip fetches setuptools from PyPI) and the quickstart run by that install.
test-python:
	$(CARGO) build --release --lib --example collector
	ODP_LIBRARY_PATH=$(CURDIR)/target/release/libodp.so $(PYTHON) -m pytest bindings/python/tests -q -p no:cacheprovider
	rm -rf $(PY_VENV) && $(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet ./bindings/python
	cd / && $(CURDIR)/$(PY_VENV)/bin/python -c "import libodp; print('installed libodp', libodp.__version__, 'loads', libodp.library_path())"
	bash examples/python/run_quickstart.sh $(PY_VENV)/bin/python

# Fuzzing (nightly Rust, cargo-fuzz): FUZZ_SECONDS per target (default 60). Crashers land in
# fuzz/regressions/, replayed by `make test` (tests/fuzz_regressions.rs).
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	bash fuzz/run.sh

# Sanitizers (nightly Rust; rustup fetches the components if missing):
# - the C tests under AddressSanitizer + UBSan,
# - the C tests under ThreadSanitizer against a TSan-instrumented build of the library,
# - the core's unit tests under Miri (undefined behaviour, provenance, data races).
NIGHTLY := +nightly
TSAN_TARGET := x86_64-unknown-linux-gnu

test-sanitize: sanitize-address sanitize-thread miri

# The nightly toolchain and the components the sanitizer builds need (fetched by rustup).
nightly:
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	rustup component add rust-src miri --toolchain nightly

sanitize-address:
	$(CARGO) build --lib --example collector
	SANITIZE=address bash tests/c/run.sh

sanitize-thread: nightly
	$(CARGO) build --example collector
	RUSTFLAGS="-Zsanitizer=thread" $(CARGO) $(NIGHTLY) build -Zbuild-std --target $(TSAN_TARGET) --lib --target-dir target/tsan
	SANITIZE=thread bash tests/c/run.sh

miri: nightly
	MIRIFLAGS=-Zmiri-strict-provenance $(CARGO) $(NIGHTLY) miri test --lib

# Regenerates include/odp.h (build.rs does it on every build; commit the result).
header:
	$(CARGO) build --lib

clean:
	$(CARGO) clean
