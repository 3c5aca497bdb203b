# Shared by scripts/run, scripts/test and scripts/install: make .venv and install the pinned
# requirements once (again only when a requirements file changes), then compile the translations.
# On Debian/Ubuntu, Python and its venv module are installed with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_apt.sh
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  apt_install python3 python3-venv || true
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "AuthVault needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2; exit 1
fi
# Debian's python3 comes without ensurepip (package python3-venv), and a venv made without it
# has no pip: make sure of both, and make a half-made .venv again.
if ! "$PY" -c 'import ensurepip' 2>/dev/null; then
  apt_install python3-venv || true
fi
if ! { [ -x .venv/bin/python ] && .venv/bin/python -c 'import pip' 2>/dev/null; }; then
  rm -rf .venv
  "$PY" -m venv .venv
fi
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
