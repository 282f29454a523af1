#!/usr/bin/env bash
# `make run`: the demo. Starts countersign-server on its embedded SQLite file with the demo
# organisation, then the desktop app pointed at it. Without a display it runs the app under
# Xvfb (with a private D-Bus session and keyring), saves a screenshot of the sign-in screen
# and says where. Ctrl-C stops everything. A second run reuses the data.
source "$(dirname "$0")/lib.sh"

DATA_DIR="${COUNTERSIGN_DATA_DIR:-$HOME/.local/share/countersign-server}"
PORT="${COUNTERSIGN_PORT:-8470}"
SERVER_URL="http://127.0.0.1:$PORT"
SERVER_BIN="$CARGO_TARGET_DIR/debug/countersign-server"
APP_BIN="$CARGO_TARGET_DIR/debug/countersign-desktop"
SHOTS="$REPO_ROOT/artifacts/run"

[ -x "$SERVER_BIN" ] && [ -x "$APP_BIN" ] || die "build first: make run does it"

# No display: start a private session bus first and come back inside it.
# The bus daemon's chatter (services it activates for WebKit) goes to a log; this script's
# own messages come back to the terminal through fd 3.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${COUNTERSIGN_HEADLESS:-}" ]; then
  say "no display: running the app under Xvfb with a private D-Bus session"
  mkdir -p "$DATA_DIR"
  exec 3>&2
  exec dbus-run-session -- env COUNTERSIGN_HEADLESS=1 "$0" "$@" 2>>"$DATA_DIR/session.log"
fi
if [ -n "${COUNTERSIGN_HEADLESS:-}" ] && { true >&3; } 2>/dev/null; then
  exec 2>&3 3>&-
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  say "stopping"
  # The server drains requests on SIGTERM; the rest just stop.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

if [ -n "${COUNTERSIGN_HEADLESS:-}" ]; then
  # The Secret Service the app keeps its sign-in in; its keyring lives beside the demo data.
  mkdir -p "$DATA_DIR/headless-keyring"
  printf 'countersign-demo-keyring' |
    XDG_DATA_HOME="$DATA_DIR/headless-keyring" gnome-keyring-daemon --foreground --unlock \
      --components=secrets >/dev/null 2>&1 &
  pids+=($!)
  gdbus wait --session --timeout 20 org.freedesktop.secrets ||
    die "the keyring service did not start"
  Xvfb -displayfd 1 -nolisten tcp -screen 0 1280x800x24 >"$DATA_DIR/xvfb.display" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 1 100); do [ -s "$DATA_DIR/xvfb.display" ] && break; sleep 0.1; done
  export DISPLAY=":$(head -1 "$DATA_DIR/xvfb.display")"
fi

mkdir -p "$DATA_DIR"
say "database: $DATA_DIR/countersign.db (app log: $DATA_DIR/desktop.log)"
"$SERVER_BIN" --data-dir "$DATA_DIR" seed-demo

"$SERVER_BIN" --data-dir "$DATA_DIR" serve --port "$PORT" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "$SERVER_URL/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || die "the server did not start (see above)"
  sleep 0.1
done
say "server ready at $SERVER_URL"

say "starting the desktop app"
# WebKit and GTK are talkative on stderr; their messages go to a log beside the data.
COUNTERSIGN_SERVER_URL="$SERVER_URL" "$APP_BIN" 2>>"$DATA_DIR/desktop.log" &
app=$!
pids+=("$app")

if [ -n "${COUNTERSIGN_HEADLESS:-}" ]; then
  mkdir -p "$SHOTS"
  shot="$SHOTS/sign-in.png"
  # Wait until the window shows something: the first frames are blank.
  for _ in $(seq 1 120); do
    kill -0 "$app" 2>/dev/null || die "the app exited early"
    if import -display "$DISPLAY" -window root "$shot" 2>/dev/null &&
       [ "$(identify -format '%k' "$shot" 2>/dev/null || echo 0)" -gt 50 ]; then
      break
    fi
    sleep 0.5
  done
  say "screenshot of the sign-in screen: $shot"
fi

echo
say "Sign in at $SERVER_URL with a demo account above (for example li.wei / countersign-demo)."
say "Press Ctrl-C to stop."
wait "$app" || true
