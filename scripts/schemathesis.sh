#!/usr/bin/env bash
# `make test`'s contract check: schemathesis (property-based API testing) against the real
# server, from the OpenAPI document the server publishes at /v1/openapi.json. Every operation
# gets generated valid and invalid input; every answer is checked against the document (status,
# content type, body schema), and no answer may be a 5xx. Runs the built debug binary on a
# fresh demo database on a free loopback port, signed in as an administrator; the operations
# only other roles may call run again as those roles. Exits non-zero on any failure.
source "$(dirname "$0")/lib.sh"

VERSION=4.32.5
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/countersign/venv-schemathesis"
SERVER_BIN="$CARGO_TARGET_DIR/debug/countersign-server"
# Test cases per operation and phase: the whole script takes about a minute on a
# 2-core machine. Raise it for a deeper run: SCHEMATHESIS_MAX_EXAMPLES=200 scripts/schemathesis.sh
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
DEMO_PASSWORD=countersign-demo

[ -x "$SERVER_BIN" ] || die "build first: make test does it ($SERVER_BIN is missing)"

if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $VERSION" ]; then
  say "installing schemathesis $VERSION into $VENV"
  command -v python3 >/dev/null || die "python3 is missing: run scripts/deps.sh --test"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 cannot make a venv: run scripts/deps.sh --test"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup INT TERM EXIT

# A deeper run takes longer than the default 15-minute access token lives.
export COUNTERSIGN_AUTH__ACCESS_TTL_SECS=7200
"$SERVER_BIN" --data-dir "$work/data" seed-demo >/dev/null

# Port 0: the OS picks a free port, and the server prints the address it got as its first
# line. Reading it through a pipe waits exactly until the server listens.
mkfifo "$work/stdout"
"$SERVER_BIN" --data-dir "$work/data" serve --port 0 <"/dev/null" >"$work/stdout" 2>"$work/server.log" &
server=$!
exec 4<"$work/stdout"
IFS= read -r -t 60 line <&4 || { cat "$work/server.log" >&2; die "the server did not start"; }
cat <&4 >/dev/null &
url="${line#listening on }"
[[ "$url" == http://127.0.0.1:* ]] || die "unexpected first line from the server: $line"
say "server at $url ($("$VENV/bin/schemathesis" --version))"

# Sign in before the fuzzing starts: its failed sign-ins throttle this source address.
token() {
  curl -fsS -X POST "$url/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$DEMO_PASSWORD\",\"device_name\":\"schemathesis\"}" |
    "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])'
}
# The roles' own operations run first: the administrator's run transfers and departs people
# it finds in the directory, which ends their sessions.
auditor=$(token zhu.lin)      # the audit log is the auditors' alone
process=$(token wei.dong)     # proposing template versions is the process admins'
admin=$(token wu.gang)        # employee, manager, it_admin, admin

failed=0
run() {
  local who="$1" bearer="$2"
  shift 2
  say "schemathesis as $who"
  (cd "$work" && "$VENV/bin/schemathesis" --no-color --config-file "$REPO_ROOT/scripts/schemathesis.toml" \
    run "$url/v1/openapi.json" --max-examples "$MAX_EXAMPLES" \
    --generation-database none --seed 4 -H "Authorization: Bearer $bearer" "$@") || failed=1
}
run "zhu.lin (auditor)" "$auditor" --include-path /v1/audit
run "wei.dong (process administrator)" "$process" --include-path /v1/templates/proposals
run "wu.gang (administrator)" "$admin"

if [ "$failed" -ne 0 ]; then
  warn "server log: the last lines"
  tail -n 40 "$work/server.log" >&2
  die "schemathesis found answers that break the published contract (above)"
fi
say "schemathesis: every operation answered as its OpenAPI document says"
