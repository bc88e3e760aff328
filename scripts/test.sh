#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, linters, type checks, layer contracts, then
# pytest on SQLite and on PostgreSQL. Fails on any failure, skip or empty run.
#   DOCEXCHANGE_TEST_POSTGRES_URL  PostgreSQL to test against
#                                  (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
#   DOCEXCHANGE_CORPUS             the external attack corpus (default ../shared/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

pg_url="${DOCEXCHANGE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
if [ -z "${DOCEXCHANGE_CORPUS:-}" ] && [ -d ../shared/corpus ]; then
  DOCEXCHANGE_CORPUS="$(cd ../shared/corpus && pwd)"
  export DOCEXCHANGE_CORPUS
fi

# PostgreSQL: start the local cluster if it is installed but not answering.
if ! .venv/bin/python - "$pg_url" <<'PY' >/dev/null 2>&1
import sys, sqlalchemy
sqlalchemy.create_engine(sys.argv[1]).connect().close()
PY
then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "test: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    sleep 2
  fi
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict on docexchange and pki)"
.venv/bin/mypy
echo "== import contracts"
.venv/bin/lint-imports

run_pytest() {
  local label="$1"; shift
  echo "== pytest on $label"
  set +e
  env "$@" .venv/bin/pytest -p no:cacheprovider -q
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then
    echo "test: pytest collected no tests on $label; that is a failure here" >&2
    exit 1
  fi
  [ "$rc" -eq 0 ] || exit "$rc"
}
run_pytest SQLite DOCEXCHANGE_TEST_DATABASE_URL=
run_pytest PostgreSQL "DOCEXCHANGE_TEST_DATABASE_URL=$pg_url"
echo "test: all checks passed on SQLite and PostgreSQL"
