#!/usr/bin/env bash
# Installs schemathesis (PyPI) into services/gateway/.venv for the OpenAPI fuzz test
# (test/openapi-fuzz.int.test.ts). Idempotent: does nothing when the pinned version is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION="4.32.5"
if [ -x .venv/bin/schemathesis ] && .venv/bin/schemathesis --version 2>/dev/null | grep -q "$VERSION"; then
  exit 0
fi
PY="${PYTHON:-python3}"
"$PY" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$VERSION"
.venv/bin/schemathesis --version
