#!/usr/bin/env bash
# ctest's Python.pytest: the package's tests in the virtual environment that
# `make python` fills (`make test` does that first). Exit 77 (skipped) when
# there is none.
#   run_pytest.sh REPO_ROOT SEQNET_CLI
set -euo pipefail
root="$1"
py="$root/.venv/bin/python"
if [[ ! -x "$py" ]]; then
  echo "skipped: no $root/.venv (run 'make python', which 'make test' does)"
  exit 77
fi
cd "$root"
SEQNET_CLI="$2" exec "$py" -m pytest -q -p no:cacheprovider "$root/python/tests"
