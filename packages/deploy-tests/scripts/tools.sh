#!/usr/bin/env bash
# Installs, once, the tools the deployment checks run (into $SB_TOOLS, default ~/.cache/session-bot):
#   kustomize            go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION
#   kubernetes-validate  a Python venv with the PyPI package (ships the official JSON schemas)
# Idempotent and quiet when both are there. The tests find them through the same paths.
set -euo pipefail
SB_TOOLS=${SB_TOOLS:-$HOME/.cache/session-bot}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.7.1}
KUBERNETES_VALIDATE_VERSION=${KUBERNETES_VALIDATE_VERSION:-1.37.0}
say() { printf 'deploy-tests tools: %s\n' "$*" >&2; }
mkdir -p "$SB_TOOLS/bin"

if ! "$SB_TOOLS/bin/kustomize" version 2>/dev/null | grep -q "${KUSTOMIZE_VERSION#v}"; then
  command -v go >/dev/null 2>&1 || { say "Go is needed to install kustomize (apt-get install golang-go)"; exit 1; }
  say "installing kustomize $KUSTOMIZE_VERSION (go install)"
  (cd /tmp && CGO_ENABLED=0 GOBIN="$SB_TOOLS/bin" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION")
fi

venv=$SB_TOOLS/venv-k8s
if ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KUBERNETES_VALIDATE_VERSION"; then
  py=$(command -v python3 || true)
  [[ -n $py ]] || { say "python3 is needed for kubernetes-validate"; exit 1; }
  say "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI, venv $venv)"
  "$py" -m venv "$venv" 2>/dev/null || { say "python3 -m venv failed: apt-get install python3-venv"; exit 1; }
  "$venv/bin/pip" install -q "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
