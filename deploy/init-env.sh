#!/usr/bin/env bash
# Creates .env from .env.example (once) and fills every empty secret (NATS_*_PASSWORD,
# GATEWAY_ADMIN_TOKEN) with a fresh random value; creates deploy/secrets/session_mnemonic (empty,
# mode 0600) so compose can mount it. Never overwrites a value that is already set.
#   ./deploy/init-env.sh [env-file]        (default: .env at the repository root)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file=${1:-$root/.env}
umask 077
[[ -f $env_file ]] || cp "$root/.env.example" "$env_file"
chmod 600 "$env_file"
random() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
for key in NATS_BROKER_PASSWORD NATS_PLUGIN_HOST_PASSWORD NATS_GATEWAY_PASSWORD GATEWAY_ADMIN_TOKEN; do
  if grep -q "^${key}=$" "$env_file"; then
    sed -i "s/^${key}=$/${key}=$(random)/" "$env_file"
  elif ! grep -q "^${key}=" "$env_file"; then
    printf '%s=%s\n' "$key" "$(random)" >>"$env_file"
  fi
done
mkdir -p "$root/deploy/secrets"
[[ -f $root/deploy/secrets/session_mnemonic ]] || : >"$root/deploy/secrets/session_mnemonic"
echo "init-env: $env_file is ready (secrets filled; values not shown)" >&2
