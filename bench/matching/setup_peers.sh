#!/usr/bin/env bash
# Create one virtual environment per peer implementation, outside the project's own venv.
# Usage: bash bench/matching/setup_peers.sh [VENV_ROOT]   (default: bench/.venvs,
# ignored by the top-level .gitignore; never commit the venvs)
set -u
ROOT="${1:-$(cd "$(dirname "$0")/.." && pwd)/.venvs}"
PY="${PYTHON:-python3.11}"
mkdir -p "$ROOT"
status=0

echo "== pymarket -> $ROOT/pymarket"
"$PY" -m venv "$ROOT/pymarket"
if ! "$ROOT/pymarket/bin/pip" install -q pymarket "pandas<3"; then
    echo "pymarket: install failed" >&2; status=1
fi

echo "== assume-framework -> $ROOT/assume"
"$PY" -m venv "$ROOT/assume"
if ! "$ROOT/assume/bin/pip" install -q assume-framework highspy; then
    echo "assume-framework: install failed" >&2; status=1
fi
exit $status
