"""HTTPS with the generated local CA, in a real browser that trusts that CA.

gunicorn starts the way `scripts/run` starts it (gunicorn.conf.py, AUTHVAULT_HOST_NAME=authvault.local),
so the CA and the server certificate are made by the on_starting hook. Chromium gets a HOME whose
NSS database trusts that CA (certutil) and resolves authvault.local to 127.0.0.1; certificate errors
are NOT ignored, because the DevTools WebAuthn environment would hide them (with WebAuthn.enable, a
page with an ignored certificate error passes where a real phone gets "WebAuthn is not supported
on sites with TLS certificate errors"). Everything stays on loopback.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authvault import tls

from .conftest import CHROMIUM, CHROMIUM_ARGS, _missing, compile_translations, new_device
from .gunicorn_server import REPO, SETUP_TOKEN, GunicornServer, free_port, gunicorn_command

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

HOST = "authvault.local"
CLEARED = ("AUTHVAULT_ORIGIN", "AUTHVAULT_RP_ID", "AUTHVAULT_BEHIND_PROXY", "AUTHVAULT_TLS_CERT",
           "AUTHVAULT_TLS_KEY")

# navigator.credentials.create with a test challenge: enough to prove the TLS and RP ID checks
# (the passkey flow itself is tested with the app's own pages elsewhere).
CREATE_JS = """async ([rpId, abortAfterMs]) => {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), abortAfterMs);
  try {
    const cred = await navigator.credentials.create({signal: ctrl.signal, publicKey: {
      rp: {id: rpId || undefined, name: "AuthVault"},
      user: {id: crypto.getRandomValues(new Uint8Array(16)), name: "test", displayName: "test"},
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{type: "public-key", alg: -7}, {type: "public-key", alg: -257}],
      authenticatorSelection: {residentKey: "required", userVerification: "required"},
      timeout: abortAfterMs}});
    const clientData = JSON.parse(new TextDecoder().decode(cred.response.clientDataJSON));
    return {ok: true, type: cred.type, clientData};
  } catch (e) {
    return {ok: false, name: e.name, message: e.message};
  } finally {
    clearTimeout(timer);
  }
}"""


def _https_ready(url: str, cafile: Path) -> bool:
    try:
        ctx = ssl.create_default_context(cafile=str(cafile))
        with urllib.request.urlopen(url, timeout=2, context=ctx) as resp:
            return resp.status == 200
    except (OSError, ssl.SSLError):
        return False


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """gunicorn over HTTPS for authvault.local on a free loopback port, certificates made at start."""
    compile_translations()
    base = tmp_path_factory.mktemp("https")
    data_dir, port = base / "data", free_port()
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update({"AUTHVAULT_DATA_DIR": str(data_dir), "AUTHVAULT_HOST_NAME": HOST,
                "AUTHVAULT_BIND": f"127.0.0.1:{port}", "AUTHVAULT_WORKERS": "1",
                "AUTHVAULT_SETUP_TOKEN": SETUP_TOKEN, "PYTHONUNBUFFERED": "1"})
    log_path = base / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*gunicorn_command(), "-c", "gunicorn.conf.py", "--graceful-timeout", "5", "app:app"],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = GunicornServer(proc, port, data_dir, log_path, env=env)
    ca = tls.TlsFiles.in_data_dir(data_dir).ca_cert
    try:
        deadline = time.monotonic() + 30
        # The certificate has 127.0.0.1 among its names, so a script can check it by IP.
        while not (ca.exists() and _https_ready(f"https://127.0.0.1:{port}/api/session", ca)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not serve HTTPS:\n{server.log_text()}")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()


def _origin(server: GunicornServer) -> str:
    return f"https://{HOST}:{server.port}"


@pytest.fixture(scope="module")
def nss_home(https_server: GunicornServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME whose NSS database (what Chromium on Linux trusts) trusts the generated CA."""
    certutil = shutil.which("certutil")
    if not certutil:
        _missing("certutil is not installed: apt-get install libnss3-tools")
    home = tmp_path_factory.mktemp("home")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    ca = tls.TlsFiles.in_data_dir(https_server.data_dir).ca_cert
    subprocess.run([certutil, "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, capture_output=True)
    subprocess.run([certutil, "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "AuthVault Local CA", "-i", str(ca)],
                   check=True, capture_output=True)
    return home


def _launch(playwright_sync: Any, home: Path) -> Any:
    if not os.path.exists(CHROMIUM):
        _missing(f"Debian chromium is not installed at {CHROMIUM}: apt-get install chromium")
    return playwright_sync.chromium.launch(
        executable_path=CHROMIUM, headless=True, env={**os.environ, "HOME": str(home)},
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"])


@pytest.fixture(scope="module")
def trusting_browser(playwright_sync: Any, nss_home: Path) -> Iterator[Any]:
    """Chromium that trusts the local CA the way a phone does after /connect (no errors ignored)."""
    browser = _launch(playwright_sync, nss_home)
    yield browser
    browser.close()


def _add_authenticator(device: Any) -> None:
    cdp = device.context.new_cdp_session(device.page)  # authenticators belong to one page
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})


def test_gunicorn_serves_the_generated_certificate(https_server: GunicornServer) -> None:
    files = tls.TlsFiles.in_data_dir(https_server.data_dir)
    ctx = ssl.create_default_context(cafile=str(files.ca_cert))
    with socket.create_connection(("127.0.0.1", https_server.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as conn:
            peer = conn.getpeercert()
            assert ("DNS", HOST) in peer["subjectAltName"] and ("DNS", "localhost") in peer["subjectAltName"]
    with pytest.raises(ssl.SSLCertVerificationError):  # not trusted without the CA
        with socket.create_connection(("127.0.0.1", https_server.port), timeout=5) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname=HOST)
    log = https_server.log_text()
    assert f"Listening at: https://127.0.0.1:{https_server.port}" in log
    assert f"{_origin(https_server)}/setup?token=" in log  # the setup address printed is the HTTPS one
    for key in (files.ca_key, files.key):
        assert key.stat().st_mode & 0o777 == 0o600
    # HSTS from the real server over HTTPS (issue 12, item 7)
    with socket.create_connection(("127.0.0.1", https_server.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as conn:
            conn.sendall(f"GET /api/session HTTP/1.1\r\nHost: {HOST}:{https_server.port}\r\n"
                         "Connection: close\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
    assert b"\r\nStrict-Transport-Security: max-age=31536000\r\n" in head, head


def test_page_loads_with_a_valid_certificate_in_a_secure_context(trusting_browser: Any,
                                                                 https_server: GunicornServer) -> None:
    origin = _origin(https_server)
    device = new_device(trusting_browser, origin)
    try:
        resp = device.goto("/")
        assert resp is not None and resp.ok
        details = resp.security_details()
        assert details["subjectName"] == HOST
        assert details["issuer"].startswith("AuthVault Local CA")
        assert device.page.evaluate("window.isSecureContext") is True
        assert device.page.evaluate("location.origin") == origin
        assert device.errors == []
    finally:
        device.close()


def test_a_browser_that_does_not_trust_the_ca_refuses_the_page(playwright_sync: Any, https_server: GunicornServer,
                                                               tmp_path: Path) -> None:
    """The control: the trust above comes from the NSS database, not from ignored errors."""
    browser = _launch(playwright_sync, tmp_path)
    try:
        page = browser.new_page()
        with pytest.raises(Exception, match="ERR_CERT_AUTHORITY_INVALID"):
            page.goto(_origin(https_server) + "/")
    finally:
        browser.close()


def test_webauthn_create_works_for_the_host_name(trusting_browser: Any, https_server: GunicornServer) -> None:
    origin = _origin(https_server)
    device = new_device(trusting_browser, origin)
    try:
        _add_authenticator(device)
        device.goto("/")
        result = device.page.evaluate(CREATE_JS, [HOST, 10_000])
        assert result["ok"], result
        assert result["clientData"]["type"] == "webauthn.create"
        assert result["clientData"]["origin"] == origin
    finally:
        device.close()


def test_webauthn_passes_the_tls_check_without_the_devtools_environment(trusting_browser: Any,
                                                                        https_server: GunicornServer) -> None:
    """No virtual authenticator: the call waits for a real one until aborted, so TLS and RP ID were accepted.

    With a certificate error, Chromium would answer at once: "WebAuthn is not supported on sites
    with TLS certificate errors" (NotAllowedError); with a bad RP ID, SecurityError.
    """
    device = new_device(trusting_browser, _origin(https_server))
    try:
        device.goto("/")
        result = device.page.evaluate(CREATE_JS, [HOST, 1500])
        assert not result["ok"] and result["name"] == "AbortError", result
    finally:
        device.close()


def test_by_ip_address_passkeys_fail_and_the_connect_page_says_why(trusting_browser: Any,
                                                                   https_server: GunicornServer) -> None:
    """https://127.0.0.1 is trusted (an IP name in the certificate), yet WebAuthn refuses an IP address."""
    device = new_device(trusting_browser, f"https://127.0.0.1:{https_server.port}")
    try:
        _add_authenticator(device)
        resp = device.goto("/connect")
        assert resp is not None and resp.ok
        status = device.page.locator("#connect-status")
        assert status.get_attribute("data-reason") == "ip"
        result = device.page.evaluate(CREATE_JS, ["", 5000])
        assert not result["ok"] and result["name"] == "SecurityError", result
    finally:
        device.close()


def test_connect_page_on_a_phone(trusting_browser: Any, https_server: GunicornServer, screenshot_dir: Path) -> None:
    origin = _origin(https_server)
    device = new_device(trusting_browser, origin)
    try:
        device.goto("/connect")
        page = device.page
        assert page.locator("#connect-status").get_attribute("data-ok") == "true"
        assert page.locator(".connect-address a").inner_text() == origin
        fingerprint = tls.fingerprint(tls.load_ca_certificate(https_server.data_dir))  # type: ignore[arg-type]
        assert page.locator("#ca-fingerprint").inner_text() == fingerprint
        # The downloads work from the page (fetch in the page: same origin, same trust).
        got = page.evaluate("""async () => {
          const out = {};
          for (const a of ["#download-cer", "#download-profile", "#download-pem"]) {
            const r = await fetch(document.querySelector(a).href);
            out[a] = [r.status, r.headers.get("content-type"), (await r.arrayBuffer()).byteLength];
          }
          return out;
        }""")
        assert got["#download-cer"][:2] == [200, "application/x-x509-ca-cert"]
        assert got["#download-profile"][:2] == [200, "application/x-apple-aspen-config"]
        assert got["#download-pem"][0] == 200
        qr_loaded = page.evaluate("document.querySelector('.connect-qr').naturalWidth > 0")
        assert qr_loaded
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
        page.screenshot(path=str(screenshot_dir / "connect-phone.png"), full_page=True)
        assert device.errors == [], json.dumps(device.errors)
    finally:
        device.close()
