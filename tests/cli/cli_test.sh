#!/usr/bin/env bash
# Command-line checks of the `seqnet` program: bad input gets a clear
# message and a non-zero exit, and nothing is trained before it.
# Usage: cli_test.sh PATH_TO_SEQNET CASE
set -u
seqnet="$1"
case_name="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL ($case_name): $*"; exit 1; }

case "$case_name" in
  list)
    out=$("$seqnet" list) || fail "exit code $?"
    for n in reverse reverse-patterns return-states seq2seq autoencoder attention bidirectional echo \
             text-classification exploding-gradients; do
      grep -q "^  $n " <<<"$out" || fail "'$n' missing from: $out"
    done
    # The real-data experiments are listed after the seed experiments, as their own group.
    real=$(sed -n '/^real-data/,$p' <<<"$out")
    for n in forecast-births sensor-anomaly generate-text g2p; do
      grep -q "^  $n " <<<"$real" || fail "'$n' missing from the real-data group: $out"
    done
    ;;
  unknown_experiment)
    out=$("$seqnet" run reverse no-such-experiment 2>&1); rc=$?
    [ "$rc" -eq 2 ] || fail "expected exit code 2, got $rc"
    grep -q "unknown experiment 'no-such-experiment'" <<<"$out" || fail "no name in: $out"
    grep -q "valid names: reverse, reverse-patterns" <<<"$out" || fail "no list of valid names in: $out"
    grep -q "Epoch" <<<"$out" && fail "trained before rejecting the name: $out"
    ;;
  unwritable_out)
    touch "$tmp/file"
    out=$("$seqnet" run reverse --out "$tmp/file/sub" 2>&1); rc=$?
    [ "$rc" -ne 0 ] || fail "expected a non-zero exit code"
    grep -q "$tmp/file/sub" <<<"$out" || fail "the directory is not named in: $out"
    grep -q "===" <<<"$out" && fail "an experiment started before the check: $out"
    ;;
  missing_corpus)
    # A copy of the program far from the project's .deps folder, pointed at an
    # empty data directory: the message must say how to install the corpus.
    cp "$seqnet" "$tmp/seqnet"
    mkdir "$tmp/data"
    out=$(cd "$tmp" && SEQNET_DATA_DIR="$tmp/data" ./seqnet run text-classification --quick 2>&1); rc=$?
    [ "$rc" -ne 0 ] || fail "expected a non-zero exit code"
    grep -q "install-deps" <<<"$out" || fail "no install hint in: $out"
    ;;
  g2p_pronounce)
    # The quick g2p run saves its model; `seqnet g2p pronounce` reads it back.
    # Exit 77 (skipped) when CMUdict is not installed.
    out=$("$seqnet" run g2p --quick --verbose 0 --out "$tmp/out" 2>&1); rc=$?
    if [ "$rc" -ne 0 ] && grep -q "CMUdict not found" <<<"$out"; then echo "SKIP: CMUdict not installed"; exit 77; fi
    [ "$rc" -eq 0 ] || fail "run g2p --quick: exit code $rc: $out"
    for f in encoder.safetensors decoder.safetensors vocabulary.json; do
      [ -f "$tmp/out/g2p_model/$f" ] || fail "g2p_model/$f not written"
    done
    out=$("$seqnet" g2p pronounce "$tmp/out/g2p_model" hello Seqnet --beam 4 --n-best 2 2>&1) || fail "pronounce: $out"
    [ "$(grep -c '^HELLO  [12]  -[0-9.]*  [A-Z]' <<<"$out")" -eq 2 ] || fail "expected two n-best lines for HELLO: $out"
    [ "$(grep -c '^SEQNET  [12]  ' <<<"$out")" -eq 2 ] || fail "expected two n-best lines for SEQNET: $out"
    # Scores fall down the list.
    s1=$(awk '$1 == "HELLO" && $2 == 1 {print $3}' <<<"$out"); s2=$(awk '$1 == "HELLO" && $2 == 2 {print $3}' <<<"$out")
    awk -v a="$s1" -v b="$s2" 'BEGIN { exit !(a >= b) }' || fail "n-best not sorted: $out"
    out=$("$seqnet" g2p pronounce "$tmp/out/g2p_model" "no way" 2>&1); rc=$?
    [ "$rc" -eq 2 ] || fail "a word with a space: expected exit code 2, got $rc: $out"
    grep -q "only letters and apostrophes" <<<"$out" || fail "no reason in: $out"
    out=$("$seqnet" g2p pronounce "$tmp/out/g2p_model" word --beam 2 --n-best 3 2>&1); rc=$?
    [ "$rc" -eq 2 ] || fail "--n-best > --beam: expected exit code 2, got $rc"
    echo '{"format": "other"}' > "$tmp/out/g2p_model/vocabulary.json"
    out=$("$seqnet" g2p pronounce "$tmp/out/g2p_model" word 2>&1); rc=$?
    [ "$rc" -eq 1 ] || fail "a bad vocabulary file: expected exit code 1, got $rc: $out"
    grep -q "vocabulary.json: not a seqnet-g2p vocabulary file" <<<"$out" || fail "file not named in: $out"
    ;;
  bad_option)
    out=$("$seqnet" run reverse --verbose 7 2>&1); rc=$?
    [ "$rc" -ne 0 ] || fail "expected a non-zero exit code"
    grep -qi "verbose" <<<"$out" || fail "the option is not named in: $out"
    ;;
  unknown_command)
    out=$("$seqnet" summaryy 2>&1); rc=$?
    [ "$rc" -eq 2 ] || fail "expected exit code 2, got $rc"
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "expected one line, got: $out"
    grep -q "^seqnet: unknown command 'summaryy'" <<<"$out" || fail "the command is not named in: $out"
    grep -q "did you mean 'summary'?" <<<"$out" || fail "no suggestion in: $out"
    grep -q "list, run, summary, predict, import-torch" <<<"$out" || fail "no list of commands in: $out"
    out=$("$seqnet" predcit 2>&1)
    grep -q "did you mean 'predict'?" <<<"$out" || fail "a swap of two letters is not matched: $out"
    out=$("$seqnet" frobnicate 2>&1); rc=$?
    [ "$rc" -eq 2 ] || fail "expected exit code 2, got $rc"
    grep -q "unknown command 'frobnicate'" <<<"$out" || fail "the command is not named in: $out"
    grep -q "did you mean" <<<"$out" && fail "a far-off word got a suggestion: $out"
    out=$("$seqnet" 2>&1); rc=$?
    [ "$rc" -eq 2 ] || fail "no command: expected exit code 2, got $rc"
    grep -q "no command given; the commands are: list, run" <<<"$out" || fail "no command: got $out"
    ;;
  exit_codes)
    # 0 for help, which documents the codes; 2 for usage errors; 1 for runtime errors.
    out=$("$seqnet" --help 2>&1) || fail "--help exit code $?"
    grep -q "Exit status: 0 on success; 1 when a command fails" <<<"$out" || fail "no exit codes in: $out"
    grep -q "2 for a usage error" <<<"$out" || fail "no usage error code in: $out"
    out=$("$seqnet" predict --help 2>&1) || fail "predict --help exit code $?"
    grep -q "Exit status" <<<"$out" || fail "no exit codes in the help of predict: $out"
    for args in "run reverse --verbose 7" "run" "run reverse --seed x" "list --bogus" "list extra"; do
      # shellcheck disable=SC2086
      out=$("$seqnet" $args 2>&1); rc=$?
      [ "$rc" -eq 2 ] || fail "'$args': expected exit code 2, got $rc: $out"
      [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "'$args': expected one line, got: $out"
      grep -q "^seqnet: .*--help" <<<"$out" || fail "'$args': no 'seqnet: ' line pointing at --help: $out"
    done
    touch "$tmp/file"
    out=$("$seqnet" run reverse --out "$tmp/file/sub" 2>&1); rc=$?
    [ "$rc" -eq 1 ] || fail "unwritable --out: expected exit code 1, got $rc: $out"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
