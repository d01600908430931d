#!/usr/bin/env bash
# seqnet's TensorFlow.js Layers reader and writer, checked against the real
# TensorFlow.js (@tensorflow/tfjs, pure JS, CPU backend).
#
# Usage: tfjs_test.sh SEQNET_CLI WORKDIR [MODELS_DIR]
#   (A) TF.js -> seqnet: tfjs_check.js builds small models with the TF.js
#       Layers API, predicts with them and saves them (model.json +
#       weights.bin); `seqnet predict` on each model.json must agree with
#       TF.js's predictions.
#   (B) seqnet -> TF.js: `seqnet convert` writes each of those models, and
#       each Keras 2 file in MODELS_DIR (default ../shared/keras-models from
#       the repository root), as a TF.js model.json; TF.js loads and runs the
#       conversion and must agree with `seqnet predict` on it, and seqnet must
#       predict the same on the original and on the conversion.
# Agreement: max |diff| <= 1e-5 * max(1, max |reference|) between the two
# implementations, <= 1e-6 * max(1, max |reference|) between seqnet on the
# original and seqnet on its conversion.
#
# Environment: NODE (default: node on PATH), TFJS_MODULES (a node_modules
# directory holding @tensorflow/tfjs; default .deps/npm/node_modules of this
# repository). Exit 77 (skipped) when node or TF.js is missing.
set -euo pipefail

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
  echo "usage: $0 SEQNET_CLI WORKDIR [MODELS_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seqnet="$1"
work="$2"
models="${3:-$repo/../shared/keras-models}"
case "$seqnet" in /*) ;; *) seqnet="$PWD/$seqnet" ;; esac

node="${NODE:-$(command -v node || true)}"
modules="${TFJS_MODULES:-$repo/.deps/npm/node_modules}"
if [ -z "$node" ] || ! "$node" --version > /dev/null 2>&1; then
  echo "SKIP: node is not installed (set NODE=...)"
  exit 77
fi
if [ ! -f "$modules/@tensorflow/tfjs/package.json" ]; then
  echo "SKIP: TensorFlow.js is not installed in $modules (run scripts/install-deps, or set TFJS_MODULES=...)"
  exit 77
fi
[ -x "$seqnet" ] || { echo "FAIL: seqnet CLI '$seqnet' is not an executable"; exit 1; }

export TFJS_MODULES="$modules"
check() { "$node" "$here/tfjs_check.js" "$@"; }

rm -rf "$work"
mkdir -p "$work"
made="$work/made"
log="$work/log.txt"
: > "$log"

# A failed check prints one FAIL line and the run goes on to the other
# checks; the script exits 1 at the end if any failed.
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Runs a command; on failure prints FAIL with its last stderr lines and
# returns 1.
run_or_fail() {
  local what="$1"
  shift
  local err rc=0
  err=$("$@" 2>&1 > /dev/null) || rc=$?
  printf '%s\n' "$err" >> "$log"
  if [ "$rc" -ne 0 ]; then
    fail "$what: exit $rc: $(printf '%s' "$err" | tail -n 3 | tr '\n' ' ')"
    return 1
  fi
}

# compare LABEL A.npy REF.npy REL_TOL: prints "ok LABEL ..." or FAIL.
compare() {
  local label="$1" a="$2" ref="$3" tol="$4" res rc=0 diff limit ref_max
  res=$(check compare "$a" "$ref" "$tol" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "$label: $(printf '%s' "$res" | tr '\n' ' ') (max |diff|, limit, max |ref|)"
    return 0
  fi
  read -r diff limit ref_max <<< "$res"
  echo "ok $label: max |diff| $diff (limit $limit, max |ref| $ref_max)"
}

version=$(check version) || { echo "FAIL: cannot load TensorFlow.js from $modules"; exit 1; }
echo "TensorFlow.js $version from $modules"

# ------------------------------------------------------------ (A) TF.js -> seqnet
run_or_fail "tfjs_check.js make" check make "$made" || exit 1
while IFS=$'\t' read -r name why; do
  if [ -n "$name" ]; then echo "skip A $name: TF.js cannot build it: $why"; fi
done < "$made/unsupported.txt"

mapfile -t cases < "$made/cases.txt"
for line in "${cases[@]}"; do
  read -r name nin nout <<< "$line"
  d="$made/$name"
  ins=() outs=()
  for ((k = 0; k < nin; k++)); do ins+=(--input "$d/in_$k.npy"); done
  for ((k = 0; k < nout; k++)); do outs+=(--output "$d/seqnet_out_$k.npy"); done
  run_or_fail "A $name: seqnet predict on TF.js's model.json ($(cat "$d/about.txt"))" \
    "$seqnet" predict "$d/model.json" "${ins[@]}" "${outs[@]}" || continue
  for ((k = 0; k < nout; k++)); do
    compare "A $name out$k seqnet vs TF.js" "$d/seqnet_out_$k.npy" "$d/tfjs_out_$k.npy" 1e-5
  done
  # What `seqnet summary` must (and, with a leading '!', must not) print.
  if [ -f "$d/expect_summary.txt" ]; then
    summary=$("$seqnet" summary "$d/model.json" 2>&1) || true
    bad=0
    while IFS= read -r want; do
      [ -n "$want" ] || continue
      if [ "${want:0:1}" = "!" ]; then
        if grep -qF -- "${want:1}" <<< "$summary"; then
          fail "A $name: seqnet summary shows '${want:1}': $(grep -F -- "${want:1}" <<< "$summary" | head -n 1)"
          bad=1
        fi
      elif ! grep -qF -- "$want" <<< "$summary"; then
        fail "A $name: seqnet summary lacks '$want'; it says: $(grep -E 'Compiled|seqnet:|Warning' <<< "$summary" | head -n 2 | tr '\n' ' ')"
        bad=1
      fi
    done < "$d/expect_summary.txt"
    if [ "$bad" -eq 0 ]; then echo "ok A $name: seqnet summary shows the training configuration"; fi
  fi
done

# ------------------------------------------------------------ (B) seqnet -> TF.js
# b_check NAME SRC TFJS_REF_PREFIX [IN.npy...]: converts SRC to TF.js, runs
# both sides; TFJS_REF_PREFIX (or "") names TF.js's outputs on SRC itself.
# Without inputs, makes them from the converted model.json.
b_check() {
  local name="$1" src="$2" tfjs_ref="$3"
  shift 3
  local out="$work/${name}_tfjs"
  run_or_fail "B $name: seqnet convert $src" "$seqnet" convert "$src" "$out/model.json" || return 0
  local inputs=("$@")
  if [ "${#inputs[@]}" -eq 0 ]; then
    local listing
    if ! listing=$(check inputs "$out/model.json" "$out/in" 7 2>&1); then
      fail "B $name: cannot make inputs from seqnet's $out/model.json: $listing"
      return 0
    fi
    mapfile -t inputs <<< "$listing"
  fi
  local rc=0 err
  err=$(check predict "$out/model.json" "$out/tfjs" "${inputs[@]}" 2>&1) || rc=$?
  if [ "$rc" -eq 3 ]; then
    echo "skip B $name: ${err#tfjs_check: }"
    return 0
  elif [ "$rc" -ne 0 ]; then
    fail "B $name: TensorFlow.js on seqnet's model.json: ${err#tfjs_check: }"
    return 0
  fi
  local nout=0
  while [ -f "$out/tfjs_$nout.npy" ]; do nout=$((nout + 1)); done
  local ins=() outs=() orig=()
  for f in "${inputs[@]}"; do ins+=(--input "$f"); done
  for ((k = 0; k < nout; k++)); do
    outs+=(--output "$out/seqnet_$k.npy")
    orig+=(--output "$out/seqnet_orig_$k.npy")
  done
  run_or_fail "B $name: seqnet predict on its TF.js conversion" "$seqnet" predict "$out/model.json" "${ins[@]}" "${outs[@]}" || return 0
  for ((k = 0; k < nout; k++)); do
    compare "B $name out$k seqnet vs TF.js (both on the conversion)" "$out/seqnet_$k.npy" "$out/tfjs_$k.npy" 1e-5
    if [ -n "$tfjs_ref" ]; then
      compare "B $name out$k TF.js on the conversion vs TF.js on the original" "$out/tfjs_$k.npy" \
        "${tfjs_ref}_$k.npy" 1e-6
    fi
  done
  run_or_fail "B $name: seqnet predict on the original $src" "$seqnet" predict "$src" "${ins[@]}" "${orig[@]}" ||
    return 0
  for ((k = 0; k < nout; k++)); do
    compare "B $name out$k seqnet original vs conversion" "$out/seqnet_$k.npy" "$out/seqnet_orig_$k.npy" 1e-6
  done
}

for line in "${cases[@]}"; do
  read -r name nin nout <<< "$line"
  d="$made/$name"
  ins=()
  for ((k = 0; k < nin; k++)); do ins+=("$d/in_$k.npy"); done
  b_check "$name" "$d/model.json" "$d/tfjs_out" "${ins[@]}"
done

if [ -d "$models" ]; then
  shopt -s nullglob
  keras=("$models"/k2_*.h5 "$models"/k2_bilstm_h5_named_keras.keras)
  shopt -u nullglob
  [ "${#keras[@]}" -gt 0 ] || echo "skip B keras: no k2_* files in $models"
  for src in "${keras[@]}"; do
    [ -f "$src" ] || continue
    base=$(basename "$src")
    b_check "${base%.*}" "$src" ""
  done
else
  echo "skip B keras: no directory $models"
fi

if [ "$failures" -gt 0 ]; then
  echo "FAIL: $failures check(s) failed (logs in $log)"
  exit 1
fi
echo "PASS: seqnet and TensorFlow.js $version agree"
