#!/usr/bin/env bash
# Set up docexchange on Debian: system packages (installed only when missing), a virtual
# environment in .venv with the project and its pinned ranges, compiled translations.
#   bash scripts/setup.sh          what the server needs
#   bash scripts/setup.sh --test   also what the test suite needs (Chromium, dev tools)
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
[ "${1:-}" = "--test" ] && with_test=1

apt_needed=()
command -v softhsm2-util >/dev/null 2>&1 || apt_needed+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || apt_needed+=(opensc)
command -v python3.11 >/dev/null 2>&1 || apt_needed+=(python3.11)
python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_needed+=(python3.11-venv)
[ -f /usr/share/zoneinfo/Asia/Ho_Chi_Minh ] || apt_needed+=(tzdata)
# pg_dump and pg_restore for `docexchange backup` / `restore` on PostgreSQL.
command -v pg_dump >/dev/null 2>&1 || apt_needed+=(postgresql-client)
# The Unicode font embedded in visible signatures (Vietnamese letters).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || apt_needed+=(fonts-dejavu-core)
if [ "$with_test" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || apt_needed+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || apt_needed+=(chromium-driver)
  # An independent PDF signature validator (poppler + NSS) for the signing tests.
  command -v pdfsig >/dev/null 2>&1 || apt_needed+=(poppler-utils)
  command -v certutil >/dev/null 2>&1 || apt_needed+=(libnss3-tools)
fi
if [ "${#apt_needed[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_needed[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_needed[@]}" >/dev/null
fi

python=python3.11
[ -x .venv/bin/python ] || "$python" -m venv .venv
extras=""
[ "$with_test" = 1 ] && extras="[dev]"
# Reinstall only when pyproject.toml or the wanted extras changed.
stamp=".venv/.docexchange-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras}"
  echo "$want" >> "$stamp"
fi
.venv/bin/pybabel -q compile -d docexchange/translations -D messages
echo "setup: ready"
