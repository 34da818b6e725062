#!/usr/bin/env bash
# The main job: the whole session_bot stack on one machine, offline, in the foreground —
# a local nats-server (JetStream), the Session devnet, the broker, two plugin-hosts and the
# gateway. Prints the bot's Session ID, the gateway URL and the line to chat with the bot.
# Ctrl-C stops everything (each service drains and exits).
#
#   SB_DATA_DIR   state of every part (default ./.data)   SB_NATS_PORT   (default 4222)
#   GATEWAY_PORT  (default 8080)                           SB_WORKERS     plugin-hosts (default 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SB_CONTAINERS=${SB_CONTAINERS:-0} SB_CHROMIUM=${SB_CHROMIUM:-0} . scripts/bootstrap.sh

DATA=$(mkdir -p "${SB_DATA_DIR:-.data}" && cd "${SB_DATA_DIR:-.data}" && pwd)
NATS_PORT=${SB_NATS_PORT:-4222}
GATEWAY_PORT=${GATEWAY_PORT:-8080}
WORKERS=${SB_WORKERS:-2}
export SB_BOT=${SB_BOT:-bot} NATS_URL="nats://127.0.0.1:$NATS_PORT" LOG_LEVEL=${LOG_LEVEL:-info}
mkdir -p "$DATA/nats" "$DATA/broker" "$DATA/devnet"

say() { printf '\033[1mstart:\033[0m %s\n' "$*"; }
pids=()
stop() {
  trap - INT TERM EXIT
  say "stopping"
  # Reverse start order: gateway and workers first, NATS last.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap stop INT TERM EXIT

# Each service's pino JSON, made readable and prefixed with the service's name.
pretty() { node_modules/.bin/pino-pretty --colorize --translateTime SYS:HH:MM:ss.l --ignore pid,hostname --messageFormat "[$1] {msg}"; }
run() { # name, command...
  local name=$1; shift
  "$@" > >(pretty "$name") 2>&1 &
  pids+=($!)
}
wait_for() { # what, seconds, test command...
  local what=$1 secs=$2; shift 2
  for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  say "$what did not come up in ${secs}s"; exit 1
}

say "building"
pnpm exec turbo run build --output-logs=errors-only >/dev/null

nats-server --jetstream --store_dir "$DATA/nats" --addr 127.0.0.1 --port "$NATS_PORT" > >(sed -u 's/^/[nats] /') 2>&1 &
pids+=($!)
wait_for "nats-server" 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT"

rm -f "$DATA/devnet/devnet.json"
node packages/devnet/dist/cli/devnet.js --data-dir "$DATA/devnet" > >(sed -u 's/^/[devnet] /') 2> >(pretty devnet) &
pids+=($!)
wait_for "the devnet" 30 test -s "$DATA/devnet/devnet.json"
devnet() { node -p "const d=require(process.argv[1]); $1" "$DATA/devnet/devnet.json"; }
devnet 'd.seedCertificatePem || ""' > "$DATA/devnet/seed-cert.pem"

run broker env SESSION_NETWORK=devnet \
  SESSION_SEED_URLS="$(devnet 'd.seedUrls.join(",")')" \
  SESSION_FILE_SERVER_URL="$(devnet 'd.fileServerUrl')" \
  SESSION_SNODE_SCHEME="$(devnet 'd.scheme')" \
  SESSION_SEED_CERT_FILE="$DATA/devnet/seed-cert.pem" \
  BROKER_DEV_IDENTITY=1 BROKER_DATA_DIR="$DATA/broker" BROKER_DISPLAY_NAME="${BROKER_DISPLAY_NAME:-session_bot}" \
  node services/broker/dist/main.js
wait_for "the broker" 60 curl -fsS "http://127.0.0.1:${BROKER_HTTP_PORT:-9101}/readyz"

for ((w = 1; w <= WORKERS; w++)); do
  run "plugin-host-$w" env PLUGIN_HOST_HTTP_PORT=0 PLUGIN_HOST_INSTANCE="worker-$w" node services/plugin-host/dist/main.js
done

[[ -s $DATA/gateway-token ]] || (umask 077 && node -p 'require("node:crypto").randomBytes(24).toString("base64url")' > "$DATA/gateway-token")
run gateway env GATEWAY_PORT="$GATEWAY_PORT" GATEWAY_ADMIN_TOKENS_FILE="$DATA/gateway-token" node services/gateway/dist/main.js
wait_for "the gateway" 60 curl -fsS "http://127.0.0.1:$GATEWAY_PORT/readyz"

session_id=$(curl -fsS -H "Authorization: Bearer $(cat "$DATA/gateway-token")" "http://127.0.0.1:$GATEWAY_PORT/admin/bot" | node -p 'JSON.parse(require("fs").readFileSync(0)).sessionId')
cat <<MSG

  session_bot is running (offline devnet).
  bot Session ID : $session_id
  gateway        : http://127.0.0.1:$GATEWAY_PORT/  (admin token in $DATA/gateway-token)
  talk to it     : pnpm chat -- --to $session_id
                   (or one-shot: pnpm chat -- --to $session_id --send /help --expect-reply --timeout 20)
  stop           : Ctrl-C

MSG
wait -n "${pids[@]}"
say "a service exited; stopping the rest"
