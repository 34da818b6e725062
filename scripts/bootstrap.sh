#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build, run and test session_bot,
# then puts it on PATH. Source it (`. scripts/bootstrap.sh`); every step is skipped when done.
#
#   Node.js 24   from the npm registry (package node-linux-<arch>@24) when `node` is older
#   pnpm         the version pinned in package.json "packageManager"
#   nats-server  built with `go install` (static) when missing or older than 2.10; Go itself, when
#                missing or older than 1.21, is fetched from the Go module proxy (toolchain module)
#   Docker       through ../shared/ci/container-engine.sh when that file exists (SB_CONTAINERS=0 skips)
#   chromium     Debian's package, for the admin page's browser test (SB_CHROMIUM=0 skips)
#   dependencies `pnpm install --frozen-lockfile`
#
# Tools go to $SB_TOOLS (default ~/.cache/session-bot), never to the system's Node.js.
set -euo pipefail

SB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SB_TOOLS=${SB_TOOLS:-$HOME/.cache/session-bot}
NODE_MAJOR=24
NATS_SERVER_VERSION=${NATS_SERVER_VERSION:-v2.12}
GO_TOOLCHAIN=${GO_TOOLCHAIN:-go1.25.12}
mkdir -p "$SB_TOOLS/bin"
export PATH="$SB_TOOLS/bin:$PATH"
# Tools here must not call home: the network is closed and traffic goes to loopback only.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

say() { printf 'bootstrap: %s\n' "$*" >&2; }
apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  local sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
  [[ -n $apt_updated ]] || { $sudo apt-get update -q >/dev/null; apt_updated=1; }
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null
}

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates

# --- Node.js 24 ---------------------------------------------------------------------------
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [[ $(node_major) != "$NODE_MAJOR" ]]; then
  existing=$(ls -d "$SB_TOOLS"/node-v"$NODE_MAJOR".* 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z $existing ]]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    case $(uname -m) in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) say "unsupported CPU $(uname -m)"; exit 1 ;; esac
    tmp=$(mktemp -d)
    say "fetching Node.js $NODE_MAJOR (node-linux-$arch) from the npm registry"
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_MAJOR" >/dev/null && tar xzf node-linux-*.tgz)
    version=$("$tmp/package/bin/node" -p 'process.versions.node')
    existing="$SB_TOOLS/node-v$version"
    rm -rf "$existing" && mv "$tmp/package" "$existing" && rm -rf "$tmp"
  fi
  export PATH="$existing/bin:$PATH"
fi
say "node $(node --version)"
# Native addons (better-sqlite3) compile with node-gyp, which must use the headers of the Node.js
# that runs them: a machine-wide `nodedir` (Debian's Node.js 20 headers) would give a module that
# crashes under Node.js 24. The npm package of Node.js ships its headers beside bin/. Built
# addons are not taken from pnpm's side-effects cache, which may hold a build for other headers.
node_home=$(dirname "$(dirname "$(command -v node)")")
if [[ -f $node_home/include/node/node_version.h ]]; then export npm_config_nodedir=$node_home; fi
export npm_config_side_effects_cache=false

# --- pnpm (version pinned in package.json) ---------------------------------------------------
PNPM_VERSION=$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$SB_ROOT/package.json")
if [[ $(pnpm --version 2>/dev/null || true) != "$PNPM_VERSION" ]]; then
  if [[ ! -x $SB_TOOLS/pnpm-$PNPM_VERSION/bin/pnpm ]]; then
    say "installing pnpm $PNPM_VERSION"
    npm install --silent -g --prefix "$SB_TOOLS/pnpm-$PNPM_VERSION" "pnpm@$PNPM_VERSION" >/dev/null
  fi
  export PATH="$SB_TOOLS/pnpm-$PNPM_VERSION/bin:$PATH"
fi
say "pnpm $(pnpm --version)"

# --- nats-server -------------------------------------------------------------------------------
nats_ok() {
  local v; v=$(nats-server --version 2>/dev/null | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [[ -n $v ]] && read -r ma mi <<<"$v" && ((ma > 2 || (ma == 2 && mi >= 10)))
}
# Go: nats-server 2.12 needs Go >= 1.25. A Go >= 1.21 fetches that toolchain by itself
# (GOTOOLCHAIN=auto, from the module proxy); an older one (Debian bookworm's golang-go is 1.19) or
# none at all: the toolchain module straight from the Go module proxy.
go_minor() { go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'; }
go_ok() { local m; m=$(go_minor); [[ -n $m ]] && ((m >= 21)); }
fetch_go() {
  local dir="$SB_TOOLS/go-$GO_TOOLCHAIN" arch proxy mod
  if [[ ! -x $dir/bin/go ]]; then
    case $(uname -m) in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) say "no Go toolchain for $(uname -m)"; return 1 ;; esac
    proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}; [[ $proxy == direct || $proxy == off ]] && proxy=https://proxy.golang.org
    mod="v0.0.1-$GO_TOOLCHAIN.linux-$arch"
    command -v unzip >/dev/null 2>&1 || apt_install unzip
    say "fetching Go $GO_TOOLCHAIN from $proxy"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    curl -fsSL "$proxy/golang.org/toolchain/@v/$mod.zip" -o "$dir.tmp/go.zip"
    (cd "$dir.tmp" && unzip -q go.zip && rm go.zip)
    rm -rf "$dir" && mv "$dir.tmp/golang.org/toolchain@$mod" "$dir" && rm -rf "$dir.tmp"
  fi
  export PATH="$dir/bin:$PATH"
}
if ! nats_ok; then
  go_ok || fetch_go
  say "building nats-server $NATS_SERVER_VERSION with go install ($(go version))"
  (cd /tmp && CGO_ENABLED=0 GOBIN="$SB_TOOLS/bin" GOFLAGS=-mod=mod go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION")
fi
export NATS_SERVER_BIN=${NATS_SERVER_BIN:-$(command -v nats-server)}
say "$(nats-server --version)"

# --- container engine (testcontainers) ---------------------------------------------------------
if [[ ${SB_CONTAINERS:-1} != 0 && -f $SB_ROOT/../shared/ci/container-engine.sh ]]; then
  if ! docker info >/dev/null 2>&1 || ! docker image inspect nats:2.12 >/dev/null 2>&1; then
    say "preparing the container engine (../shared/ci/container-engine.sh)"
    bash "$SB_ROOT/../shared/ci/container-engine.sh"
  fi
fi
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-localhost}

# --- chromium (admin page test) --------------------------------------------------------------
if [[ ${SB_CHROMIUM:-1} != 0 ]] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi

# --- Python (the gateway's OpenAPI fuzz with schemathesis, sdks/python) -----------------------
py_ok() { python3 -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }
py_ok || apt_install python3 python3-venv
py_ok || { say "sdks/python needs python3 >= 3.11 with venv (found $(python3 --version 2>&1))"; exit 1; }

# --- dependencies ------------------------------------------------------------------------------
(cd "$SB_ROOT" && pnpm install --frozen-lockfile --prefer-offline --reporter=silent)
