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
#       each Keras file in MODELS_DIR (default ../shared/keras-models beside
#       the repository; the Keras 2 k2_* ones first, then the others), as a
#       TF.js model.json; seqnet must predict the same on the original and on
#       the conversion, and TF.js must load and run the conversion and agree
#       with `seqnet predict` on it (and, for (A)'s models, with its own
#       predictions on the original). A model that uses something TF.js
#       itself does not implement (GRU reset_after=True) prints a "skip" line
#       for the TF.js side; anything else TF.js refuses is a FAIL.
# Agreement: max |diff| <= 1e-5 * max(1, max |reference|) between the two
# implementations, <= 1e-6 * max(1, max |reference|) between two runs of the
# same implementation on a file and its conversion.
# Output: one "ok ..." line per check with its max |diff|, "skip ..." lines,
# one "FAIL: ..." line per failed check (the others still run), the worst
# figure of each direction, then PASS, or FAIL and exit 1.
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

mkdir -p "$work"
work=$(cd "$work" && pwd)
# Only what this script writes there is removed.
rm -rf "$work/made" "$work"/*_tfjs "$work"/dirform_* "$work/log.txt"
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
  # The worst figure (relative to its limit) of each direction, for the end.
  local dir="${label%% *}"
  if awk -v d="$diff" -v l="$limit" -v w="${worst_ratio[$dir]:-0}" 'BEGIN { exit !(d / l >= w) }'; then
    worst_ratio[$dir]=$(awk -v d="$diff" -v l="$limit" 'BEGIN { printf "%.6g", d / l }')
    worst_label[$dir]="$label: $diff (limit $limit)"
  fi
}
declare -A worst_ratio=() worst_label=()

version=$(check version) || { echo "FAIL: cannot load TensorFlow.js from $modules"; exit 1; }
echo "TensorFlow.js $version from $modules"

# ------------------------------------------------------------ (A) TF.js -> seqnet
run_or_fail "tfjs_check.js make" check make "$made" || exit 1
while IFS=$'\t' read -r name why; do
  if [ -n "$name" ]; then echo "skip A $name: TF.js cannot build it: $why"; fi
done < "$made/unsupported.txt"

mapfile -t cases < "$made/cases.txt"

# summary_check NAME MODEL EXPECT_FILE: `seqnet summary MODEL` must show each
# line of EXPECT_FILE (and must not show those with a leading '!').
summary_check() {
  local name="$1" model="$2" expect="$3" summary want bad=0
  if ! summary=$("$seqnet" summary "$model" 2>&1); then
    fail "A $name: seqnet summary: $(grep -m 1 'seqnet:' <<< "$summary" || tail -n 1 <<< "$summary")"
    return 0
  fi
  while IFS= read -r want; do
    [ -n "$want" ] || continue
    if [ "${want:0:1}" = "!" ]; then
      if grep -qF -- "${want:1}" <<< "$summary"; then
        fail "A $name: seqnet summary shows '${want:1}': $(grep -F -- "${want:1}" <<< "$summary" | head -n 1)"
        bad=1
      fi
    elif ! grep -qF -- "$want" <<< "$summary"; then
      fail "A $name: seqnet summary lacks '$want'; it says: $(grep -E 'Compiled|seqnet:|Warning' <<< "$summary" |
        head -n 2 | tr '\n' ' ')"
      bad=1
    fi
  done < "$expect"
  if [ "$bad" -eq 0 ]; then echo "ok A $name: seqnet summary shows the expected training configuration"; fi
}

for line in "${cases[@]}"; do
  read -r name nin nout <<< "$line"
  d="$made/$name"
  ins=() outs=()
  for ((k = 0; k < nin; k++)); do ins+=(--input "$d/in_$k.npy"); done
  for ((k = 0; k < nout; k++)); do outs+=(--output "$d/seqnet_out_$k.npy"); done
  if [ -f "$d/expect_summary.txt" ]; then summary_check "$name" "$d/model.json" "$d/expect_summary.txt"; fi
  run_or_fail "A $name: seqnet predict on TF.js's model.json ($(cat "$d/about.txt"))" \
    "$seqnet" predict "$d/model.json" "${ins[@]}" "${outs[@]}" || continue
  for ((k = 0; k < nout; k++)); do
    compare "A $name out$k seqnet vs TF.js" "$d/seqnet_out_$k.npy" "$d/tfjs_out_$k.npy" 1e-5
  done
done

# ------------------------------------------------------------ (B) seqnet -> TF.js
# b_check NAME SRC TFJS_REF_PREFIX [IN.npy...]: converts SRC to a TF.js
# model, then compares seqnet on SRC with seqnet on the conversion, and
# seqnet with TF.js on the conversion; TFJS_REF_PREFIX (or "") names TF.js's
# own outputs on SRC. Without inputs, makes them from the conversion.
b_check() {
  local name="$1" src="$2" tfjs_ref="$3"
  shift 3
  local out="$work/${name}_tfjs"
  # shellcheck disable=SC2086  # CONVERT_ARGS: extra options, word-split on purpose
  run_or_fail "B $name: seqnet convert $src" "$seqnet" convert ${CONVERT_ARGS:-} "$src" "$out/model.json" || return 0
  local inputs=("$@") listing nout
  if [ "${#inputs[@]}" -eq 0 ]; then
    if ! listing=$(check inputs "$out/model.json" "$out/in" 7 2>&1); then
      fail "B $name: cannot make inputs from seqnet's $out/model.json: $listing"
      return 0
    fi
    mapfile -t inputs <<< "$listing"
  fi
  if ! nout=$(check outputs "$out/model.json" 2>&1); then
    fail "B $name: cannot count the outputs in seqnet's $out/model.json: $nout"
    return 0
  fi
  local ins=() outs=() orig=() k
  for f in "${inputs[@]}"; do ins+=(--input "$f"); done
  for ((k = 0; k < nout; k++)); do
    outs+=(--output "$out/seqnet_$k.npy")
    orig+=(--output "$out/seqnet_orig_$k.npy")
  done
  local seqnet_ok=1
  if run_or_fail "B $name: seqnet predict on its TF.js conversion" \
    "$seqnet" predict "$out/model.json" "${ins[@]}" "${outs[@]}"; then
    if run_or_fail "B $name: seqnet predict on the original $src" "$seqnet" predict "$src" "${ins[@]}" "${orig[@]}"; then
      for ((k = 0; k < nout; k++)); do
        compare "B $name out$k seqnet on the original vs on the conversion" "$out/seqnet_$k.npy" \
          "$out/seqnet_orig_$k.npy" 1e-6
      done
    fi
  else
    seqnet_ok=0
  fi
  local rc=0 err
  err=$(check predict "$out/model.json" "$out/tfjs" "${inputs[@]}" 2>&1) || rc=$?
  if [ "$rc" -eq 3 ]; then
    echo "skip B $name (TF.js side): ${err#tfjs_check: }"
    return 0
  elif [ "$rc" -ne 0 ]; then
    fail "B $name: TensorFlow.js on seqnet's model.json: ${err#tfjs_check: }"
    return 0
  fi
  for ((k = 0; k < nout; k++)); do
    if [ "$seqnet_ok" -eq 1 ]; then
      compare "B $name out$k seqnet vs TF.js (both on the conversion)" "$out/seqnet_$k.npy" "$out/tfjs_$k.npy" 1e-5
    fi
    if [ -n "$tfjs_ref" ]; then
      compare "B $name out$k TF.js on the conversion vs TF.js on the original" "$out/tfjs_$k.npy" \
        "${tfjs_ref}_$k.npy" 1e-6
    fi
  done
}

for line in "${cases[@]}"; do
  read -r name nin nout <<< "$line"
  d="$made/$name"
  ins=()
  for ((k = 0; k < nin; k++)); do ins+=("$d/in_$k.npy"); done
  b_check "$name" "$d/model.json" "$d/tfjs_out" "${ins[@]}"
done

# The directory form of the TF.js output (--format tfjs DIR) writes the same
# files as OUT/model.json.
first="${cases[0]%% *}"
if run_or_fail "B $first: seqnet convert --format tfjs DIR" \
  "$seqnet" convert --format tfjs "$made/$first/model.json" "$work/dirform_$first"; then
  same=1
  for f in "$work/${first}_tfjs"/model.json "$work/${first}_tfjs"/group*.bin; do
    cmp -s "$f" "$work/dirform_$first/$(basename "$f")" || { same=0; fail "B $first: --format tfjs DIR wrote a different $(basename "$f")"; }
  done
  if [ "$same" -eq 1 ]; then echo "ok B $first: --format tfjs DIR writes the same model.json and shards"; fi
fi

# Many small shards (seqnet splits at 64 KB here, mid-weight): TF.js must
# join them as seqnet does.
if [ -f "$models/k2_emoji_bilstm.h5" ]; then
  CONVERT_ARGS="--shard-bytes 65536" b_check emoji_sharded "$models/k2_emoji_bilstm.h5" ""
  shards=$(ls "$work/emoji_sharded_tfjs"/group1-shard*.bin 2> /dev/null | wc -l)
  if [ "$shards" -ge 2 ]; then echo "ok B emoji_sharded: $shards shards"; else fail "B emoji_sharded: $shards shard(s)"; fi
fi

# Real Keras files: the Keras 2 ones first, then any others TF.js may run
# (Keras 3's layers that TF.js implements). TF.js-side skips say why.
if [ -d "$models" ]; then
  shopt -s nullglob
  keras=("$models"/k2_*.h5 "$models"/k2_*.keras)
  for f in "$models"/*.h5 "$models"/*.keras; do
    case "$(basename "$f")" in k2_*) ;; *) keras+=("$f") ;; esac
  done
  shopt -u nullglob
  if [ "${#keras[@]}" -eq 0 ]; then echo "skip B keras: no .h5 or .keras files in $models"; fi
  for src in "${keras[@]}"; do
    base=$(basename "$src")
    b_check "${base%.*}" "$src" ""
  done
else
  echo "skip B keras: no directory $models"
fi

for dir in A B; do
  if [ -n "${worst_label[$dir]:-}" ]; then echo "worst $dir: ${worst_label[$dir]}"; fi
done
if [ "$failures" -gt 0 ]; then
  echo "FAIL: $failures check(s) failed (logs in $log)"
  exit 1
fi
echo "PASS: seqnet and TensorFlow.js $version agree"
