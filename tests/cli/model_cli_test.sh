#!/usr/bin/env bash
# Command-line checks of the model-file commands of `seqnet`: import-torch,
# summary and predict work end to end (including on the models that
# `seqnet run seq2seq --out DIR` saves), and every bad file or argument gets
# a one-line "seqnet: ..." message and a non-zero exit.
# Usage: model_cli_test.sh PATH_TO_SEQNET FIXTURE_DIR CASE
set -u
seqnet="$1"
fixtures="$2"
case_name="$3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL ($case_name): $*"; exit 1; }

# Runs seqnet expecting failure with a single "seqnet: " line on stderr that
# contains $1.
expect_error() {
  local want="$1"
  shift
  local err rc
  err=$("$seqnet" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -ne 0 ] || fail "expected a non-zero exit for: $*"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "expected one line for: $* -- got: $err"
  grep -q "^seqnet: " <<<"$err" || fail "no 'seqnet: ' prefix for: $* -- got: $err"
  grep -qF -- "$want" <<<"$err" || fail "'$want' missing for: $* -- got: $err"
}

# Like expect_error, and the exit code must be $1 (1 runtime error, 2 usage
# error).
expect_exit() {
  local code="$1" want="$2"
  shift 2
  local err rc
  err=$("$seqnet" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq "$code" ] || fail "expected exit code $code, got $rc for: $* -- got: $err"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "expected one line for: $* -- got: $err"
  grep -q "^seqnet: " <<<"$err" || fail "no 'seqnet: ' prefix for: $* -- got: $err"
  grep -qF -- "$want" <<<"$err" || fail "'$want' missing for: $* -- got: $err"
}

# Writes a little-endian float32 .npy file: write_f4_npy PATH SHAPE HEX...,
# SHAPE as in NumPy's header ("(3, 2, 2)"), each HEX the 4 bytes of one
# float32 in file order (0000803f is 1.0, 0000c07f NaN, 0000807f Inf).
write_f4_npy() {
  local path="$1" shape="$2"
  shift 2
  local header="{'descr': '<f4', 'fortran_order': False, 'shape': $shape, }"
  local len=$(( (10 + ${#header} + 1 + 63) / 64 * 64 - 10 ))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%s%*s\n' "$header" $((len - ${#header} - 1)) ''
    for h in "$@"; do printf "\\x${h:0:2}\\x${h:2:2}\\x${h:4:2}\\x${h:6:2}"; done
  } > "$path"
}

import_lstm_stack() {
  "$seqnet" import-torch --model "$fixtures/torch_import/lstm_stack_arch.json" \
    --state-dict "$fixtures/torch_import/lstm_stack.npz" \
    --map emb=embedding --map rnn:0=lstm --map rnn:1=lstm_1 --map fc=dense --output "$tmp/m.safetensors"
}

case "$case_name" in
  import_summary_predict)
    out=$(import_lstm_stack) || fail "import-torch exit code $?: $out"
    grep -q "rnn.weight_ih_l1 -> lstm_1/kernel (transposed)" <<<"$out" || fail "no mapping report in: $out"
    out=$("$seqnet" summary "$tmp/m.safetensors") || fail "summary exit code $?"
    grep -q "Total params: 1,189" <<<"$out" || fail "no parameter count in: $out"
    grep -q "Inputs: ids (None, 7)" <<<"$out" || fail "no inputs in: $out"
    out=$("$seqnet" predict "$tmp/m.safetensors" --input "$fixtures/torch_import/lstm_stack_x.npy" \
          --output "$tmp/y.npy" --batch-size 2) || fail "predict exit code $?: $out"
    grep -q "(3, 7, 5)" <<<"$out" || fail "no output shape in: $out"
    [ -s "$tmp/y.npy" ] || fail "no output file"
    if /usr/bin/python3 -c "import numpy" >/dev/null 2>&1; then
      /usr/bin/python3 - "$tmp/y.npy" "$fixtures/torch_import/lstm_stack_y.npy" <<'PY' || fail "predictions differ from PyTorch's"
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.dtype == np.float32 and a.shape == b.shape and abs(a - b).max() < 1e-5, abs(a - b).max()
PY
    fi
    ;;
  seq2seq_predict)
    "$seqnet" run seq2seq --quick --verbose 0 --out "$tmp/out" >/dev/null 2>&1 || fail "run seq2seq failed"
    for f in seq2seq_train seq2seq_encoder seq2seq_decoder; do
      [ -s "$tmp/out/$f.safetensors" ] || fail "$f.safetensors was not saved"
    done
    out=$("$seqnet" summary "$tmp/out/seq2seq_train.safetensors") || fail "summary exit code $?"
    grep -q "Compiled: optimizer Adam" <<<"$out" || fail "no training state in: $out"
    # One decoding step: the encoder's states feed the decoder.
    out=$("$seqnet" predict "$tmp/out/seq2seq_encoder.safetensors" --input "$fixtures/npy/seq2seq_source.npy" \
          --output "$tmp/h.npy" --output "$tmp/c.npy") || fail "encoder predict exit code $?: $out"
    grep -q "(2, 128)" <<<"$out" || fail "no state shape in: $out"
    out=$("$seqnet" predict "$tmp/out/seq2seq_decoder.safetensors" --input "$fixtures/npy/seq2seq_start.npy" \
          --input "$tmp/h.npy" --input "$tmp/c.npy" \
          --output "$tmp/y.npy" --output "$tmp/h2.npy" --output "$tmp/c2.npy") || fail "decoder predict: $out"
    grep -q "y.npy: (2, 1, 51)" <<<"$out" || fail "no output shape in: $out"
    # The training model takes both sequences.
    "$seqnet" predict "$tmp/out/seq2seq_train.safetensors" --input "$fixtures/npy/seq2seq_source.npy" \
      --input "$fixtures/npy/seq2seq_start.npy" --output "$tmp/t.npy" >/dev/null || fail "train predict"
    ;;
  bad_files)
    import_lstm_stack >/dev/null || fail "import-torch failed"
    good="$tmp/m.safetensors"
    expect_error "cannot open" predict "$tmp/none.safetensors" --input x.npy --output y.npy
    head -c 200 /dev/urandom > "$tmp/random.safetensors"
    expect_error "random.safetensors" predict "$tmp/random.safetensors" --input x.npy --output y.npy
    for n in 4 8 50 300 1000; do
      head -c "$n" "$good" > "$tmp/trunc.safetensors"
      expect_error "trunc.safetensors" summary "$tmp/trunc.safetensors"
    done
    expect_error "NumPy .npy file" summary "$fixtures/npy/f4.npy"
    expect_error "zip archive" summary "$fixtures/torch_import/lstm_stack.npz"
    expect_error "not a valid .npy file" predict "$good" --input "$good" --output "$tmp/y.npy"
    expect_error "expected input 0 ('ids') of shape (None, 7)" \
      predict "$good" --input "$fixtures/npy/f4.npy" --output "$tmp/y.npy"
    expect_error "2^24" predict "$good" --input "$fixtures/npy/i8_too_big.npy" --output "$tmp/y.npy"
    echo '{"class_name": "Sequential", "config": {' > "$tmp/bad.json"
    expect_error "invalid JSON" import-torch --model "$tmp/bad.json" \
      --state-dict "$fixtures/torch_import/lstm_stack.npz" --map emb=embedding --output "$tmp/o.safetensors"
    expect_error "not mapped" import-torch --model "$fixtures/torch_import/lstm_stack_arch.json" \
      --state-dict "$fixtures/torch_import/lstm_stack.npz" --map emb=embedding --output "$tmp/o.safetensors"
    ;;
  bad_arguments)
    import_lstm_stack >/dev/null || fail "import-torch failed"
    good="$tmp/m.safetensors"
    x="$fixtures/torch_import/lstm_stack_x.npy"
    expect_error "1 input(s) (ids (None, 7)) but 2 --input" predict "$good" --input "$x" --input "$x" --output "$tmp/y.npy"
    expect_error "1 output(s) but 2 --output" predict "$good" --input "$x" --output "$tmp/a.npy" --output "$tmp/b.npy"
    expect_error "must end in .npy" predict "$good" --input "$x" --output "$tmp/y.txt"
    expect_error "--batch-size must be positive" predict "$good" --input "$x" --output "$tmp/y.npy" --batch-size 0
    expect_error "module[:layer_index]=seqnet_layer" import-torch --model "$good" \
      --state-dict "$fixtures/torch_import/lstm_stack.npz" --map emb --output "$tmp/o.safetensors"
    out=$("$seqnet" predict "$good" 2>&1); rc=$?
    [ "$rc" -ne 0 ] || fail "missing --input accepted"
    grep -qi "input" <<<"$out" || fail "the option is not named in: $out"
    ;;
  directory_arguments)
    # A directory where a file is expected is named as such, for every file
    # argument, before any work (a runtime error: exit code 1).
    import_lstm_stack >/dev/null || fail "import-torch failed"
    good="$tmp/m.safetensors"
    x="$fixtures/torch_import/lstm_stack_x.npy"
    mkdir "$tmp/dir" "$tmp/y.npy" "$tmp/o.safetensors"
    expect_exit 1 "model '$tmp/dir' is a directory, not a file" summary "$tmp/dir"
    expect_exit 1 "model '$tmp/dir' is a directory, not a file" predict "$tmp/dir" --input "$x" --output "$tmp/z.npy"
    expect_exit 1 "--input '$tmp/dir' is a directory, not a file" \
      predict "$good" --input "$tmp/dir" --output "$tmp/z.npy"
    expect_exit 1 "--output '$tmp/y.npy' is a directory, not a file" predict "$good" --input "$x" --output "$tmp/y.npy"
    sd="$fixtures/torch_import/lstm_stack.npz"
    maps=(--map emb=embedding --map rnn:0=lstm --map rnn:1=lstm_1 --map fc=dense)
    expect_exit 1 "--model '$tmp/dir' is a directory, not a file" \
      import-torch --model "$tmp/dir" --state-dict "$sd" "${maps[@]}" --output "$tmp/n.safetensors"
    expect_exit 1 "--state-dict '$tmp/dir' is a directory, not a file" \
      import-torch --model "$good" --state-dict "$tmp/dir" "${maps[@]}" --output "$tmp/n.safetensors"
    expect_exit 1 "--output '$tmp/o.safetensors' is a directory, not a file" \
      import-torch --model "$good" --state-dict "$sd" "${maps[@]}" --output "$tmp/o.safetensors"
    [ -e "$tmp/n.safetensors" ] && fail "a model was written despite the errors"
    [ -z "$(find "$tmp/y.npy" "$tmp/o.safetensors" -mindepth 1)" ] || fail "something was written into the directories"
    ;;
  exit_codes)
    # Usage errors (the command line is wrong) exit with 2, runtime errors with 1.
    import_lstm_stack >/dev/null || fail "import-torch failed"
    good="$tmp/m.safetensors"
    x="$fixtures/torch_import/lstm_stack_x.npy"
    expect_exit 2 "but 2 --input" predict "$good" --input "$x" --input "$x" --output "$tmp/y.npy"
    expect_exit 2 "1 output(s) but 2 --output" predict "$good" --input "$x" --output "$tmp/a.npy" --output "$tmp/b.npy"
    expect_exit 2 "must end in .npy" predict "$good" --input "$x" --output "$tmp/y.txt"
    expect_exit 2 "--batch-size must be positive" predict "$good" --input "$x" --output "$tmp/y.npy" --batch-size 0
    expect_exit 2 "--input is required" predict "$good" --output "$tmp/y.npy"
    expect_exit 2 "module[:layer_index]=seqnet_layer" import-torch --model "$good" \
      --state-dict "$fixtures/torch_import/lstm_stack.npz" --map emb --output "$tmp/o.safetensors"
    expect_exit 2 "must end in .safetensors" import-torch --model "$good" \
      --state-dict "$fixtures/torch_import/lstm_stack.npz" --map emb=embedding --output "$tmp/o.bin"
    expect_exit 1 "cannot open" summary "$tmp/none.safetensors"
    expect_exit 1 "NumPy .npy file" summary "$fixtures/npy/f4.npy"
    expect_exit 1 "expected input 0 ('ids') of shape (None, 7)" \
      predict "$good" --input "$fixtures/npy/f4.npy" --output "$tmp/y.npy"
    expect_exit 1 "not mapped" import-torch --model "$fixtures/torch_import/lstm_stack_arch.json" \
      --state-dict "$fixtures/torch_import/lstm_stack.npz" --map emb=embedding --output "$tmp/o.safetensors"
    ;;
  predict_non_finite)
    # A (None, 2, 2) GRU model; three samples of 2 x 2 values.
    model="$fixtures/bad_files/model/tiny.safetensors"
    one=0000803f half=0000003f nan=0000c07f inf=0000807f ninf=000080ff
    write_f4_npy "$tmp/ok.npy" "(3, 2, 2)" $one $half $one $half $one $half $one $half $one $half $one $half
    err=$("$seqnet" predict "$model" --input "$tmp/ok.npy" --output "$tmp/y.npy" 2>&1 >/dev/null) \
      || fail "predict on finite input: exit code $?: $err"
    [ -z "$err" ] || fail "a warning for finite input: $err"
    write_f4_npy "$tmp/bad.npy" "(3, 2, 2)" $nan $half $nan $half $one $half $one $half $one $inf $ninf $half
    err=$("$seqnet" predict "$model" --input "$tmp/bad.npy" --output "$tmp/y.npy" 2>&1 >/dev/null) \
      || fail "predict on NaN input: exit code $?: $err"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "expected one warning line, got: $err"
    grep -qF "seqnet: warning: $tmp/bad.npy holds 2 NaN and 2 Inf values (in 2 of 3 samples)" <<<"$err" \
      || fail "no count of the NaN and Inf values in: $err"
    [ -s "$tmp/y.npy" ] || fail "no predictions written"
    write_f4_npy "$tmp/one.npy" "(1, 2, 2)" $one $nan $one $one
    err=$("$seqnet" predict "$model" --input "$tmp/one.npy" --output "$tmp/y.npy" 2>&1 >/dev/null)
    grep -qF "holds 1 NaN value (in 1 of 1 samples)" <<<"$err" || fail "singular: $err"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
