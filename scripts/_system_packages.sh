# Sourced by scripts/test: the Debian packages the tests use, installed with apt-get when missing.
#
#   chromium       headless browser for tests/browser/ (Playwright drives it; nothing is downloaded)
#   libnss3-tools  certutil, to make the browser trust AuthVault's local CA in the HTTPS test
#   apache2-bin    httpd with mod_dav, for the WebDAV backup tests: binaries and modules only, no
#                  system service (the `apache2` package would start one on port 80)
#
# As root apt-get runs directly; otherwise through sudo (which may ask for your password). Without
# either, or without apt-get, it says what to install and goes on: those tests then skip (under
# CI=true they fail).

# package|how to tell it is installed
SYSTEM_PACKAGES=(
  "chromium|command -v chromium"
  "libnss3-tools|command -v certutil"
  "apache2-bin|test -x /usr/sbin/apache2 -a -f /usr/lib/apache2/modules/mod_dav_fs.so"
)

missing_system_packages() {
  local entry
  for entry in "${SYSTEM_PACKAGES[@]}"; do
    eval "${entry#*|}" >/dev/null 2>&1 || printf '%s\n' "${entry%%|*}"
  done
}

install_system_packages() {
  local missing sudo=()
  missing=$(missing_system_packages | tr '\n' ' ')
  missing=${missing% }
  [ -n "$missing" ] || return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test: no apt-get here; install these (or your system's equivalents) for the tests that need them: $missing" >&2
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "scripts/test: not root and no sudo; as root run: apt-get install -y $missing" >&2
      return 0
    fi
    sudo=(sudo)
    [ -t 0 ] || sudo=(sudo -n)  # no terminal to ask for a password on: fail instead of hanging
  fi
  echo "scripts/test: installing Debian packages for the tests: $missing" >&2
  # `env` passes the variable through sudo and, as root, keeps it an assignment (not a command).
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }; then
    echo "scripts/test: could not install $missing; the tests that need them skip (fail under CI)" >&2
  fi
}
