#!/usr/bin/env bash
# Creates .env from .env.example (once) and fills every empty NATS_*_PASSWORD with a fresh random
# value; creates the secret files compose mounts, when missing (mode 0600, in deploy/secrets/):
# gateway_admin_tokens (one random token) and session_mnemonic (empty: development uses
# BROKER_DEV_IDENTITY=1; production puts the bot's mnemonic there). Never overwrites anything.
#   ./deploy/init-env.sh [env-file]        (default: .env at the repository root)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file=${1:-$root/.env}
umask 077
[[ -f $env_file ]] || cp "$root/.env.example" "$env_file"
chmod 600 "$env_file"
random() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
# nats-server parses an environment variable's value as a config token: a value that looks like a
# number ("4e5a...") breaks the config, so NATS passwords start with letters.
nats_password() { printf 'sb%s' "$(random)"; }
for key in NATS_BROKER_PASSWORD NATS_PLUGIN_HOST_PASSWORD NATS_GATEWAY_PASSWORD; do
  if grep -q "^${key}=$" "$env_file"; then
    sed -i "s/^${key}=$/${key}=$(nats_password)/" "$env_file"
  elif ! grep -q "^${key}=" "$env_file"; then
    printf '%s=%s\n' "$key" "$(nats_password)" >>"$env_file"
  fi
done
# Compose bind-mounts secret files with their host owner and mode, and the services run as uid
# 1000: the files are world-readable (0644) inside a directory only its owner may enter (0700).
secrets=${SB_SECRETS_DIR:-$root/deploy/secrets}
mkdir -p "$secrets" && chmod 700 "$secrets"
if [[ ! -f $secrets/gateway_admin_tokens ]]; then
  random >"$secrets/gateway_admin_tokens" && chmod 644 "$secrets/gateway_admin_tokens"
fi
if [[ ! -f $secrets/session_mnemonic ]]; then
  : >"$secrets/session_mnemonic" && chmod 644 "$secrets/session_mnemonic"
fi
echo "init-env: $env_file is ready (secrets filled; values not shown)" >&2
