#!/usr/bin/env bash
# sdks/python: create/update the venv (idempotent), install the package with its test and codegen
# extras, check that the generated models match packages/protocol/schemas, run pytest.
#
# Needs: python3 >= 3.11, nats-server (NATS_SERVER_BIN or on PATH), and for the interop and
# mixed-fleet tests node on PATH with packages/chunker and services/plugin-host built (pnpm build).
# Exit status: non-zero on any failure, including "pytest collected no tests" (pytest's 5).
# Extra arguments go to pytest (e.g. ./run-tests.sh -k chunker).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
PY="${PYTHON:-python3}"
VENV="$HERE/.venv"

if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "run-tests.sh: $PY is $("$PY" --version 2>&1); session-bot-plugin needs Python >= 3.11" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

# Reinstall only when pyproject.toml changed since the last successful install.
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,codegen]"
  rm -f "$VENV"/.installed-*
  touch "$STAMP"
fi

echo "== sdks/python: generated models up to date?"
"$VENV/bin/python" scripts/generate_models.py --check

echo "== sdks/python: ruff"
"$VENV/bin/ruff" check src tests examples scripts

echo "== sdks/python: pytest"
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "run-tests.sh: pytest collected no tests (exit 5): treated as a failure" >&2
  exit 1
fi
exit "$status"
