# seqnet: `make run` sets everything up and runs the main job;
# `make test` sets everything up and runs all tests.

BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build python test run experiments bench sanitize fuzz hostile clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DSEQNET_BUILD_PYTHON=ON $(CMAKE_FLAGS) > /dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The Python package (seqnet.keras) into the virtual environment $(VENV),
# which sees Debian's NumPy (--system-site-packages); offline. The extension
# comes from $(BUILD_DIR) (setup.py builds only what is missing there).
VENV ?= .venv
python: build
	@test -x $(VENV)/bin/python || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	@SEQNET_BUILD_DIR=$(abspath $(BUILD_DIR)) $(VENV)/bin/python -m pip install --no-build-isolation --no-deps \
	  --no-index --quiet --disable-pip-version-check .

test: python
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The main job: every seed experiment, with DIR/report.md and charts.
OUT ?= out
run: build
	$(BUILD_DIR)/tools/seqnet/seqnet run all --out $(OUT) --verbose 2

# The real-data experiments at full size (forecasting US births, sensor
# anomaly detection, ...; `seqnet list` names them), not part of `make run`
# or `make test` (their quick versions are in the tests): EXP_OUT/report.md,
# the JSON records and the charts. Each training stage backs itself up
# after every epoch under EXP_OUT/checkpoints, so an interrupted run started
# again continues where it stopped, and finished stages are not trained
# again (remove EXP_OUT for a fresh run).
EXP_OUT ?= experiments-out
experiments: build
	$(BUILD_DIR)/tools/seqnet/seqnet run real-data --out $(EXP_OUT) --verbose 1

bench: build
	@if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then \
	  /usr/bin/python3 bench/compare.py --bench $(BUILD_DIR)/bench/seqnet_bench $(BENCH_ARGS); \
	else \
	  echo "bench: python3-torch not installed (scripts/install-deps --with-torch); timing seqnet only"; \
	  $(BUILD_DIR)/bench/seqnet_bench; \
	fi

# The whole test suite (every test program, the command-line program and
# the install tests; nothing excluded) built with AddressSanitizer and
# UndefinedBehaviorSanitizer in its own build directory. Every finding is
# fatal: -fno-sanitize-recover=undefined (CMakeLists.txt) and halt_on_error
# make a UBSan report end its program with a failure on standard error.
# AddressSanitizer and leak reports also go to files under
# $(SANITIZE_DIR)/sanitizer-reports, and any such file fails the run, so
# that a report from a program that a test script runs and expects to fail
# anyway (a leak found at exit keeps its failing exit status) is not lost.
# Not part of `make test`.
SANITIZE_DIR ?= build-asan
SANITIZE_REPORTS = $(abspath $(SANITIZE_DIR))/sanitizer-reports
SANITIZE_ENV = \
  ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:log_path=$(SANITIZE_REPORTS)/asan \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SANITIZE_REPORTS)/ubsan
sanitize: deps
	@cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQNET_SANITIZE=ON \
	  -DSEQNET_BUILD_BENCH=OFF -DSEQNET_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(SANITIZE_DIR) -j $(JOBS)
	@rm -rf $(SANITIZE_REPORTS) && mkdir -p $(SANITIZE_REPORTS)
	@rc=0; $(SANITIZE_ENV) ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS) || rc=$$?; \
	if [ -n "$$(ls -A $(SANITIZE_REPORTS))" ]; then \
	  echo "sanitize: sanitizer reports (in $(SANITIZE_REPORTS)):" >&2; cat $(SANITIZE_REPORTS)/* >&2; rc=1; \
	fi; exit $$rc

# libFuzzer (clang-14) on the model loader, the .npy and .npz readers, the
# architecture JSON reader and predict on loaded models, FUZZ_SECONDS each,
# starting from the test fixtures; findings land in $(FUZZ_DIR)/findings.
# Not part of `make test`.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= model_loader npy npz json_config predict hdf5 keras tfjs
fuzz:
	@scripts/install-deps --with-fuzz
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQNET_FUZZ=ON \
	  -DSEQNET_BUILD_TESTS=OFF -DSEQNET_BUILD_TOOLS=OFF -DSEQNET_BUILD_BENCH=OFF -DSEQNET_BUILD_EXAMPLES=OFF > /dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS)) \
	  $(if $(filter predict,$(FUZZ_TARGETS)),fuzz_predict_seeds)
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
