#!/usr/bin/env bash
# The crafted inputs of tests/hostile (small sizes), each run by the seqnet
# program under ulimit -v 4000000: every one must end in a clear one-line
# error. Usage: hostile_test.sh SEQNET_PROGRAM [--full]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
python3="$(command -v python3)"
[ -x /usr/bin/python3 ] && python3=/usr/bin/python3
"$python3" "$here/make_inputs.py" "$dir" "${@:2}"
"$python3" "$here/run.py" "$1" "$dir"
