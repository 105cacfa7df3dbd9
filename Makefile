# Thin wrapper over CMake: `make demo` and `make test` work on a fresh Debian 12
# machine as root (missing packages are installed first).
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
MPIEXEC    ?= mpiexec --allow-run-as-root --oversubscribe
CMAKE_ARGS ?=

.PHONY: all deps build build-asan build-tsan demo test test-plain test-asan test-tsan install bench clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=address,undefined $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# ThreadSanitizer needs clang with LLVM's libomp (GCC's libgomp is not
# instrumented): the threads share the file cache and the decoding pools.
build-tsan: deps
	CC=clang cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSL_SANITIZE=thread $(CMAKE_ARGS) >/dev/null
	cmake --build $(TSAN_BUILD) -j$(JOBS)

demo: build
	$(MPIEXEC) -n 2 $(BUILD)/tools/shardload demo

# The whole suite, plain and then under AddressSanitizer + UBSan; the unit
# and fixture tests once more under ThreadSanitizer.
test: test-plain test-asan test-tsan

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-asan: build-asan
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

test-tsan: build-tsan
	ctest --test-dir $(TSAN_BUILD) --output-on-failure -j$(JOBS) -L "unit|fixture"

install: build
	cmake --install $(BUILD)

bench: build
	/usr/bin/python3 bench/bench_npy.py --shardload $(BUILD)/tools/shardload

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
