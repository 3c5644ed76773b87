#!/usr/bin/env bash
# Set up everything and run the full test suite: the README's test command, called by .ci/run.
#   - system packages: Chromium (browser test), PostgreSQL 15 (storage tests) and Node.js (the
#     OpenID Connect provider of the single-sign-on test), via apt as root;
#   - a virtual environment with the CPU build of torch first, then doe with its dev extra;
#   - a throwaway PostgreSQL server on a free port, stopped and deleted on exit;
#   - ruff, mypy over the package (type checks), then pytest over tests/ (slow tests
#     included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PGBIN=/usr/lib/postgresql/15/bin

# Only what is missing: a Node.js from another source (e.g. NodeSource, which bundles npm)
# conflicts with Debian's npm package, so asking apt for both again would fail.
MISSING=()
[ -x /usr/bin/chromium ] || MISSING+=(chromium chromium-driver)
[ -x "$PGBIN/initdb" ] || MISSING+=(postgresql)
command -v npm >/dev/null || MISSING+=(nodejs npm)
if [ ${#MISSING[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${MISSING[@]}" >/dev/null
  else
    echo "Chromium, PostgreSQL 15 and Node.js are needed: run 'sudo apt-get install -y chromium chromium-driver postgresql nodejs npm' first" >&2
    exit 1
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[dev]"
# panva's oidc-provider (OpenID Certified), pinned in tests/oidc/package-lock.json
npm ci --prefix tests/oidc --no-audit --no-fund --silent

if [ -z "${DOE_TEST_POSTGRES_URL:-}" ]; then
  PGROOT=$(mktemp -d /tmp/doe-pg.XXXXXX)
  PGPORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [ "$(id -u)" -eq 0 ]; then AS_PG=(su postgres -c); chown postgres:postgres "$PGROOT"; else AS_PG=(bash -c); fi
  "${AS_PG[@]}" "$PGBIN/initdb -D $PGROOT/data -U postgres --auth=trust -E UTF8 --no-sync >$PGROOT/initdb.log"
  "${AS_PG[@]}" "$PGBIN/pg_ctl -D $PGROOT/data -l $PGROOT/pg.log -w -o '-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start >/dev/null"
  trap '"${AS_PG[@]}" "$PGBIN/pg_ctl -D $PGROOT/data -m fast -w stop >/dev/null" || true; rm -rf "$PGROOT"' EXIT
  psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 \
    -c "CREATE USER doe WITH PASSWORD 'doe' CREATEDB" -c "GRANT pg_signal_backend TO doe" -c "CREATE DATABASE doe OWNER doe"
  export DOE_TEST_POSTGRES_URL="postgresql+psycopg://doe:doe@127.0.0.1:$PGPORT/doe"
fi

.venv/bin/ruff check doe tests benchmarks app.py
.venv/bin/mypy doe
.venv/bin/pytest -p no:cacheprovider "$@"
