# seqnet: `make run` sets everything up and runs the main job;
# `make test` sets everything up and runs all tests.

BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run bench sanitize fuzz hostile clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > /dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The main job: every seed experiment, with DIR/report.md and charts.
OUT ?= out
run: build
	$(BUILD_DIR)/tools/seqnet/seqnet run all --out $(OUT) --verbose 2

bench: build
	@if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then \
	  /usr/bin/python3 bench/compare.py --bench $(BUILD_DIR)/bench/seqnet_bench $(BENCH_ARGS); \
	else \
	  echo "bench: python3-torch not installed (scripts/install-deps --with-torch); timing seqnet only"; \
	  $(BUILD_DIR)/bench/seqnet_bench; \
	fi

# The tests of untrusted-file handling (model files, .npy/.npz, JSON, the
# model commands of the CLI) built with AddressSanitizer and
# UndefinedBehaviorSanitizer in their own build directory. Not part of `make test`.
SANITIZE_DIR ?= build-asan
SANITIZE_TESTS = io_bad_files_test io_npy_test io_safetensors_test io_model_io_test io_config_test \
                 io_torch_import_test io_checkpoint_test
sanitize: deps
	@cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQNET_SANITIZE=ON \
	  -DSEQNET_BUILD_BENCH=OFF -DSEQNET_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(SANITIZE_DIR) -j $(JOBS) --target $(SANITIZE_TESTS) seqnet_cli
	ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS) \
	  -R '^(BadFiles|Npy|Safetensors|ModelIO|GeneratorState|Config|TorchImport|ModelCheckpoint|CliModel)\.'

# libFuzzer (clang-14) on the model loader, the .npy and .npz readers and the
# architecture JSON reader, FUZZ_SECONDS each, starting from the test
# fixtures; findings land in $(FUZZ_DIR)/findings. Not part of `make test`.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= model_loader npy npz json_config
fuzz:
	@scripts/install-deps --with-fuzz
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQNET_FUZZ=ON \
	  -DSEQNET_BUILD_TESTS=OFF -DSEQNET_BUILD_TOOLS=OFF -DSEQNET_BUILD_BENCH=OFF -DSEQNET_BUILD_EXAMPLES=OFF > /dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_DIR) $$t || exit 1; \
	done

# The crafted inputs of tests/hostile at the sizes that were reported (a
# 4 GB lying .npz member, a 3.9 GB bomb, ...), each run under ulimit -v
# 4000000, with a table of wall time and peak memory. Not part of `make test`
# (which runs small versions of the same inputs).
hostile: build
	tests/hostile/hostile_test.sh $(BUILD_DIR)/tools/seqnet/seqnet --full

clean:
	rm -rf $(BUILD_DIR)
