#!/usr/bin/env bash
# Fuzzes Debian's libhdf5 (what h5py and Keras use) and seqnet's own HDF5
# reader side by side, from the same seeds (the real Keras files and the
# h5py-made fixtures) for the same time, and prints what each run found:
# executions, and crashes / out-of-memory / timeouts with the distinct
# places they happened. This is the figure behind reading Keras's HDF5 with
# our own bounded parser (DESIGN.md, "Model files").
# Needs clang-14 with libFuzzer, libhdf5-dev, and `make fuzz`'s build of
# fuzz_hdf5 in BUILD_DIR.
# Usage: FUZZ_SECONDS=120 fuzz/peer/compare_hdf5.sh [BUILD_DIR]
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$repo/build-fuzz}"
secs="${FUZZ_SECONDS:-120}"
work="$build/compare_hdf5"
rm -rf "$work"
mkdir -p "$work/corpus_libhdf5" "$work/corpus_seqnet" "$work/found_libhdf5" "$work/found_seqnet"
seeds=("$repo/tests/fixtures/keras_h5")
[ -d "$repo/../shared/keras-models" ] && seeds+=("$repo/../shared/keras-models")

clang++-14 -g -O1 -fsanitize=fuzzer,address,undefined -I/usr/include/hdf5/serial \
  "$repo/fuzz/peer/libhdf5_target.cpp" -o "$work/libhdf5_target" \
  -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5_hl -lhdf5 || exit 1
[ -x "$build/fuzz/fuzz_hdf5" ] || { echo "compare_hdf5: build fuzz_hdf5 first (make fuzz FUZZ_TARGETS=hdf5)" >&2; exit 1; }

# Fork mode keeps going after a finding, so each run reports all it found.
run() {
  local name="$1" bin="$2"
  "$bin" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2560 -artifact_prefix="$work/found_$name/" "$work/corpus_$name" "${seeds[@]}" \
    > "$work/$name.log" 2>&1
}
echo "compare_hdf5: ${secs}s each, seeds: ${seeds[*]}"
run libhdf5 "$work/libhdf5_target"
run seqnet "$build/fuzz/fuzz_hdf5"

summary() {
  local name="$1"
  local execs findings
  execs=$(grep -oE "^#[0-9]+" "$work/$name.log" | tail -1 | tr -d '#')
  findings=$(ls "$work/found_$name" | wc -l)
  echo "| $name | ${execs:-0} | $findings | $(ls "$work/found_$name" | sed 's/-.*//' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}') |"
  # The innermost library frame of each finding, replayed once.
  for f in "$work/found_$name"/*; do
    [ -e "$f" ] || continue
    timeout 20 "$( [ "$name" = libhdf5 ] && echo "$work/libhdf5_target" || echo "$build/fuzz/fuzz_hdf5")" "$f" 2>&1 |
      grep -m1 -E "ERROR: (Address|Leak|Undefined)Sanitizer|runtime error|SUMMARY" | sed 's/==[0-9]*==//' | cut -c1-120
  done | sort | uniq -c | sed "s/^/    $name: /"
}
echo "| reader | executions | findings | kinds |"
echo "|---|---|---|---|"
summary libhdf5
summary seqnet
