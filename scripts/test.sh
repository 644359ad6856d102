#!/usr/bin/env bash
# Run every test on a fresh machine: install what the tests need (Debian packages, npm
# dependencies, a real OpenClaw gateway), then type-check, lint, build and run the whole vitest
# suite inside a private keychain session. Ends with the plain line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1

# 1. System packages: libsecret headers (keytar builds from source), GNOME Keyring and D-Bus
#    (a real Secret Service for the keychain tests), and Chromium (the renderer end-to-end tests
#    drive the built renderer in /usr/bin/chromium through playwright-core).
need_apt=()
command -v dbus-run-session >/dev/null 2>&1 || need_apt+=(dbus)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need_apt+=(gnome-keyring)
pkg-config --exists libsecret-1 2>/dev/null || need_apt+=(libsecret-1-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "# installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. npm dependencies, exactly as locked.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "# npm ci" >&2
  npm ci --no-audit --no-fund
fi

# 3. The real gateway (Node 24 + openclaw from the npm registry, cached between runs).
scripts/install-test-gateway.sh >&2

# 4. Static checks and the build.
npm run -s typecheck
npm run -s lint
npm run -s build >/dev/null

# 5. The tests, in a private D-Bus session with an unlocked throw-away keyring.
mkdir -p test-output
status=0
scripts/with-keyring.sh npx vitest run --reporter=default --reporter=json --outputFile=test-output/vitest-results.json || status=$?
if [ -f test-output/vitest-results.json ]; then
  node -e '
    const r = require("./test-output/vitest-results.json");
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  '
else
  echo "0 passed, 1 failed"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
