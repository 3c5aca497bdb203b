# Sourced by the scripts: apt_install PACKAGE... installs Debian packages that are missing, as
# root directly, otherwise through sudo (which may ask for a password; without a terminal it must
# not). Without apt-get, or without root and sudo, it says what to install and returns 1.
apt_install() {
  local sudo=()
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "AuthVault: no apt-get here; install these (or your system's equivalents): $*" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "AuthVault: not root and no sudo; as root run: apt-get install -y $*" >&2
      return 1
    fi
    sudo=(sudo)
    [ -t 0 ] || sudo=(sudo -n)  # no terminal to ask for a password on: fail instead of hanging
  fi
  echo "AuthVault: installing Debian packages: $*" >&2
  # `env` passes the variable through sudo and, as root, keeps it an assignment (not a command).
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
