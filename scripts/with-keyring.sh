#!/usr/bin/env bash
# Runs a command inside a private D-Bus session bus with an unlocked, throw-away gnome-keyring
# (Secret Service), so keychain code (keytar / @napi-rs/keyring via libsecret) works headless and
# never touches the user's real keyring.
#
#   scripts/with-keyring.sh <command> [args...]        e.g. scripts/with-keyring.sh vitest run
#
# Only the keyring daemon gets the throw-away HOME/XDG dirs; the command keeps the caller's
# environment (HOME, XDG_*, PATH, ...) plus DBUS_SESSION_BUS_ADDRESS and GNOME_KEYRING_CONTROL,
# which child processes (e.g. vitest workers) inherit. The daemon dies with the private bus when
# the command ends; the keyring directory is then deleted. Exit status: the command's.
#
# Env: AETHER_KEYRING_PASSWORD (default: a fixed test password; must be non-empty, otherwise the
# keyring stays locked and gnome-keyring tries to open a GUI prompt).
# Needs: dbus-run-session (apt: dbus), gnome-keyring-daemon (apt: gnome-keyring), and for the
# clients libsecret (apt: libsecret-1-0).
set -euo pipefail

me="$(basename "$0")"

if [ "$#" -eq 0 ]; then
  echo "usage: $me <command> [args...]" >&2
  exit 2
fi

missing=""
command -v dbus-run-session >/dev/null 2>&1 || missing="$missing dbus-run-session"
command -v gnome-keyring-daemon >/dev/null 2>&1 || missing="$missing gnome-keyring-daemon"
if [ -n "$missing" ]; then
  echo "$me: missing:$missing. Install the packages: sudo apt-get install -y gnome-keyring dbus libsecret-1-0" >&2
  exit 1
fi

# Already inside a keyring session (nested call): just run the command.
if [ "${AETHER_KEYRING_SESSION:-}" = "1" ] && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ -n "${GNOME_KEYRING_CONTROL:-}" ]; then
  exec "$@"
fi

if [ "${AETHER_KEYRING_STAGE:-}" != "inner" ]; then
  # Outer stage: create the throw-away keyring home and re-run this script inside a private bus.
  # (The inner stage deletes the directory when the command has ended.)
  keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/aether-keyring.XXXXXX")"
  export AETHER_KEYRING_STAGE=inner AETHER_KEYRING_HOME="$keyring_home"
  exec dbus-run-session -- "$0" "$@"
fi

# Inner stage: we are on the private session bus (DBUS_SESSION_BUS_ADDRESS set by dbus-run-session).
keyring_home="${AETHER_KEYRING_HOME:?}"
unset AETHER_KEYRING_STAGE AETHER_KEYRING_HOME
mkdir -p -m 700 "$keyring_home/home/.local/share" "$keyring_home/home/.config" "$keyring_home/runtime"

password="${AETHER_KEYRING_PASSWORD:-aether-remote-test-keyring}"
if [ -z "$password" ]; then
  echo "$me: AETHER_KEYRING_PASSWORD must not be empty (an empty password leaves the keyring locked)" >&2
  rm -rf "$keyring_home"
  exit 1
fi

# Start the daemon (foreground mode, as our background job, so we know its pid) with a private
# HOME, XDG dirs and runtime dir: it neither reads the user's keyrings nor attaches to a desktop
# keyring daemon through $XDG_RUNTIME_DIR/keyring. --unlock reads the password from stdin and
# creates/unlocks the login keyring with it.
printf '%s' "$password" |
  env -u GNOME_KEYRING_CONTROL \
    HOME="$keyring_home/home" \
    XDG_DATA_HOME="$keyring_home/home/.local/share" \
    XDG_CONFIG_HOME="$keyring_home/home/.config" \
    XDG_RUNTIME_DIR="$keyring_home/runtime" \
    gnome-keyring-daemon --foreground --unlock --components=secrets \
    >"$keyring_home/daemon.log" 2>&1 &
daemon_pid=$!

control="$keyring_home/runtime/keyring"
ready=""
for _ in $(seq 1 100); do
  if ! kill -0 "$daemon_pid" 2>/dev/null; then break; fi
  if [ -S "$control/control" ]; then
    if ! command -v dbus-send >/dev/null 2>&1 ||
      dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
        string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
      ready=1
      break
    fi
  fi
  sleep 0.05
done
if [ -z "$ready" ]; then
  echo "$me: gnome-keyring-daemon did not come up on the private bus:" >&2
  cat "$keyring_home/daemon.log" >&2 || true
  kill "$daemon_pid" 2>/dev/null || true
  rm -rf "$keyring_home"
  exit 1
fi

# The daemon does not exit when the bus goes away. A detached watchdog waits for this process
# (which becomes the command through exec below), then stops the daemon and deletes the keyring.
command_pid=$$
(
  trap '' INT TERM HUP
  while kill -0 "$command_pid" 2>/dev/null; do sleep 0.5; done
  kill "$daemon_pid" 2>/dev/null || true
  sleep 0.2
  rm -rf "$keyring_home"
) </dev/null >/dev/null 2>&1 &

export GNOME_KEYRING_CONTROL="$control" DBUS_SESSION_BUS_ADDRESS
export AETHER_KEYRING_SESSION=1
# Tells the keychain tests that this bus is a private, throw-away one (they refuse to run otherwise).
export AETHER_PRIVATE_KEYRING=1
exec "$@"
