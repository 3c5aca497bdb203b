# Sourced by scripts/test: the Debian packages the tests use, installed with apt-get when missing.
#
#   chromium       headless browser for tests/browser/ (Playwright drives it; nothing is downloaded)
#   libnss3-tools  certutil, to make the browser trust AuthVault's local CA in the HTTPS test
#   apache2-bin    httpd with mod_dav, for the WebDAV backup tests: binaries and modules only, no
#                  system service (the `apache2` package would start one on port 80)
#   webkit2gtk-driver, xvfb
#                  Safari's engine (WebKitGTK's MiniBrowser over WebDriver) under a virtual X
#                  display, for the offline test in WebKit (tests/browser/test_offline_webkit_e2e.py)
#
# As root apt-get runs directly; otherwise through sudo (scripts/_apt.sh). Without either, or
# without apt-get, it says what to install and goes on: those tests then skip (under CI=true
# they fail).

# package|how to tell it is installed
SYSTEM_PACKAGES=(
  "chromium|command -v chromium"
  "libnss3-tools|command -v certutil"
  "apache2-bin|test -x /usr/sbin/apache2 -a -f /usr/lib/apache2/modules/mod_dav_fs.so"
  "webkit2gtk-driver|command -v WebKitWebDriver"
  "xvfb|command -v Xvfb"
)

missing_system_packages() {
  local entry
  for entry in "${SYSTEM_PACKAGES[@]}"; do
    eval "${entry#*|}" >/dev/null 2>&1 || printf '%s\n' "${entry%%|*}"
  done
}

install_system_packages() {
  local missing
  missing=$(missing_system_packages | tr '\n' ' ')
  missing=${missing% }
  [ -n "$missing" ] || return 0
  echo "scripts/test: the tests need Debian packages: $missing" >&2
  # shellcheck disable=SC2086  # one word per package
  if ! apt_install $missing; then
    echo "scripts/test: without $missing, the tests that need them skip (fail under CI)" >&2
  fi
}
