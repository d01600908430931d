#!/usr/bin/env bash
# Runs one libFuzzer target of fuzz/ for FUZZ_SECONDS (default 120), seeded
# with the test fixtures, and prints its final statistics. Crashes, leaks
# and timeouts are saved under BUILD_DIR/findings/TARGET/ and fail the run.
# Usage: FUZZ_SECONDS=120 fuzz/run.sh BUILD_DIR TARGET
set -uo pipefail
build="$1"
target="$2"
secs="${FUZZ_SECONDS:-120}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$repo/tests/fixtures"
dict_name="$target"
case "$target" in
  model_loader) seeds=("$fixtures/bad_files/model" "$fixtures/torch_import") ;;
  predict)
    # Besides the fixtures, small valid models of every layer type.
    mkdir -p "$build/seeds/predict"
    "$build/fuzz/fuzz_predict_seeds" "$build/seeds/predict" || exit 1
    seeds=("$fixtures/bad_files/model" "$build/seeds/predict")
    dict_name=model_loader ;;
  npy) seeds=("$fixtures/npy" "$fixtures/bad_files/npy") ;;
  npz) seeds=("$fixtures/bad_files/npz" "$fixtures/torch_import") ;;
  hdf5) seeds=("$fixtures/keras_h5" "$repo/../shared/keras-models") ;;
  keras)
    # The real Keras files, and the ones seqnet writes.
    mkdir -p "$build/seeds/keras"
    "$build/fuzz/fuzz_predict_seeds" "$build/seeds/keras" keras || exit 1
    seeds=("$repo/../shared/keras-models" "$build/seeds/keras") ;;
  tfjs)
    # model.json files whose shards lie beside them (the target reads the
    # shards of $build/seeds/tfjs/everything).
    mkdir -p "$build/seeds/tfjs"
    "$build/fuzz/fuzz_predict_seeds" "$build/seeds/tfjs" tfjs || exit 1
    mkdir -p "$build/seeds/tfjs_json"
    for d in "$build"/seeds/tfjs/*/; do cp "$d/model.json" "$build/seeds/tfjs_json/$(basename "$d").json"; done
    seeds=("$build/seeds/tfjs_json") ;;
  json_config) seeds=("$fixtures/keras" "$fixtures/bad_files/json") ;;
  *) echo "fuzz/run.sh: unknown target '$target'" >&2; exit 2 ;;
esac
existing=()
for d in "${seeds[@]}"; do [ -d "$d" ] && existing+=("$d"); done
corpus="$build/corpus/$target"
findings="$build/findings/$target"
mkdir -p "$corpus" "$findings"
dict=()
[ -f "$repo/fuzz/$dict_name.dict" ] && dict=(-dict="$repo/fuzz/$dict_name.dict")
log="$build/fuzz_$target.log"
echo "fuzz: $target for ${secs}s (log: $log)"
"$build/fuzz/fuzz_$target" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
  -artifact_prefix="$findings/" "${dict[@]}" "$corpus" "${existing[@]}" > "$log" 2>&1
rc=$?
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+[[:space:]]+DONE" "$log" | sed "s/^/  $target: /"
if [ "$rc" -ne 0 ]; then
  echo "fuzz: $target FOUND A PROBLEM (exit $rc); see $log and $findings" >&2
  grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5 >&2
  exit 1
fi
echo "fuzz: $target: no findings"
