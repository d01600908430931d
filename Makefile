# seqnet: `make run` sets everything up and runs the main job;
# `make test` sets everything up and runs all tests.

BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run bench clean

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

clean:
	rm -rf $(BUILD_DIR)
