#!/usr/bin/env bash
# Copies the NATS permission file to the k8s base (kustomize reads only files below a
# kustomization). The deploy-tests check fails while the two copies differ.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cp "$root/deploy/nats/auth.conf" "$root/k8s/base/nats/auth.conf"
