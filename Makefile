# Thin wrapper over CMake: `make demo` and `make test` work on a fresh Debian 12
# machine as root (missing packages are installed first).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
MPIEXEC    ?= mpiexec --allow-run-as-root --oversubscribe
CMAKE_ARGS ?=

.PHONY: all deps build build-asan demo test test-plain test-asan install bench clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=address,undefined $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

demo: build
	$(MPIEXEC) -n 2 $(BUILD)/tools/shardload demo

# The whole suite, plain and then under AddressSanitizer + UBSan.
test: test-plain test-asan

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-asan: build-asan
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

install: build
	cmake --install $(BUILD)

bench: build
	/usr/bin/python3 bench/bench_npy.py --shardload $(BUILD)/tools/shardload

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
