#!/usr/bin/env bash
# Starts the local PostgreSQL the tests use (127.0.0.1:5432) and creates their role, which
# may create and drop its own databases and force a checkpoint (the benchmarks settle a bulk
# load before measuring), nothing more. Safe to run again.
source "$(dirname "$0")/lib.sh"

ROLE=countersign_test
PASSWORD=countersign_test

command -v pg_lsclusters >/dev/null || die "PostgreSQL is not installed: run scripts/deps.sh"
cluster=$(pg_lsclusters --no-header | awk '$3 == 5432 {print $1" "$2; exit}')
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  say "creating PostgreSQL $version cluster 'main' on port 5432"
  as_root pg_createcluster "$version" main --port 5432 >/dev/null
  cluster="$version main"
fi
read -r version name <<<"$cluster"
if ! pg_lsclusters --no-header | awk -v v="$version" -v n="$name" '$1 == v && $2 == n {print $4}' | grep -q online; then
  say "starting PostgreSQL $version/$name"
  as_root pg_ctlcluster "$version" "$name" start
fi

psql_admin() { as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
for _ in $(seq 1 50); do
  psql_admin "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.2
done
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  say "creating the test role $ROLE (LOGIN CREATEDB)"
  psql_admin "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi
# pg_checkpoint exists from PostgreSQL 15 on.
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = 'pg_checkpoint'")" = "1" ] &&
  [ "$(psql_admin "SELECT pg_has_role('$ROLE', 'pg_checkpoint', 'member')")" != "t" ]; then
  psql_admin "GRANT pg_checkpoint TO $ROLE" >/dev/null
fi
