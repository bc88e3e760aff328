#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, linters, type checks, layer contracts, then
# pytest on SQLite and on PostgreSQL, then the conformance suite on the external attack
# corpus when it is found. Fails on any failure, skip or empty run.
#   DOCEXCHANGE_TEST_POSTGRES_URL  PostgreSQL to test against
#                                  (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
#   DOCEXCHANGE_CORPUS             the external attack corpus (default ../shared/corpus)
#   DOCEXCHANGE_REQUIRE_CORPUS=1   fail when the corpus is not there (.ci/run sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

pg_url="${DOCEXCHANGE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
corpus="${DOCEXCHANGE_CORPUS:-../shared/corpus}"
have_corpus=0
if [ -d "$corpus" ]; then
  have_corpus=1
  DOCEXCHANGE_CORPUS="$(cd "$corpus" && pwd)"
  export DOCEXCHANGE_CORPUS
elif [ "${DOCEXCHANGE_REQUIRE_CORPUS:-0}" = 1 ]; then
  echo "test: the conformance corpus is required but not found at $corpus" >&2
  exit 1
fi

pg_answers() {
  .venv/bin/python - "$pg_url" <<'PY' >/dev/null 2>&1
import sys, sqlalchemy
sqlalchemy.create_engine(sys.argv[1]).connect().close()
PY
}
# PostgreSQL: start the local cluster if it is installed but not answering, and wait for it.
if ! pg_answers; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "test: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 60); do pg_answers && break; sleep 0.5; done
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
  env "$@" .venv/bin/pytest -p no:cacheprovider -q "${pytest_args[@]}"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then
    echo "test: pytest collected no tests on $label; that is a failure here" >&2
    exit 1
  fi
  [ "$rc" -eq 0 ] || exit "$rc"
}
pytest_args=(-m "not conformance")
run_pytest SQLite DOCEXCHANGE_TEST_DATABASE_URL=
run_pytest PostgreSQL "DOCEXCHANGE_TEST_DATABASE_URL=$pg_url"
echo "test: all checks passed on SQLite and PostgreSQL"

if [ "$have_corpus" = 1 ]; then
  report="$(mktemp)"
  trap 'rm -f "$report"' EXIT
  pytest_args=(-m conformance)
  run_pytest "the conformance corpus" DOCEXCHANGE_TEST_DATABASE_URL= \
    "DOCEXCHANGE_CORPUS_REPORT=$report"
  checked="$(cat "$report")"
  if [ -z "$checked" ] || [ "$checked" -eq 0 ]; then
    echo "test: the conformance suite read no corpus file" >&2
    exit 1
  fi
  echo "conformance corpus: $checked files checked"
else
  echo "conformance corpus not found at $corpus: not run (see README)"
fi
