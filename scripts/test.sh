#!/usr/bin/env bash
# Runs every test of session_bot on a fresh Debian/Ubuntu machine: installs what is missing
# (scripts/bootstrap.sh), then builds, lints, typechecks, checks generated files and runs
# the unit and integration tests of every package (turbo), then the Python SDK's tests and the
# docker compose end-to-end run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/bootstrap.sh

cleanup() { docker ps -aq --filter label=org.testcontainers=true 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true; }
trap cleanup EXIT

status=0
# Two cores: run at most two packages' tasks at a time.
pnpm exec turbo run build lint typecheck check:generated test --concurrency=2 --continue --output-logs=new-only "$@" || status=1

# The Python plugin SDK (its own venv; interop tests use the TypeScript packages built above).
sdks/python/run-tests.sh || status=1

# The deployment end to end: build the images, run the compose stack on the devnet, scale and
# kill workers (docs/deploy.md). Needs the Docker engine that bootstrap prepared.
pnpm --filter @session-bot/deploy-tests test:e2e || status=1

exit $status
