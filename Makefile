# Thin wrapper over CMake: `make demo` and `make test` work on a fresh Debian 12
# machine as root (missing packages are installed first).
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
CUDA_BUILD ?= build-cuda
# nvcc where the toolkit is (PATH, or the usual place); empty without one
NVCC       ?= $(shell command -v nvcc 2>/dev/null || (test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc))
JOBS       ?= $(shell nproc)
MPIEXEC    ?= mpiexec --allow-run-as-root --oversubscribe
CMAKE_ARGS ?=

.PHONY: all deps build build-asan build-tsan build-cuda demo test test-plain test-asan test-tsan test-cuda install bench clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSL_WITH_CUDA=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=address,undefined -DSL_WITH_CUDA=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# ThreadSanitizer needs clang with LLVM's libomp (GCC's libgomp is not
# instrumented): the threads share the file cache and the decoding pools.
build-tsan: deps
	CC=clang cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSL_SANITIZE=thread -DSL_WITH_CUDA=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(TSAN_BUILD) -j$(JOBS)

# The second configuration: the gpu executor with CUDA (nvcc, cudart). The
# plain, ASan and TSan builds above are the ones without the toolkit.
build-cuda: deps
	@if [ -z "$(NVCC)" ]; then echo "build-cuda: no nvcc (CUDA toolkit) here: skipped"; else \
	  cmake -S . -B $(CUDA_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSL_WITH_CUDA=ON \
	    -DCMAKE_CUDA_COMPILER=$(NVCC) $(CMAKE_ARGS) >/dev/null && \
	  cmake --build $(CUDA_BUILD) -j$(JOBS); fi

demo: build
	$(MPIEXEC) -n 2 $(BUILD)/tools/shardload demo

# The whole suite, plain and then under AddressSanitizer + UBSan (but the
# host-engine fixture sweep: the pipeline's memory is checked under ASan by
# test_stage and gpu_host_errors); the unit and fixture tests once more
# under ThreadSanitizer; then, with the CUDA toolkit, the suite in the CUDA
# build (tests that need a GPU skip loudly without one; the libFuzzer run
# and the host-engine fixture sweep, whose code is the same in every build
# and ran in build/ already, are left out).
test: test-plain test-asan test-tsan test-cuda

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-asan: build-asan
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) -E gpu_host_fixtures

test-tsan: build-tsan
	ctest --test-dir $(TSAN_BUILD) --output-on-failure -j$(JOBS) -L "unit|fixture"

test-cuda: build-cuda
	@if [ -z "$(NVCC)" ]; then echo "test-cuda: no nvcc (CUDA toolkit) here: skipped"; else \
	  ctest --test-dir $(CUDA_BUILD) --output-on-failure -j$(JOBS) -E 'fuzz_libfuzzer_short|gpu_host_fixtures'; fi

install: build
	cmake --install $(BUILD)

bench: build
	/usr/bin/python3 bench/bench_npy.py --shardload $(BUILD)/tools/shardload

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(CUDA_BUILD)
