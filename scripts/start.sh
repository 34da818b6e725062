#!/usr/bin/env bash
# Starts session_bot's stack on one machine, offline, in the foreground: a local nats-server
# with JetStream and the Session devnet; the broker, plugin-hosts and gateway join it as their
# packages land (see README). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SB_CONTAINERS=${SB_CONTAINERS:-0} SB_CHROMIUM=${SB_CHROMIUM:-0} . scripts/bootstrap.sh

DATA=${SB_DATA_DIR:-$PWD/.data}
NATS_PORT=${SB_NATS_PORT:-4222}
mkdir -p "$DATA/nats"
pids=()
stop() {
  trap - INT TERM EXIT
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

nats-server --jetstream --store_dir "$DATA/nats" --addr 127.0.0.1 --port "$NATS_PORT" &
pids+=($!)
echo "start: nats-server on nats://127.0.0.1:$NATS_PORT (JetStream, store $DATA/nats)"

pnpm exec turbo run build --output-logs=errors-only >/dev/null
if [[ -f packages/devnet/dist/cli/devnet.js ]]; then
  node packages/devnet/dist/cli/devnet.js --data-dir "$DATA/devnet" &
  pids+=($!)
fi
wait -n "${pids[@]}"
