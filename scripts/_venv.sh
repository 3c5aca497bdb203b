# Shared by scripts/run and scripts/test: make .venv and install the pinned requirements once
# (again only when a requirements file changes), then compile the translations.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "AuthVault needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2; exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
install_reqs() {  # $1 = requirements file
  local stamp=".venv/.installed-$(basename "$1" .txt)-$(cat requirements*.txt | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r "$1"
    touch "$stamp"
  fi
}
compile_translations() {
  .venv/bin/pybabel -q compile -d authvault/translations
}
