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
      grep -q "^$n " <<<"$out" || fail "'$n' missing from: $out"
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
  bad_option)
    out=$("$seqnet" run reverse --verbose 7 2>&1); rc=$?
    [ "$rc" -ne 0 ] || fail "expected a non-zero exit code"
    grep -qi "verbose" <<<"$out" || fail "the option is not named in: $out"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "ok ($case_name)"
